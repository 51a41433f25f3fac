// `sync::Queue`: FIFO items, FIFO waiters, and cancel safety.
// Included once per runtime: `rt` is the runtime's crate.

/// A bounded queue with two consumers and two producers: items come out in
/// the order they went in, and blocked putters and getters are served in
/// the order they started waiting.
pub fn bounded_queue_fifo() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let queue = rt::sync::Queue::<u32>::bounded(2);
        let mut tasks = Vec::new();
        for c in ["c1", "c2"] {
            let (l, q) = (log.clone(), queue.clone());
            tasks.push(rt::spawn(async move {
                for _ in 0..3 {
                    l.push(format!("{c} waits"));
                    let item = q.get().await;
                    l.push(format!("{c} got {item:?}"));
                }
            }));
        }
        for (p, first) in [("p1", 10), ("p2", 20)] {
            let (l, q) = (log.clone(), queue.clone());
            tasks.push(rt::spawn(async move {
                for item in first..first + 3 {
                    l.push(format!("{p} puts {item}"));
                    let r = q.put(item).await;
                    l.push(format!("{p} put {item}: ok {}", r.is_ok()));
                }
            }));
        }
        // A third producer, started later, finds the queue busy.
        yield_once().await;
        let (l, q) = (log.clone(), queue.clone());
        tasks.push(rt::spawn(async move {
            for item in [30, 31] {
                l.push(format!("p3 puts {item}"));
                let r = q.put(item).await;
                l.push(format!("p3 put {item}: ok {}", r.is_ok()));
            }
        }));
        let (l, q) = (log.clone(), queue.clone());
        tasks.push(rt::spawn(async move {
            for _ in 0..2 {
                let item = q.get().await;
                l.push(format!("c3 got {item:?}"));
            }
        }));
        for task in tasks {
            task.await.unwrap();
        }
    });
    log.snapshot()
}

/// An item that logs its drop: an item dropped by a cancelled `put` shows.
struct Item(u32, #[allow(dead_code)] Guard);

/// Cancel safety: a getter cancelled after an item was reserved for it
/// passes the item on to the next getter; a getter dropped by an elapsed
/// timeout takes nothing; a putter cancelled while waiting inserts nothing
/// and passes its granted slot on.
pub fn queue_cancel_safety() -> Vec<String> {
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let queue = rt::sync::Queue::<Item>::new();
        let mut getters = Vec::new();
        for g in ["g1", "g2", "g3"] {
            let (l, q) = (log.clone(), queue.clone());
            let guard = log.guard(format!("{g}'s future"));
            getters.push(rt::spawn(async move {
                let _guard = guard;
                l.push(format!("{g} waits"));
                let item = q.get().await.map(|item| item.0);
                l.push(format!("{g} got {item:?}"));
            }));
        }
        yield_once().await; // turn 1: all three wait
        let _ = queue.put(Item(1, log.guard("item 1"))).await;
        log.push("main put 1 (reserved for g1) and cancels g1");
        getters[0].cancel();
        yield_times(3).await;

        let r = rt::timeout(Duration::ZERO, queue.get()).await;
        log.push(format!("main's timeout(0) get elapsed: {}", r.is_err()));
        let _ = queue.put(Item(2, log.guard("item 2"))).await;
        log.push("main put 2");
        for getter in getters {
            let _ = getter.await;
        }

        // Putters on a full queue of one.
        let queue = rt::sync::Queue::<Item>::bounded(1);
        let _ = queue.put(Item(10, log.guard("item 10"))).await;
        let mut putters = Vec::new();
        for (p, n) in [("p1", 11), ("p2", 12)] {
            let (l, q) = (log.clone(), queue.clone());
            let item = Item(n, log.guard(format!("item {n}")));
            putters.push(rt::spawn(async move {
                l.push(format!("{p} waits to put {n}"));
                let r = q.put(item).await;
                l.push(format!("{p} put {n}: ok {}", r.is_ok()));
            }));
        }
        yield_once().await; // both wait
        putters[0].cancel();
        log.push("main cancelled p1");
        let first = queue.get().await.map(|item| item.0);
        log.push(format!("main got {first:?}"));
        yield_times(3).await;
        let second = queue.get().await.map(|item| item.0);
        log.push(format!("main got {second:?}"));
        for putter in putters {
            let _ = putter.await;
        }
        log.push("main done");
    });
    log.snapshot()
}
