//! Specifies `kettle::fs::File` against a model: a seeded random mix of
//! writes, reads and seeks of every size around the buffer's thresholds,
//! some of them cancelled after 1–3 polls, must leave exactly the bytes and
//! the position a plain `Vec<u8>` and a cursor predict; std sees the same
//! file after each flush. A failure names its seed (`KETTLE_FS_SEED=n`
//! replays one).

use std::io::SeekFrom;
use std::time::Duration;

use kettle::fs::File;

mod fs_common;
use fs_common::{Scratch, cancel_after};

/// xorshift64: small, seeded, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn run_model(seed: u64, cancel: bool, dir: &Scratch) {
    let path = dir.join(&format!("model-{seed}"));
    let mut file = File::options().read(true).write(true).create(true).open(&path).await.unwrap();
    let mut model: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    for step in 0..300u64 {
        let polls = if cancel && rng.below(3) == 0 { Some(rng.below(3) as usize + 1) } else { None };
        let pause = if rng.below(2) == 0 { Duration::ZERO } else { Duration::from_micros(300) };
        match rng.below(5) {
            0 | 1 => {
                let len = [1, 7, 5000, 16 * 1024, 20_000, 70_000][rng.below(6) as usize];
                let bytes: Vec<u8> = (0..len).map(|i| (i as u64 ^ step ^ seed) as u8).collect();
                let accepted = match polls {
                    // `write` accepts bytes only when it returns: a
                    // cancelled one accepted none.
                    Some(polls) => cancel_after(file.write(&bytes), polls, pause).await.map(|r| r.unwrap()),
                    None => Some(file.write(&bytes).await.unwrap()),
                };
                let n = accepted.unwrap_or(0);
                if model.len() < pos + n {
                    model.resize(pos + n, 0);
                }
                model[pos..pos + n].copy_from_slice(&bytes[..n]);
                pos += n;
            }
            2 | 3 => {
                let mut buf = vec![0; [1, 10, 4000, 16 * 1024, 40_000, 300_000][rng.below(6) as usize]];
                let got = match polls {
                    Some(polls) => cancel_after(file.read(&mut buf), polls, pause).await.map(|r| r.unwrap()),
                    None => Some(file.read(&mut buf).await.unwrap()),
                };
                if let Some(n) = got {
                    let expect = buf.len().min(model.len() - pos);
                    assert!(
                        n <= expect && (n > 0 || expect == 0),
                        "seed {seed} step {step}: read {n} of {expect}"
                    );
                    assert_eq!(buf[..n], model[pos..pos + n], "seed {seed} step {step}: the model's bytes");
                    pos += n;
                }
            }
            _ => {
                let target = rng.below(model.len() as u64 + 1);
                let to = match rng.below(3) {
                    0 => SeekFrom::Start(target),
                    1 => SeekFrom::Current(target as i64 - pos as i64),
                    _ => SeekFrom::End(target as i64 - model.len() as i64),
                };
                match polls {
                    Some(polls) => {
                        if let Some(at) = cancel_after(file.seek(to), polls, pause).await {
                            assert_eq!(at.unwrap(), target, "seed {seed} step {step}");
                            pos = target as usize;
                        } else {
                            // Started, it happens; still waiting for an
                            // earlier trip, it never started. Either way
                            // the position is one of the two.
                            let now = file.seek(SeekFrom::Current(0)).await.unwrap();
                            assert!(
                                now == target || now == pos as u64,
                                "seed {seed} step {step}: at {now}, neither {pos} nor {target}"
                            );
                            pos = now as usize;
                        }
                    }
                    None => {
                        assert_eq!(file.seek(to).await.unwrap(), target, "seed {seed} step {step}");
                        pos = target as usize;
                    }
                }
            }
        }
        if step % 40 == 0 {
            file.flush().await.unwrap();
            assert!(std::fs::read(&path).unwrap() == model, "seed {seed} step {step}: std sees the model");
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), pos as u64, "seed {seed} step {step}");
        }
    }
    assert_eq!(file.metadata().await.unwrap().len(), model.len() as u64, "metadata counts pending writes");
    let std = file.into_std().await.unwrap();
    assert!(std::fs::read(&path).unwrap() == model, "seed {seed}: into_std hands over everything");
    use std::io::Seek;
    assert_eq!((&std).stream_position().unwrap(), pos as u64, "seed {seed}: into_std keeps the position");
}

fn seeds() -> Vec<u64> {
    match std::env::var("KETTLE_FS_SEED") {
        Ok(seed) => vec![seed.parse().expect("KETTLE_FS_SEED is a number")],
        Err(_) => (1..=6).collect(),
    }
}

#[test]
fn writes_reads_and_seeks_agree_with_a_model_and_with_std() {
    let dir = Scratch::new("model");
    kettle::run(async {
        for seed in seeds() {
            run_model(seed, false, &dir).await;
        }
    });
}

#[test]
fn with_some_operations_cancelled_after_each_await_point_nothing_is_lost_or_done_twice() {
    let dir = Scratch::new("modelcancel");
    kettle::run(async {
        for seed in seeds() {
            run_model(seed, true, &dir).await;
        }
    });
}
