//! A TCP echo over loopback.

use crate::common::*;
use crate::{on_kettle, on_mini};

/// The lines of one connection, in the order they were logged.
fn connection(log: &[String], id: u8) -> Vec<String> {
    let prefix = format!("conn {id}: ");
    log.iter().filter(|e| e.starts_with(&prefix)).cloned().collect()
}

#[test]
fn a_tcp_echo_returns_the_same_bytes_in_the_same_order_per_connection_on_kettle_and_mini() {
    let kettle = watchdog("tcp_echo", "kettle", on_kettle::tcp_echo);
    let mini = watchdog("tcp_echo", "kettle-mini", on_mini::tcp_echo);
    // Deliberately not compared: how the connections interleave with each
    // other and with the busy task (kettle polls I/O only on some busy
    // turns; mini on every turn). Each connection's own lines are.
    for id in 1..=3 {
        let log = same_on_both(&format!("connection {id}"), connection(&kettle, id), connection(&mini, id));
        let mut expected = vec![format!("conn {id}: server echoed the id {id}")];
        for (m, size) in [1, 100, 4096, 16_000, 7].into_iter().enumerate() {
            expected.push(format!("conn {id}: message {m} of {size} bytes echoed intact: true"));
        }
        expected.push(format!("conn {id}: client closed"));
        expected.push(format!("conn {id}: server saw end of stream after 20204 bytes"));
        assert_log(&format!("connection {id}"), &log, &expected);
    }
    let last = |log: &[String]| log.last().cloned();
    assert_eq!(last(&kettle), Some("busy task ran: true".to_string()));
    assert_eq!(last(&mini), last(&kettle));
    assert_eq!(kettle.len(), 3 * 8 + 1);
    assert_eq!(mini.len(), kettle.len());
}
