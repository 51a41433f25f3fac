//! What every example runs in its host: a TCP echo over loopback, a timer
//! chain, work spawned from one of the host's own callbacks, and work sent
//! from another thread; each prints what happened and when.
//!
//! Nothing here knows which host turns kettle: the point of the examples is
//! that the same kettle code runs unchanged in each.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use kettle::Runtime;
use kettle::net::{TcpListener, TcpStream};

/// The four pieces of the scenario, started; [`Scenario::is_done`] once all
/// have finished.
pub struct Scenario {
    start: Instant,
    done: Rc<Cell<u32>>,
    remote: Option<std::thread::JoinHandle<()>>,
}

/// How many pieces finish: echo, timer chain, host spawn, remote work.
const PIECES: u32 = 4;

impl Scenario {
    /// Starts the echo, the timer chain and the remote work on `rt`. The
    /// host spawn is the host's to do: [`Scenario::spawn_from_host`] from
    /// one of its callbacks.
    pub fn start(rt: &Runtime) -> Scenario {
        let start = Instant::now();
        let done = Rc::new(Cell::new(0));

        // The server binds inside its task (kettle's sockets register with
        // the runtime they are made in) and hands its address to the client.
        let (port_tx, port_rx) = kettle::sync::oneshot::channel();
        rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
            let _ = port_tx.send(listener.local_addr().expect("the listener's address"));
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 64];
            loop {
                let n = stream.read(&mut buf).await.expect("read");
                if n == 0 {
                    break;
                }
                stream.write_all(&buf[..n]).await.expect("write");
            }
        })
        .detach();
        let finished = done.clone();
        rt.spawn(async move {
            let addr = port_rx.await.expect("the server's address");
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream.write_all(b"hello, host loop").await.expect("write");
            let mut echo = [0u8; 16];
            stream.read_exact(&mut echo).await.expect("read the echo");
            println!("{:7.2} ms  echo over loopback: {:?}", ms(start), String::from_utf8_lossy(&echo));
            finished.set(finished.get() + 1);
        })
        .detach();

        let finished = done.clone();
        rt.spawn(async move {
            for link in 1..=3 {
                let asked = Instant::now();
                kettle::sleep(Duration::from_millis(10)).await;
                let late = asked.elapsed().saturating_sub(Duration::from_millis(10));
                println!(
                    "{:7.2} ms  timer {link}/3 of a 10 ms chain fired, {:.3} ms late",
                    ms(start),
                    secs_ms(late)
                );
            }
            finished.set(finished.get() + 1);
        })
        .detach();

        let handle = rt.handle();
        let remote = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(15));
            let sent = Instant::now();
            let ran = handle.spawn(async move { sent.elapsed() }).wait().expect("the remote task ran");
            println!(
                "           remote work from another thread ran {:.3} ms after it was sent",
                secs_ms(ran)
            );
        });
        Scenario { start, done, remote: Some(remote) }
    }

    /// What a host callback does: spawns a task (`rt.spawn` from host code,
    /// between turns). The fd must wake the host for it.
    pub fn spawn_from_host(&self, rt: &Runtime) {
        let (start, finished, spawned) = (self.start, self.done.clone(), Instant::now());
        rt.spawn(async move {
            println!(
                "{:7.2} ms  a task spawned from a host callback ran {:.3} ms after the spawn",
                ms(start),
                secs_ms(spawned.elapsed())
            );
            finished.set(finished.get() + 1);
        })
        .detach();
    }

    /// A callback for [`HostLoop::call_from_host`](crate::HostLoop::call_from_host)
    /// that calls [`spawn_from_host`](Scenario::spawn_from_host).
    pub fn host_callback(&self) -> crate::HostCallback {
        let me = Scenario { start: self.start, done: self.done.clone(), remote: None };
        Box::new(move |rt| me.spawn_from_host(rt))
    }

    /// Whether every piece has finished (the remote thread included).
    pub fn is_done(&mut self) -> bool {
        if self.remote.as_ref().is_some_and(|remote| remote.is_finished()) {
            self.remote.take().unwrap().join().expect("the remote thread panicked");
            self.done.set(self.done.get() + 1);
        }
        self.done.get() == PIECES
    }

    /// Milliseconds since the scenario started.
    pub fn elapsed_ms(&self) -> f64 {
        ms(self.start)
    }
}

fn ms(since: Instant) -> f64 {
    secs_ms(since.elapsed())
}

fn secs_ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Runs the scenario in `host` until every piece has finished: starts it,
/// has a host timer spawn a task 5 ms in, iterates the host's loop, and
/// prints how many iterations and kettle turns that took.
///
/// # Panics
/// If the scenario does not finish within [`STALL`](crate::checks::STALL):
/// the host stalled.
pub fn run(host: &mut impl crate::HostLoop) {
    println!("== kettle in {}", host.name());
    let mut scenario = Scenario::start(host.runtime());
    host.call_from_host(Duration::from_millis(5), scenario.host_callback());
    let mut iterations = 0;
    while !scenario.is_done() {
        assert!(
            Instant::now() - scenario.start < crate::checks::STALL,
            "{}: the scenario stalled",
            host.name()
        );
        host.iterate(Duration::from_secs(1));
        iterations += 1;
    }
    println!(
        "{:7.2} ms  done: {iterations} host iterations, {} kettle turns",
        scenario.elapsed_ms(),
        host.turns()
    );
}
