//! Helpers for the socket tests: loopback addresses, bounded awaits, and
//! stepping the loop without blocking.

use std::future::{Future, IntoFuture};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use std::io::Read;

use kettle::net::{TcpListener, TcpStream};
use kettle::{JoinHandle, Runtime};

/// The only address these tests use: loopback, with a port the kernel picks.
pub const ANY_LOCAL_PORT: &str = "127.0.0.1:0";
/// Upper bound on any await that a bug could turn into a hang.
pub const LIMIT: Duration = Duration::from_secs(5);
/// A turn that does not block.
pub const NOW: Option<Duration> = Some(Duration::ZERO);

/// Awaits `future`, failing the test instead of hanging if it is not done
/// within [`LIMIT`].
pub async fn bounded<F: IntoFuture>(future: F) -> F::Output {
    kettle::timeout(LIMIT, future).await.expect("timed out: kettle should have finished this long ago")
}

/// Turns the loop (without blocking) until a turn runs no task.
pub fn settle(rt: &Runtime) {
    for _ in 0..100 {
        if rt.turn(NOW).tasks_run == 0 {
            return;
        }
    }
    panic!("the loop kept running tasks: something is spinning");
}

/// Polls `future` once with a waker that does nothing.
pub fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    pin!(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// A kettle stream accepted from a plain blocking `std` client, which the
/// test drives by hand; the listener is returned to keep it alive.
pub fn std_peer_pair(rt: &Runtime) -> (TcpListener, std::net::TcpStream, TcpStream) {
    rt.block_on(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (stream, from) = bounded(listener.accept()).await.unwrap();
        assert_eq!(from, peer.local_addr().unwrap());
        (listener, peer, stream)
    })
}

/// `len` bytes with a period (251) prime to every buffer size, so that lost,
/// repeated or reordered chunks show up as a mismatch.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Lets `writer` (which sends `pattern` bytes and returns how many) finish
/// on the loop while `peer` reads everything to end-of-file on another
/// thread; asserts the peer got exactly what the writer says it sent.
pub fn assert_peer_receives_what_was_sent(
    rt: &Runtime,
    mut peer: std::net::TcpStream,
    writer: JoinHandle<usize>,
) {
    let drain = std::thread::spawn(move || {
        let mut got = Vec::new();
        peer.read_to_end(&mut got).unwrap();
        got
    });
    let sent = rt.block_on(bounded(writer)).unwrap();
    let got = drain.join().unwrap();
    assert_eq!(got.len(), sent);
    assert!(got == pattern(sent), "the peer received different bytes");
}

/// A fresh directory under the system's temp dir for socket files, unique to
/// this process and call (pid + counter), removed with its contents on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kettle-test-{}-{n}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }

    /// A path in this directory.
    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Closes `peer` with `SO_LINGER` 0, which sends an RST instead of a FIN:
/// the other end sees "connection reset".
pub fn reset(peer: std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid SO_LINGER value of the right size, on a socket this
    // function owns until it drops it below.
    let set = unsafe {
        libc::setsockopt(
            peer.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0, "SO_LINGER: {}", std::io::Error::last_os_error());
    drop(peer);
}
