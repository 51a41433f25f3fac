//! hyper on kettle over loopback, with `kettle::hyper` as the only glue
//! (cargo feature `hyper`; the HTTP/2 test needs `hyper-http2`).
//!
//! hyper's own HTTP/1.1 server and `client::conn` talk to each other over
//! kettle's TCP streams, a Unix stream pair, and halves; `KettleTimer` runs
//! the server's header-read timeout and resets its sleeps in place;
//! `KettleExecutor` runs HTTP/2's background tasks, which are not `Send`.
//! The edges: a client that resets the connection in the middle of a
//! response, a shutdown after a reset, end of file, an empty read buffer,
//! a write after shutdown; the misuse: executing outside a runtime.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self as client_http1, SendRequest};
use hyper::rt::{Executor, Read as _, ReadBuf, Timer, Write as _};
use hyper::server::conn::http1 as server_http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use kettle::hyper::{KettleExecutor, KettleIo, KettleTimer, PollRead, PollWrite};
use kettle::net::{TcpListener, TcpStream, UnixStream};

mod common;
use common::net::{ANY_LOCAL_PORT, bounded, poll_once, reset};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ------------------------------------------------------------ the service --

/// A response body: some text, or bytes without end (for a client to cut
/// off). http-body implements `Body` for `String`, but not this.
enum Reply {
    Text(String),
    Endless,
}

static CHUNK: [u8; 16 * 1024] = [b'x'; 16 * 1024];

impl Body for Reply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(match self.get_mut() {
            Reply::Text(text) if text.is_empty() => None,
            Reply::Text(text) => Some(Ok(Frame::data(Bytes::from(std::mem::take(text))))),
            Reply::Endless => Some(Ok(Frame::data(Bytes::from_static(&CHUNK)))),
        })
    }

    /// Text has a length (a `content-length` header); the endless body is
    /// sent in chunks.
    fn size_hint(&self) -> SizeHint {
        match self {
            Reply::Text(text) => SizeHint::with_exact(text.len() as u64),
            Reply::Endless => SizeHint::default(),
        }
    }
}

/// `/endless` answers forever; anything else answers `METHOD BODY`.
async fn service(request: Request<Incoming>) -> Result<Response<Reply>, hyper::Error> {
    if request.uri().path() == "/endless" {
        return Ok(Response::new(Reply::Endless));
    }
    let method = request.method().clone();
    let body = collect(request.into_body()).await?;
    Ok(Response::new(Reply::Text(format!("{method} {}", String::from_utf8(body).unwrap()))))
}

/// Reads a whole body (http-body-util's `collect`, in five lines).
async fn collect(mut body: Incoming) -> Result<Vec<u8>, hyper::Error> {
    let mut bytes = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

// ------------------------------------------------------------- the server --

/// What a test server has done: connections accepted, and how each served
/// connection ended, in the order they ended.
#[derive(Default)]
struct Served {
    accepted: Cell<usize>,
    ended: RefCell<Vec<Result<(), hyper::Error>>>,
}

impl Served {
    /// Waits (bounded) until `n` connections have ended.
    async fn until_ended(&self, n: usize) {
        bounded(async {
            while self.ended.borrow().len() < n {
                kettle::sleep(ms(1)).await;
            }
        })
        .await;
    }
}

/// Serves hyper's HTTP/1.1 (with [`KettleTimer`] and the given header-read
/// timeout) on one connection.
async fn serve_http1<T>(io: T, header_timeout: Option<Duration>) -> Result<(), hyper::Error>
where
    T: PollRead + PollWrite + 'static,
{
    let mut builder = server_http1::Builder::new();
    builder.timer(KettleTimer::new()).header_read_timeout(header_timeout);
    builder.serve_connection(KettleIo::new(io), service_fn(service)).await
}

/// Accepts connections on a new loopback listener, serving each in a task
/// of its own; returns the address and the record.
fn start_server(header_timeout: Option<Duration>) -> (std::net::SocketAddr, Rc<Served>) {
    let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Rc::new(Served::default());
    let record = served.clone();
    kettle::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            record.accepted.set(record.accepted.get() + 1);
            let record = record.clone();
            kettle::spawn(async move {
                let result = serve_http1(stream, header_timeout).await;
                record.ended.borrow_mut().push(result);
            })
            .detach();
        }
    })
    .detach();
    (addr, served)
}

