// A TCP echo over loopback. Included once per runtime: `rt` is the crate.

/// Three clients, each sending five messages of different sizes to an echo
/// server and reading each echo back in full, beside a task that keeps the
/// loop busy. Which connection's I/O is seen in which turn is timing (and
/// kettle skips the I/O poll on some busy turns, which mini does not), so
/// each line names its connection, and the test compares the lines of each
/// connection apart: the bytes, and their order within the connection.
#[allow(unused_mut)] // a runtime whose streams read through `&self` needs no `mut`
pub fn tcp_echo() -> Vec<String> {
    const CLIENTS: u8 = 3;
    let log = Log::new();
    let rt = rt::Runtime::new().unwrap();
    rt.block_on(async {
        let listener = rt::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let l = log.clone();
        let server = rt::spawn(async move {
            let mut handlers = Vec::new();
            for _ in 0..CLIENTS {
                let (mut stream, _) = listener.accept().await.unwrap();
                let l = l.clone();
                handlers.push(rt::spawn(async move {
                    // The first byte names the client.
                    let mut who = [0u8; 1];
                    let n = stream.read(&mut who).await.unwrap();
                    assert_eq!(n, 1);
                    stream.write_all(&who).await.unwrap();
                    let mut total = 0usize;
                    let mut buf = vec![0u8; 4096];
                    loop {
                        let n = stream.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        total += n;
                        stream.write_all(&buf[..n]).await.unwrap();
                    }
                    l.push(format!("conn {}: server saw end of stream after {total} bytes", who[0]));
                }));
            }
            for handler in handlers {
                handler.await.unwrap();
            }
        });
        let stop = Rc::new(Cell::new(false));
        let s = stop.clone();
        let busy = rt::spawn(async move {
            let mut turns = 0u64;
            while !s.get() {
                turns += 1;
                yield_once().await;
            }
            turns
        });
        let mut clients = Vec::new();
        for id in 1..=CLIENTS {
            let l = log.clone();
            clients.push(rt::spawn(async move {
                let mut stream = rt::net::TcpStream::connect(addr).await.unwrap();
                stream.write_all(&[id]).await.unwrap();
                let mut who = [0u8; 1];
                let mut got = 0;
                while got == 0 {
                    got = stream.read(&mut who).await.unwrap();
                }
                l.push(format!("conn {id}: server echoed the id {}", who[0]));
                for (m, size) in [1usize, 100, 4096, 16_000, 7].into_iter().enumerate() {
                    let message: Vec<u8> = (0..size).map(|i| (i * 7 + m + id as usize) as u8).collect();
                    stream.write_all(&message).await.unwrap();
                    let mut echo = vec![0u8; size];
                    let mut filled = 0;
                    while filled < size {
                        let n = stream.read(&mut echo[filled..]).await.unwrap();
                        assert!(n > 0, "the server closed early");
                        filled += n;
                    }
                    l.push(format!(
                        "conn {id}: message {m} of {size} bytes echoed intact: {}",
                        echo == message
                    ));
                }
                drop(stream);
                l.push(format!("conn {id}: client closed"));
            }));
        }
        for client in clients {
            client.await.unwrap();
        }
        server.await.unwrap();
        stop.set(true);
        let turns = busy.await.unwrap();
        log.push(format!("busy task ran: {}", turns > 0));
    });
    log.snapshot()
}
