//! Files without blocking the loop with `kettle::fs` (Python's `aiofiles`):
//!
//! ```python
//! async with aiofiles.open("tea.txt", "w") as f:
//!     for i in range(LINES):
//!         await f.write(f"cup {i}: ...\n")
//! async with aiofiles.open("tea.txt") as f:
//!     async for line in f:
//!         ...
//! ```
//!
//! Run it with `cargo run --example async_file`. A ticker task counts
//! ticks every millisecond the whole time: as long as it ticks, the loop is
//! alive. The program writes a file of many lines, one small `write` each
//! (the `File` buffers them, so they cost a trip to the blocking pool only
//! every 16 KiB), reads it back line by line, and shows how often the
//! ticker ran meanwhile.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use kettle::fs::File;

mod common;
use common::{heading, say};

const LINES: usize = 50_000;

/// Lines of a file, read through its buffer: what `async for line in f`
/// does in aiofiles.
struct Lines {
    file: File,
    pending: Vec<u8>,
    chunk: Vec<u8>,
}

impl Lines {
    fn new(file: File) -> Lines {
        Lines { file, pending: Vec::new(), chunk: vec![0; 4096] }
    }

    /// The next line without its `\n`, or `None` at the end of the file.
    async fn next_line(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Ok(Some(String::from_utf8_lossy(&line[..end]).into_owned()));
            }
            let n = self.file.read(&mut self.chunk).await?;
            if n == 0 {
                // A last line without a newline is a line too.
                return Ok((!self.pending.is_empty())
                    .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned()));
            }
            self.pending.extend_from_slice(&self.chunk[..n]);
        }
    }
}

fn main() -> io::Result<()> {
    common::start_clock();
    let path = std::env::temp_dir().join(format!("kettle-async-file-{}.txt", std::process::id()));
    kettle::run(async {
        let ticks = Rc::new(Cell::new(0u32));
        let ticker = kettle::spawn({
            let ticks = ticks.clone();
            async move {
                let mut interval = kettle::interval(Duration::from_millis(1));
                loop {
                    interval.tick().await;
                    ticks.set(ticks.get() + 1);
                }
            }
        });

        heading("async with aiofiles.open(path, 'w') as f: await f.write(line)");
        let before = ticks.get();
        let mut file = File::create(&path).await?;
        let mut bytes = 0;
        for i in 0..LINES {
            let line = format!("cup {i}: {} tea\n", ["green", "black", "oolong", "white"][i % 4]);
            file.write_all(line.as_bytes()).await?; // a copy into the buffer, mostly
            bytes += line.len();
        }
        file.flush().await?; // every byte reached the OS, or the error says why not
        say!("main: wrote {LINES} lines, {bytes} bytes");
        say!("ticker: {} ticks while writing", ticks.get() - before);

        heading("async with aiofiles.open(path) as f: async for line in f");
        let before = ticks.get();
        let mut lines = Lines::new(File::open(&path).await?);
        let mut count = 0;
        while let Some(line) = lines.next_line().await? {
            if count < 2 || count == LINES - 1 {
                say!("main: line {count}: {line:?}");
            }
            count += 1;
        }
        say!("main: read {count} lines back");
        say!("ticker: {} ticks while reading", ticks.get() - before);

        ticker.cancel();
        kettle::fs::remove_file(&path).await?;
        let error = File::open(&path).await.unwrap_err();
        say!("main: opening it again: {error}");
        say!("main: the loop ticked {} times in all: it was never blocked", ticks.get());
        Ok(())
    })
}