// ------------------------------------------------------------- the client --

/// hyper's HTTP/1.1 client over `io`; its connection runs in a task of its
/// own, whose handle says how it ended.
async fn client<T>(io: T) -> (SendRequest<String>, kettle::JoinHandle<Result<(), hyper::Error>>)
where
    T: PollRead + PollWrite + 'static,
{
    let (sender, connection) = bounded(client_http1::handshake(KettleIo::new(io))).await.unwrap();
    (sender, kettle::spawn(connection))
}

/// Sends one request and reads the whole answer: status and body.
async fn send(sender: &mut SendRequest<String>, method: &str, path: &str, body: &str) -> (u16, String) {
    bounded(sender.ready()).await.unwrap();
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "kettle.test")
        .body(body.to_string())
        .unwrap();
    let response = bounded(sender.send_request(request)).await.unwrap();
    let status = response.status().as_u16();
    let body = bounded(collect(response.into_body())).await.unwrap();
    (status, String::from_utf8(body).unwrap())
}

/// The `io::ErrorKind` somewhere in `error`'s chain of sources, if any.
fn io_kind(error: &hyper::Error) -> Option<io::ErrorKind> {
    let mut source = std::error::Error::source(error);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        source = error.source();
    }
    None
}

// ------------------------------------------------------------------ HTTP/1 --

#[test]
fn hypers_http1_server_and_client_talk_over_kettle_tcp_with_keep_alive() {
    kettle::run(async {
        let (addr, served) = start_server(None);
        let (mut sender, connection) = client(TcpStream::connect(addr).await.unwrap()).await;

        assert_eq!(send(&mut sender, "GET", "/", "").await, (200, "GET ".into()));
        assert_eq!(send(&mut sender, "POST", "/", "a body").await, (200, "POST a body".into()));
        assert_eq!(send(&mut sender, "PUT", "/again", "third").await, (200, "PUT third".into()));
        assert_eq!(served.accepted.get(), 1, "three requests, one kept-alive connection");

        // The client hangs up: both connection futures end, without error.
        drop(sender);
        bounded(connection).await.unwrap().unwrap();
        served.until_ended(1).await;
        assert!(served.ended.borrow()[0].is_ok(), "{:?}", served.ended.borrow()[0]);
    });
}

#[test]
fn a_megabyte_each_way_arrives_whole() {
    kettle::run(async {
        let (addr, _served) = start_server(None);
        let (mut sender, _connection) = client(TcpStream::connect(addr).await.unwrap()).await;
        // Far more than one read or one write: partial vectored writes, and
        // reads that fill hyper's buffer and make it grow.
        let body: String = (0..1 << 20).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        let (status, echoed) = send(&mut sender, "POST", "/", &body).await;
        assert_eq!(status, 200);
        assert_eq!(echoed.len(), "POST ".len() + body.len());
        assert!(echoed == format!("POST {body}"), "the echoed megabyte differs");
    });
}

#[test]
fn hyper_speaks_http1_over_a_unix_stream_pair() {
    kettle::run(async {
        let (server_end, client_end) = UnixStream::pair().unwrap();
        let server = kettle::spawn(serve_http1(server_end, None));
        let (mut sender, connection) = client(client_end).await;
        assert_eq!(send(&mut sender, "POST", "/", "over unix").await, (200, "POST over unix".into()));
        assert_eq!(send(&mut sender, "GET", "/", "").await, (200, "GET ".into()));
        drop(sender);
        bounded(connection).await.unwrap().unwrap();
        bounded(server).await.unwrap().unwrap();
    });
}

