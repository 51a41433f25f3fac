//! Crates written against tokio's I/O traits, on kettle's streams with
//! kettle's `tokio-io` feature and no compat layer: tokio-util's
//! `LinesCodec` framed over a `TcpStream`, `AsyncBufReadExt::lines` over a
//! socket and over a child's stdout, `tokio::io::copy`, and `tokio::io::split`.
//! Everything runs on kettle's loop; no tokio runtime is built (tokio's
//! `io-util` helpers need none). Here, not in kettle's tests, so that
//! kettle's own `cargo test` never builds tokio-util.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use kettle::io::Async;
use kettle::net::{TcpListener, TcpStream, UnixStream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec, LinesCodecError};

const LIMIT: Duration = Duration::from_secs(10);

/// Runs `future` on a fresh kettle runtime, failing instead of hanging.
fn run<F: Future>(future: F) -> F::Output {
    kettle::run(async {
        kettle::timeout(LIMIT, future).await.expect("timed out: should have finished long ago")
    })
}

async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn lines_codec_framed_over_a_kettle_tcp_stream_answers_each_line() {
    run(async {
        let (client, server) = connected_pair().await;
        // The server: one `Framed` for both directions, a line in, a line out.
        let server = kettle::spawn(async move {
            let mut framed = Framed::new(server, LinesCodec::new());
            let mut answered = 0;
            while let Some(line) = framed.next().await {
                framed.send(line.unwrap().to_uppercase()).await.unwrap();
                answered += 1;
            }
            answered
        });
        // The client: its halves framed apart, written and read from two tasks.
        let (read_half, write_half) = client.into_split();
        let writer = kettle::spawn(async move {
            let mut lines = FramedWrite::new(write_half, LinesCodec::new());
            for i in 0..1_000 {
                lines.feed(format!("line {i} of kettle")).await.unwrap();
            }
            SinkExt::<String>::close(&mut lines).await.unwrap(); // flush, then poll_shutdown: the server sees the end
        });
        let mut answers = FramedRead::new(read_half, LinesCodec::new());
        let mut i = 0;
        while let Some(answer) = answers.next().await {
            assert_eq!(answer.unwrap(), format!("LINE {i} OF KETTLE"));
            i += 1;
        }
        assert_eq!(i, 1_000, "every line answered, then end of file");
        writer.await.unwrap();
        assert_eq!(server.await.unwrap(), 1_000);
    });
}

#[test]
fn lines_codec_reports_a_line_over_its_limit_as_an_error_not_a_hang() {
    run(async {
        let (mut client, server) = connected_pair().await;
        client.write_all(&[b'x'; 4096]).await.unwrap();
        let mut lines = FramedRead::new(server, LinesCodec::new_with_max_length(100));
        // The error arrives as soon as 100 bytes without a newline are in,
        // while the client still holds the connection open.
        assert!(matches!(lines.next().await, Some(Err(LinesCodecError::MaxLineLengthExceeded))));
        drop(client);
    });
}

#[test]
fn buf_reader_lines_over_a_socket_yield_each_line_then_none() {
    run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let writer = kettle::spawn(async move {
            for i in 0..10_000 {
                AsyncWriteExt::write_all(&mut b, format!("{i}\n").as_bytes()).await.unwrap();
            }
            b.write_all(b"no newline at the end").await.unwrap();
        }); // dropping `b` is the end of file
        let mut lines = BufReader::new(a).lines();
        for i in 0..10_000 {
            assert_eq!(lines.next_line().await.unwrap().unwrap(), i.to_string());
        }
        assert_eq!(lines.next_line().await.unwrap().unwrap(), "no newline at the end");
        assert_eq!(lines.next_line().await.unwrap(), None);
        writer.await.unwrap();
    });
}

#[test]
fn buf_reader_lines_over_a_childs_stdout_in_async() {
    use std::process::{Command, Stdio};
    let mut child = Command::new("seq").arg("1").arg("5000").stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let count = run(async {
        let mut lines = BufReader::new(Async::new(stdout).unwrap()).lines();
        let mut count = 0;
        while let Some(line) = lines.next_line().await.unwrap() {
            count += 1;
            assert_eq!(line, count.to_string());
        }
        count
    });
    assert_eq!(count, 5000);
    assert!(child.wait().unwrap().success());
}

#[test]
fn tokio_io_copy_relays_four_mebibytes_between_kettle_streams() {
    const LEN: usize = 4 << 20;
    let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    run(async move {
        let (mut source, relay_in) = connected_pair().await;
        let (relay_out, mut sink) = UnixStream::pair().unwrap();
        let relay = kettle::spawn(async move {
            let (mut from, mut to) = (relay_in, relay_out);
            let n = tokio::io::copy(&mut from, &mut to).await.unwrap();
            AsyncWriteExt::shutdown(&mut to).await.unwrap(); // the sink sees end of file
            n
        });
        let writer = kettle::spawn(async move {
            source.write_all(&data).await.unwrap();
            AsyncWriteExt::shutdown(&mut source).await.unwrap();
        });
        let mut got = Vec::new();
        AsyncReadExt::read_to_end(&mut sink, &mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(relay.await.unwrap(), LEN as u64);
        assert!(got == expected, "the relay changed the bytes");
    });
}

#[test]
fn tokio_io_split_halves_of_a_kettle_stream_work_from_two_tasks() {
    run(async {
        let (client, mut server) = connected_pair().await;
        let echo = kettle::spawn(async move {
            let mut buf = vec![0; 8192];
            loop {
                match server.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => server.write_all(&buf[..n]).await.unwrap(),
                }
            }
        });
        let (mut reader, mut writer) = tokio::io::split(client);
        let writer = kettle::spawn(async move {
            for _ in 0..256 {
                writer.write_all(&[42; 4096]).await.unwrap();
            }
            writer.shutdown().await.unwrap();
            writer
        });
        let mut got = Vec::new();
        reader.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), 256 * 4096);
        assert!(got.iter().all(|&b| b == 42));
        let writer = writer.await.unwrap();
        let _client: TcpStream = reader.unsplit(writer);
        echo.await.unwrap();
    });
}
