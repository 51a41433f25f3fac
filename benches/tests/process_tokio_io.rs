//! Specifies kettle's `tokio-io` bridge for a child's pipes with tokio's
//! own utilities: `AsyncBufReadExt::lines` over a child's stdout,
//! `AsyncWriteExt` into its stdin, `AsyncReadExt::read_to_end` on stderr —
//! all on kettle's loop, with no tokio runtime.

use std::process::Stdio;

use kettle::process::Command;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

#[test]
fn lines_of_a_childs_stdout_through_tokios_buf_reader() {
    kettle::run(async {
        let mut child = Command::new("seq").arg("1000").stdout(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut expected = 1;
        while let Some(line) = lines.next_line().await.unwrap() {
            assert_eq!(line, expected.to_string());
            expected += 1;
        }
        assert_eq!(expected, 1001);
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn tokios_write_all_and_shutdown_feed_a_child_that_echoes_to_stderr() {
    kettle::run(async {
        let mut child = Command::new("sh")
            .args(["-c", "cat >&2"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let writer = kettle::spawn(async move {
            AsyncWriteExt::write_all(&mut stdin, &[b'k'; 200_000]).await?;
            AsyncWriteExt::shutdown(&mut stdin).await
        });
        let mut read = Vec::new();
        AsyncReadExt::read_to_end(&mut stderr, &mut read).await.unwrap();
        assert_eq!(read.len(), 200_000);
        writer.await.unwrap().unwrap();
        assert!(child.wait().await.unwrap().success());
    });
}