#[test]
fn graceful_shutdown_closes_a_kept_alive_connection_without_error() {
    kettle::run(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let (mut sender, client_connection) =
            client(TcpStream::connect(listener.local_addr().unwrap()).await.unwrap()).await;
        let (stream, _) = listener.accept().await.unwrap();
        let stop = kettle::sync::Event::new();
        let server = kettle::spawn({
            let stop = stop.clone();
            async move {
                let mut builder = server_http1::Builder::new();
                builder.timer(KettleTimer::new());
                let mut connection =
                    std::pin::pin!(builder.serve_connection(KettleIo::new(stream), service_fn(service)));
                // Serve until told to stop, then let hyper close the connection.
                let stopped = stop.wait();
                let mut stopped = std::pin::pin!(stopped);
                let early = poll_fn(|cx| match connection.as_mut().poll(cx) {
                    Poll::Ready(result) => Poll::Ready(Some(result)),
                    Poll::Pending => stopped.as_mut().poll(cx).map(|()| None),
                })
                .await;
                match early {
                    Some(result) => result,
                    None => {
                        connection.as_mut().graceful_shutdown();
                        connection.await
                    }
                }
            }
        });
        assert_eq!(send(&mut sender, "GET", "/", "").await, (200, "GET ".into()));
        stop.set();
        bounded(server).await.unwrap().unwrap();
        // The client sees the connection close, cleanly.
        bounded(client_connection).await.unwrap().unwrap();
    });
}

// ------------------------------------------------------- resets and timeouts --

#[test]
fn a_client_resetting_mid_response_ends_only_its_own_connection_with_the_reset() {
    kettle::run(async {
        let (addr, served) = start_server(None);
        let mut rude = TcpStream::connect(addr).await.unwrap();
        rude.write_all(b"GET /endless HTTP/1.1\r\nhost: kettle.test\r\n\r\n").await.unwrap();
        let mut head = [0; 64];
        let n = bounded(rude.read(&mut head)).await.unwrap();
        assert!(head[..n].starts_with(b"HTTP/1.1 200 OK"), "{:?}", String::from_utf8_lossy(&head[..n]));
        // Mid-response: the server is still writing the endless body.
        reset(rude.into_std());

        // hyper reports the write that failed, and it is the client's reset
        // (or the broken pipe it leaves, depending on which the kernel says
        // first).
        served.until_ended(1).await;
        let ended = served.ended.borrow_mut().remove(0);
        let error = ended.expect_err("a response cut off is an error");
        let kind = io_kind(&error);
        assert!(
            matches!(kind, Some(io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe)),
            "the connection ended with an error other than the client's reset: {error:?}"
        );

        // The server goes on serving.
        let (mut sender, _connection) = client(TcpStream::connect(addr).await.unwrap()).await;
        assert_eq!(send(&mut sender, "GET", "/", "").await, (200, "GET ".into()));
        assert_eq!(served.accepted.get(), 2);
    });
}

#[test]
fn a_client_resetting_between_requests_ends_its_connection_without_error() {
    kettle::run(async {
        let (addr, served) = start_server(None);
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"GET / HTTP/1.1\r\nhost: kettle.test\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        while !answer.ends_with(b"GET ") {
            let mut buf = [0; 256];
            let n = bounded(client.read(&mut buf)).await.unwrap();
            assert_ne!(
                n,
                0,
                "the connection closed before the answer: {:?}",
                String::from_utf8_lossy(&answer)
            );
            answer.extend_from_slice(&buf[..n]);
        }
        // The answer is complete; the server waits for the next request.
        reset(client.into_std());

        // hyper sees the reset as the end of the connection and shuts its
        // side down — a `NotConnected` from the system call, which kettle
        // reports as done — so the connection ends without an error.
        served.until_ended(1).await;
        let ended = served.ended.borrow_mut().remove(0);
        assert!(ended.is_ok(), "{ended:?}");
    });
}

#[test]
fn shutting_down_a_connection_the_peer_reset_is_ok() {
    kettle::run(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        reset(peer);
        let mut io = KettleIo::new(stream);
        // Let the reset arrive: a read reports it.
        let mut spare = [MaybeUninit::<u8>::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut spare);
        let read = bounded(poll_fn(|cx| Pin::new(&mut io).poll_read(cx, buf.unfilled()))).await;
        assert_eq!(read.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        // hyper's last step on every connection it finishes.
        poll_fn(|cx| Pin::new(&mut io).poll_shutdown(cx)).await.unwrap();
    });
}

