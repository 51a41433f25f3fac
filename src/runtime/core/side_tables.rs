//! Tested: every table the loop keeps beside its tasks stays bounded by the
//! tasks alive (issue 17: a trace kept a label for every task it ever saw).
//!
//! The tables: the notes (names and timings, `task/notes.rs`), the done
//! callbacks of unfinished tasks, the finished-but-unread tasks kept while
//! timing, a trace's labels (`trace/recorder.rs`), and the block of task
//! ids the loop has reserved. 10^5 short-lived tasks go through all of
//! them at once — named, timed (debug mode), traced into a small ring, with
//! done callbacks, spawned locally and from another thread, awaited,
//! detached and cancelled — and the tables are measured as they go and
//! once every task is gone.

use std::time::Duration;

use crate::runtime::core::Core;

/// Every side table's length, read between turns.
#[derive(Debug, Default, Clone, Copy)]
struct Sizes {
    tasks: usize,
    notes: usize,
    done_callbacks: usize,
    unread: usize,
    labels: usize,
    reserved_ids: u64,
}

fn sizes(core: &Core) -> Sizes {
    let (next, end) = core.shortcuts.task_ids.get();
    Sizes {
        tasks: core.tasks.borrow().len(),
        notes: core.extras.notes.borrow().len(),
        done_callbacks: core.extras.done_callbacks.len(),
        unread: core.extras.watch.unread_len(),
        labels: core.extras.watch.trace.borrow().as_ref().map_or(0, |recorder| recorder.labels()),
        reserved_ids: end - next,
    }
}

const TRACE_CAPACITY: usize = 1024;
const BATCH: usize = 1_000;
const BATCHES: usize = 100;
/// Tasks spawned from another thread per batch, awaited there.
const REMOTE: usize = 10;

/// The bounds that must hold at every moment, with at most `handles` join
/// handles alive. The finished tasks kept for dumps are let go of two per
/// timed poll once read (`watch.rs`): twice as many as can still be read,
/// plus what the polls since the handles went have not reached yet.
fn check_bounded(sizes: Sizes, handles: usize, stale: usize) {
    assert!(sizes.notes <= sizes.tasks + sizes.unread, "notes outlive their tasks: {sizes:?}");
    assert!(sizes.done_callbacks <= sizes.tasks, "done callbacks of tasks that are gone: {sizes:?}");
    assert!(sizes.unread <= 2 * handles + stale + 2, "unread tasks kept past their handles: {sizes:?}");
    assert!(sizes.labels <= TRACE_CAPACITY, "more labels than the ring has events: {sizes:?}");
    assert!(sizes.reserved_ids <= 256, "{sizes:?}");
}

#[test]
fn a_hundred_thousand_short_lived_tasks_leave_every_side_table_as_they_found_it() {
    let rt = crate::Builder::new()
        .slow_poll_threshold(Duration::from_secs(3600))
        .trace_capacity(TRACE_CAPACITY)
        .build()
        .unwrap();
    rt.start_trace();
    let handle = rt.handle();
    let mut peak = Sizes::default();
    for batch in 0..BATCHES {
        let remote = {
            let handle = handle.clone();
            std::thread::spawn(move || (0..REMOTE).map(|_| handle.spawn(async { 1 })).collect::<Vec<_>>())
        };
        let core = rt.core.clone();
        rt.block_on(async move {
            let mut handles = Vec::with_capacity(BATCH);
            for i in 0..BATCH {
                let task = crate::task::Builder::new().name(format!("task {batch}/{i}")).spawn(async move {
                    crate::yield_now().await;
                    i
                });
                if i % 2 == 0 {
                    task.add_done_callback(|_| {});
                }
                handles.push(task);
            }
            // Every task of this batch has been polled twice: enough to
            // have let go of all of the last batch's kept tasks.
            crate::yield_now().await;
            crate::yield_now().await;
            check_bounded(sizes(&core), handles.len() + REMOTE, 0);
            for (i, task) in handles.into_iter().enumerate() {
                match i % 4 {
                    0 => assert_eq!(task.await.unwrap(), i),
                    1 => task.detach(),
                    2 => task.cancel(),
                    _ => drop(task),
                }
            }
            crate::yield_now().await;
            check_bounded(sizes(&core), REMOTE, BATCH);
            // Awaited, not `wait`ed after the loop stops: a remote spawn
            // still in the injector would never run on this thread.
            for task in remote.join().unwrap() {
                assert_eq!(task.await.unwrap(), 1);
            }
        });
        let now = sizes(&rt.core);
        check_bounded(now, 0, BATCH + REMOTE);
        peak = Sizes {
            notes: peak.notes.max(now.notes),
            unread: peak.unread.max(now.unread),
            labels: peak.labels.max(now.labels),
            ..peak
        };
    }
    // Every task is gone: a dump sweeps the unread ones whose handles went.
    rt.block_on(async { crate::yield_now().await });
    assert!(rt.tasks().is_empty(), "{:?}", rt.tasks());
    let end = sizes(&rt.core);
    assert_eq!(
        (end.tasks, end.notes, end.done_callbacks, end.unread),
        (0, 0, 0, 0),
        "{end:?}, peak {peak:?}"
    );
    assert!(end.labels <= TRACE_CAPACITY);
    let trace = rt.stop_trace();
    assert!(trace.dropped() > 0, "the ring wrapped: the bound on labels was tested");
}
