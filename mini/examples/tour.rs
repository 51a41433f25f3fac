//! A tour of kettle-mini: `cargo run -p kettle-mini --example tour`.
//!
//! Spawned tasks, sleeps, a timeout, `call_later` callbacks (one cancelled),
//! a task spawned from another thread, and a TCP echo over loopback — each
//! line stamped with the milliseconds since the start.

use std::time::{Duration, Instant};

use kettle_mini as k;
use kettle_mini::net::{TcpListener, TcpStream};

fn main() {
    let start = Instant::now();
    let say = move |what: &str| println!("{:>5.1} ms  {what}", start.elapsed().as_secs_f64() * 1000.0);

    let rt = k::Runtime::new().expect("a runtime");
    let handle = rt.handle();
    rt.block_on(async move {
        say("spawn three downloads of 30, 10 and 20 ms");
        let downloads: Vec<_> = [("a.txt", 30), ("b.txt", 10), ("c.txt", 20)]
            .into_iter()
            .map(|(name, ms)| {
                k::spawn(async move {
                    k::sleep(Duration::from_millis(ms)).await;
                    say(&format!("{name} downloaded"));
                    name
                })
            })
            .collect();
        for download in downloads {
            download.await.expect("no download panics");
        }
        say("all three done: together, not one after another");

        let slow = k::sleep(Duration::from_secs(60));
        match k::timeout(Duration::from_millis(15), slow).await {
            Ok(()) => say("the slow sleep finished?!"),
            Err(elapsed) => say(&format!("a 60 s sleep under a 15 ms timeout: {elapsed}")),
        }

        k::call_later(Duration::from_millis(5), move || say("call_later(5 ms) ran"));
        let cancelled = k::call_later(Duration::from_millis(5), move || say("never printed"));
        say(&format!("cancelled the other callback: {}", cancelled.cancel()));
        k::sleep(Duration::from_millis(10)).await;

        let loop_thread = std::thread::current().id();
        let from_thread = std::thread::spawn(move || handle.spawn(async { std::thread::current().id() }));
        let ran_on = from_thread.join().expect("the thread").await.expect("the remote task");
        say(&format!(
            "a task spawned from another thread ran on the loop's thread: {}",
            ran_on == loop_thread
        ));

        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let addr = listener.local_addr().expect("its address");
        let server = k::spawn(async move {
            let (mut stream, peer) = listener.accept().await.expect("a connection");
            say(&format!("server: accepted {peer}"));
            let mut buf = [0; 64];
            let n = stream.read(&mut buf).await.expect("a read");
            stream.write_all(&buf[..n]).await.expect("a write");
        });
        let mut client = TcpStream::connect(addr).await.expect("connected");
        client.write_all(b"hello, kettle").await.expect("sent");
        let mut echo = [0; 13];
        client.read_exact(&mut echo).await.expect("echoed");
        say(&format!("client: the echo says {:?}", String::from_utf8_lossy(&echo)));
        server.await.expect("the server task");

        let doomed = k::spawn(async move {
            k::sleep(Duration::from_secs(60)).await;
            say("never printed either");
        });
        k::yield_now().await; // let it start its sleep
        doomed.cancel();
        say(&format!("cancelled a sleeping task: {}", doomed.await.unwrap_err()));
    });
    say("done");
}