#[test]
fn a_silent_client_is_closed_after_the_header_read_timeout() {
    kettle::run(async {
        let (addr, served) = start_server(Some(ms(50)));
        let start = Instant::now();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let read = bounded(silent.read(&mut [0; 64])).await;
        let waited = start.elapsed();
        assert_eq!(read.unwrap(), 0, "the server closes the connection");
        assert!(waited >= ms(50), "closed after {waited:?}, before the 50 ms timeout");
        served.until_ended(1).await;
        let ended = served.ended.borrow();
        let error = ended[0].as_ref().unwrap_err();
        assert!(error.is_timeout(), "hyper reports the timeout: {error:?}");
    });
}

#[test]
fn the_header_read_timeout_restarts_for_each_request_on_a_kept_alive_connection() {
    // hyper resets one sleep per connection each time it waits for a head:
    // if the reset did not move the deadline, the connection would be cut
    // once the gaps added up to more than the timeout.
    kettle::run(async {
        let (addr, served) = start_server(Some(ms(200)));
        let (mut sender, _connection) = client(TcpStream::connect(addr).await.unwrap()).await;
        for i in 0..4 {
            assert_eq!(send(&mut sender, "POST", "/", &i.to_string()).await, (200, format!("POST {i}")));
            kettle::sleep(ms(80)).await;
        }
        assert_eq!(served.accepted.get(), 1);
        assert!(
            served.ended.borrow().is_empty(),
            "the connection is still open: {:?}",
            served.ended.borrow()
        );
    });
}

// ------------------------------------------------------------------- halves --

/// One `rt::Read` into an uninitialised buffer of 64 bytes; the bytes read.
async fn read_some<T: PollRead>(io: &mut KettleIo<T>) -> io::Result<Vec<u8>> {
    let mut spare = [MaybeUninit::<u8>::uninit(); 64];
    let mut buf = ReadBuf::uninit(&mut spare);
    bounded(poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, buf.unfilled()))).await?;
    Ok(buf.filled().to_vec())
}

/// A write half alone as hyper's writer, a read half alone as its reader:
/// vectored writes arrive in order, shutdown is end of file, an empty read
/// buffer reads nothing, and a write after shutdown fails.
async fn check_halves<R: PollRead, W: PollWrite>(reader: R, writer: W) {
    let (mut reader, mut writer) = (KettleIo::new(reader), KettleIo::new(writer));
    assert!(writer.is_write_vectored());
    let bufs = [IoSlice::new(b"head, "), IoSlice::new(b""), IoSlice::new(b"body")];
    let n = bounded(poll_fn(|cx| Pin::new(&mut writer).poll_write_vectored(cx, &bufs))).await.unwrap();
    assert_eq!(n, 10, "one sendmsg takes all of a small vectored write");
    let n = bounded(poll_fn(|cx| Pin::new(&mut writer).poll_write(cx, b"!"))).await.unwrap();
    assert_eq!(n, 1);
    poll_fn(|cx| Pin::new(&mut writer).poll_flush(cx)).await.unwrap();

    // An empty buffer: ready at once, nothing read, nothing consumed.
    let mut nothing: [MaybeUninit<u8>; 0] = [];
    let mut empty = ReadBuf::uninit(&mut nothing);
    assert!(matches!(
        poll_once(poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, empty.unfilled()))),
        Poll::Ready(Ok(()))
    ));

    let mut got = Vec::new();
    while got.len() < 11 {
        got.extend(read_some(&mut reader).await.unwrap());
    }
    assert_eq!(got, b"head, body!");

    poll_fn(|cx| Pin::new(&mut writer).poll_shutdown(cx)).await.unwrap();
    assert_eq!(read_some(&mut reader).await.unwrap(), b"", "end of file fills nothing");
    let late = bounded(poll_fn(|cx| Pin::new(&mut writer).poll_write(cx, b"late"))).await;
    assert_eq!(late.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn halves_of_tcp_and_unix_streams_are_hypers_reader_and_writer_alone() {
    kettle::run(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let a = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (b, _) = listener.accept().await.unwrap();
        let ((a_read, _a_write), (_b_read, b_write)) = (a.into_split(), b.into_split());
        check_halves(a_read, b_write).await;

        let (a, b) = UnixStream::pair().unwrap();
        let ((a_read, _a_write), (_b_read, b_write)) = (a.into_split(), b.into_split());
        check_halves(a_read, b_write).await;
    });
}

