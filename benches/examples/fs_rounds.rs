//! `fs::read` of 1,000 small files, one after the other, ten times, on
//! kettle or on tokio: one round per run, for alternating rounds outside
//! criterion (PERFORMANCE.md, "Files"). Each read waits on two cross-thread
//! hand-offs, whose latency swings with the machine's load more than the two
//! runtimes differ, so compare many alternating rounds, not one mean:
//!
//! ```text
//! cargo build --release -p kettle-bench --example fs_rounds
//! for i in $(seq 16); do for rt in tokio kettle; do target/release/examples/fs_rounds $rt; done; done
//! ```

use std::path::PathBuf;
use std::time::Instant;

const FILES: usize = 1000;
const ROUNDS: usize = 10;

fn main() {
    let runtime = std::env::args().nth(1).unwrap_or_else(|| "kettle".to_string());
    let dir = std::env::temp_dir().join(format!("kettle-fs-rounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths: Vec<PathBuf> = (0..FILES).map(|i| dir.join(i.to_string())).collect();
    for path in &paths {
        std::fs::write(path, [1u8; 1024]).unwrap();
    }
    let start = Instant::now();
    match runtime.as_str() {
        "kettle" => {
            let rt = kettle::Runtime::new().unwrap();
            for _ in 0..ROUNDS {
                rt.block_on(async {
                    for path in &paths {
                        assert_eq!(kettle::fs::read(path).await.unwrap().len(), 1024);
                    }
                });
            }
        }
        "tokio" => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            for _ in 0..ROUNDS {
                rt.block_on(async {
                    for path in &paths {
                        assert_eq!(tokio::fs::read(path).await.unwrap().len(), 1024);
                    }
                });
            }
        }
        other => panic!("fs_rounds: the runtime is `kettle` or `tokio`, not `{other}`"),
    }
    println!("{runtime}: {:?}", start.elapsed());
    std::fs::remove_dir_all(&dir).unwrap();
}
