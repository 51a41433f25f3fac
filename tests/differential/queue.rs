//! `sync::Queue`: FIFO items and waiters, and cancel safety.

use crate::common::*;
use crate::{on_kettle, on_mini};

#[test]
fn a_bounded_queue_serves_items_and_waiters_in_fifo_order_on_kettle_and_mini() {
    let log = run_both("bounded_queue_fifo", on_kettle::bounded_queue_fifo, on_mini::bounded_queue_fifo);
    // A put notifies the first waiting getter, which holds the item until it
    // runs; a get frees a slot for the first waiting putter — so waiters are
    // served in the order they began to wait, one turn after being notified.
    let expected = events(&[
        "c1 waits",
        "c2 waits",
        "p1 puts 10",
        "p1 put 10: ok true",
        "p1 puts 11",
        "p1 put 11: ok true",
        "p1 puts 12",
        "p2 puts 20",
        "c1 got Some(10)",
        "c1 waits",
        "c2 got Some(11)",
        "c2 waits",
        "p3 puts 30",
        "p1 put 12: ok true",
        "p2 put 20: ok true",
        "p2 puts 21",
        "c1 got Some(12)",
        "c1 waits",
        "c2 got Some(20)",
        "c2 waits",
        "p3 put 30: ok true",
        "p3 puts 31",
        "p2 put 21: ok true",
        "p2 puts 22",
        "c3 got Some(30)",
        "c1 got Some(21)",
        "p3 put 31: ok true",
        "p2 put 22: ok true",
        "c2 got Some(31)",
        "c3 got Some(22)",
    ]);
    assert_log("bounded_queue_fifo", &log, &expected);
    // And, independently of the schedule: every item out exactly once, each
    // producer's items in the order it put them.
    let mut got: Vec<&str> = log.iter().filter_map(|e| e.split("got Some(").nth(1)).collect();
    got.sort();
    assert_eq!(got, ["10)", "11)", "12)", "20)", "21)", "22)", "30)", "31)"]);
}

#[test]
fn a_cancelled_getter_or_putter_loses_no_item_on_kettle_and_mini() {
    let log = run_both("queue_cancel_safety", on_kettle::queue_cancel_safety, on_mini::queue_cancel_safety);
    let expected = events(&[
        "g1 waits",
        "g2 waits",
        "g3 waits",
        "main put 1 (reserved for g1) and cancels g1",
        // g1 is dropped holding the reservation: it passes to g2.
        "drop g1's future",
        "drop item 1",
        "g2 got Some(1)",
        "drop g2's future",
        // A getter dropped by its timeout took nothing: item 2 goes to g3.
        "main's timeout(0) get elapsed: true",
        "main put 2",
        "drop item 2",
        "g3 got Some(2)",
        "drop g3's future",
        "p1 waits to put 11",
        "p2 waits to put 12",
        "main cancelled p1",
        "drop item 10",
        "main got Some(10)",
        // p1, granted the freed slot, is dropped with its item unput; the
        // slot passes to p2.
        "drop item 11",
        "p2 put 12: ok true",
        "drop item 12",
        "main got Some(12)",
        "main done",
    ]);
    assert_log("queue_cancel_safety", &log, &expected);
}