#[test]
fn whole_streams_are_reader_and_writer_and_give_themselves_back() {
    kettle::run(async {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut a, mut b) = (KettleIo::new(a), KettleIo::new(b));
        poll_fn(|cx| Pin::new(&mut a).poll_write(cx, b"ping")).await.unwrap();
        assert_eq!(read_some(&mut b).await.unwrap(), b"ping");
        b.inner_mut().write_all(b"pong").await.unwrap();
        assert_eq!(read_some(&mut a).await.unwrap(), b"pong");
        assert!(a.inner().peer_addr().is_ok());
        let mut a: UnixStream = a.into_inner();
        a.write_all(b"bare").await.unwrap();
        assert_eq!(read_some(&mut b).await.unwrap(), b"bare");
    });
}

// -------------------------------------------------------------------- timer --

/// A value made with `Default`, then cloned: the two traits hyper's builders
/// and users' own code rely on.
fn default_and_clone<T: Default + Clone>() -> T {
    T::default().clone()
}

/// Where a boxed sleep lives: the same address means the same sleep.
fn address(sleep: &Pin<Box<dyn hyper::rt::Sleep>>) -> *const () {
    let sleep: &dyn hyper::rt::Sleep = &**sleep;
    (sleep as *const dyn hyper::rt::Sleep).cast()
}

#[test]
fn kettle_timer_reset_moves_the_deadline_of_the_same_sleep() {
    kettle::run(async {
        let timer = KettleTimer::new();
        let mut sleep = timer.sleep(Duration::from_secs(10));
        assert!(poll_once(sleep.as_mut()).is_pending());
        assert_eq!(kettle::metrics().timers_pending, 1, "the first poll registers the sleep");
        let at = address(&sleep);

        let start = Instant::now();
        timer.reset(&mut sleep, start + ms(20));
        assert_eq!(address(&sleep), at, "the same allocation, moved");
        assert_eq!(kettle::metrics().timers_pending, 1, "the 10 s timer moved, not added to");
        bounded(sleep.as_mut()).await;
        let waited = start.elapsed();
        assert!(waited >= ms(20) && waited < Duration::from_secs(5), "woke after {waited:?}");

        // After it has finished, a reset makes it wait again.
        let again = Instant::now();
        timer.reset(&mut sleep, again + ms(10));
        assert!(poll_once(sleep.as_mut()).is_pending());
        bounded(sleep.as_mut()).await;
        assert!(again.elapsed() >= ms(10));

        // A deadline already past: ready at the first poll.
        timer.reset(&mut sleep, start);
        assert!(poll_once(sleep.as_mut()).is_ready());
        assert_eq!(address(&sleep), at);
        assert_eq!(kettle::metrics().timers_pending, 0);
    });
}

/// A sleep from some other timer: ready at once.
struct Foreign;

impl std::future::Future for Foreign {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

impl hyper::rt::Sleep for Foreign {}

#[test]
fn kettle_timer_reset_replaces_a_sleep_it_did_not_make() {
    kettle::run(async {
        let timer = KettleTimer::default();
        let mut sleep: Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Foreign);
        let start = Instant::now();
        timer.reset(&mut sleep, start + ms(20));
        assert!(!sleep.is::<Foreign>(), "replaced by a kettle sleep");
        bounded(sleep.as_mut()).await;
        assert!(start.elapsed() >= ms(20), "with the new deadline");
        // From now on it is one of the timer's own: reset in place.
        let at = address(&sleep);
        timer.reset(&mut sleep, start + ms(30));
        assert_eq!(address(&sleep), at);
    });
}

#[test]
fn kettle_timer_sleeps_are_built_anywhere_and_wait_in_the_runtime_that_polls_them() {
    let timer: KettleTimer = default_and_clone();
    let start = Instant::now();
    let sleep = timer.sleep_until(start + ms(15)); // no runtime on this thread yet
    assert!(timer.now() >= start, "the timer's clock is Instant's");
    let rt = kettle::Runtime::new().unwrap();
    rt.block_on(sleep);
    assert!(start.elapsed() >= ms(15));
    rt.block_on(timer.sleep(ms(5)));
    assert!(start.elapsed() >= ms(20));
}

// ----------------------------------------------------------------- executor --

#[test]
fn kettle_executor_runs_futures_that_are_not_send_as_detached_tasks() {
    kettle::run(async {
        let ran = Rc::new(Cell::new(0));
        let executor: KettleExecutor = default_and_clone();
        for executor in [executor, KettleExecutor::new(), KettleExecutor::new()] {
            let ran = ran.clone();
            executor.execute(async move {
                kettle::yield_now().await;
                ran.set(ran.get() + 1);
            });
        }
        assert_eq!(kettle::metrics().tasks_alive, 3, "three tasks (`run`'s future is not one)");
        bounded(async {
            while ran.get() < 3 {
                kettle::yield_now().await;
            }
        })
        .await;
    });
}

#[test]
fn kettle_executor_outside_a_runtime_panics_with_kettles_message() {
    let panic = std::panic::catch_unwind(|| KettleExecutor::new().execute(async {})).unwrap_err();
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert!(
        message.contains("KettleExecutor::execute called outside a kettle runtime"),
        "unexpected message: {message}"
    );
}

// ------------------------------------------------------------------- HTTP/2 --

#[cfg(feature = "hyper-http2")]
#[test]
fn hypers_http2_server_and_client_multiplex_requests_on_kettle_tasks() {
    kettle::run(async {
        let listener = TcpListener::bind(ANY_LOCAL_PORT).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = kettle::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut builder = hyper::server::conn::http2::Builder::new(KettleExecutor::new());
            // Keep-alive pings every 20 ms: the timer's sleeps, reset in place.
            builder.timer(KettleTimer::new()).keep_alive_interval(ms(20)).keep_alive_timeout(ms(500));
            builder.serve_connection(KettleIo::new(stream), service_fn(service)).await
        });

        let stream = KettleIo::new(TcpStream::connect(addr).await.unwrap());
        let (sender, connection) =
            bounded(hyper::client::conn::http2::Builder::new(KettleExecutor::new()).handshake(stream))
                .await
                .unwrap();
        let connection = kettle::spawn(connection);
        // Three requests at once on the one connection, each a stream that
        // the server runs as a task of its own (KettleExecutor).
        let requests = (0..3).map(|i| {
            let mut sender = sender.clone();
            async move {
                let request = Request::post("http://kettle.test/").body(format!("stream {i}")).unwrap();
                let response = sender.send_request(request).await.unwrap();
                assert_eq!(response.version(), hyper::Version::HTTP_2);
                String::from_utf8(collect(response.into_body()).await.unwrap()).unwrap()
            }
        });
        let answers = bounded(kettle::gather(requests)).await;
        assert_eq!(answers, ["POST stream 0", "POST stream 1", "POST stream 2"]);

        // Idle for several ping intervals; pings are answered, the connection stays.
        kettle::sleep(ms(100)).await;
        let mut again = sender.clone();
        let response =
            bounded(again.send_request(Request::get("http://kettle.test/").body(String::new()).unwrap()))
                .await
                .unwrap();
        assert_eq!(String::from_utf8(collect(response.into_body()).await.unwrap()).unwrap(), "GET ");

        drop((sender, again));
        bounded(connection).await.unwrap().unwrap();
        bounded(server).await.unwrap().unwrap();
    });
}
