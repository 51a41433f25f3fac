//! The timing loop behind `scripts/bench-table`: every workload of the suite
//! (`benches/peers/suite.rs`) on every column — kettle, tokio, smol, the
//! floor, kettle-mini — in *alternating rounds*, then one Markdown table.
//!
//! ```text
//! cargo run --release -p kettle-bench --example table -- [--rounds R] [--sample-ms T] [--only a,b] [--csv FILE]
//! cargo run --release -p kettle-bench --example table -- --callgrind FILE
//! ```
//!
//! **Why rounds, not criterion.** On a shared, noisy machine the load
//! changes from one minute to the next; criterion measures one function for
//! seconds, then the next, so two columns of a row may be timed under
//! different loads. Here each round times every column of every workload
//! once, one sample each, the columns in a rotated order (round `r` starts
//! at column `r`), so a burst of load lands on all columns alike and the
//! order favours none. A sample is `k` iterations timed together, `k`
//! chosen once (after a warm-up run) so that a sample lasts about
//! `--sample-ms` (default 40 ms); its figure is the time per iteration.
//!
//! **What the table says.** Each cell is the *median* of the rounds'
//! samples, with `±x%`: half the interquartile range (the middle half of
//! the rounds), relative to the median. Each ratio is kettle's median over
//! the other's; it is marked `≈` when the two columns' interquartile ranges
//! overlap — within noise. Why not the full range: on the shared machine a
//! single round that lands on someone else's build stretches every column's
//! range until every row overlaps; the middle half says where the rounds
//! usually were. The last row is the geometric mean of each ratio column over
//! the rows that have it (the raw samples go to `--csv`).
//!
//! `--callgrind FILE` formats instruction counts instead: `FILE` has one
//! `RUNTIME WORKLOAD INSTRUCTIONS REPETITIONS` line per callgrind run of the
//! workloads driver (`scripts/bench-table` writes it), and the table gives
//! instructions per iteration, the same ratios and their geomeans. Counts do
//! not vary from run to run, so they carry no spread.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[path = "../peers/smol.rs"]
mod on_smol;
#[path = "../peers/tokio.rs"]
mod on_tokio;
#[path = "../peers/suite.rs"]
mod suite;

use suite::RUNTIMES;

/// What the command line asked for.
struct Options {
    rounds: usize,
    sample: Duration,
    only: Option<Vec<String>>,
    csv: Option<String>,
    callgrind: Option<String>,
}

fn options() -> Options {
    let mut options =
        Options { rounds: 15, sample: Duration::from_millis(40), only: None, csv: None, callgrind: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--rounds" => options.rounds = value().parse().expect("--rounds N"),
            "--sample-ms" => options.sample = Duration::from_millis(value().parse().expect("--sample-ms MS")),
            "--only" => options.only = Some(value().split(',').map(String::from).collect()),
            "--csv" => options.csv = Some(value()),
            "--callgrind" => options.callgrind = Some(value()),
            _ => panic!("unknown argument {arg}; see the doc comment of benches/examples/table.rs"),
        }
    }
    options
}

fn main() {
    let options = options();
    if let Some(file) = &options.callgrind {
        print!("{}", callgrind_table(&std::fs::read_to_string(file).expect("the callgrind counts")));
        return;
    }
    let mut suite = suite::suite();
    if let Some(only) = &options.only {
        suite.retain(|w| only.iter().any(|o| o == w.name));
    }

    // Warm up each column, check it does kettle's work, and size its sample.
    let mut iterations = Vec::new();
    for workload in &mut suite {
        let mut sizes = Vec::new();
        let mut kettles = None;
        for column in &mut workload.columns {
            let checksum = (column.run)();
            let kettle = *kettles.get_or_insert(checksum);
            assert_eq!(checksum, kettle, "{} on {}: not kettle's checksum", workload.name, column.runtime);
            let start = Instant::now();
            (column.run)();
            let once = start.elapsed().max(Duration::from_nanos(1));
            sizes.push((options.sample.as_nanos() / once.as_nanos()).max(1) as u32);
        }
        iterations.push(sizes);
    }

    // The rounds: every column of every workload once per round, rotated.
    let mut samples: Vec<Vec<Vec<f64>>> =
        suite.iter().map(|w| vec![Vec::with_capacity(options.rounds); w.columns.len()]).collect();
    let mut csv = String::from("round,workload,runtime,iterations,ns_per_iteration\n");
    for round in 0..options.rounds {
        eprint!("\rround {}/{}", round + 1, options.rounds);
        for (w, workload) in suite.iter_mut().enumerate() {
            let columns = workload.columns.len();
            for c in (0..columns).map(|i| (i + round) % columns) {
                let column = &mut workload.columns[c];
                let k = iterations[w][c];
                let start = Instant::now();
                for _ in 0..k {
                    std::hint::black_box((column.run)());
                }
                let ns = start.elapsed().as_nanos() as f64 / f64::from(k);
                samples[w][c].push(ns);
                csv += &format!("{round},{},{},{k},{ns:.1}\n", workload.name, column.runtime);
            }
        }
    }
    eprintln!();
    if let Some(file) = &options.csv {
        std::fs::write(file, csv).expect("writing the CSV");
    }

    let rows: Vec<Row> = suite
        .iter()
        .zip(samples)
        .map(|(workload, samples)| Row {
            label: format!("{} — {}", workload.name, workload.what),
            cells: workload
                .columns
                .iter()
                .zip(samples)
                .map(|(column, mut s)| {
                    s.sort_by(f64::total_cmp);
                    let spread = Spread {
                        median: quantile(&s, 0.5),
                        low: quantile(&s, 0.25),
                        high: quantile(&s, 0.75),
                    };
                    (column.runtime, spread)
                })
                .collect(),
        })
        .collect();
    print!("{}", table(&rows, human, |spread| format!(" ±{:.0}%", spread.relative() * 100.0)));
}

/// A column's figures over the rounds: the median and the quartiles
/// (nanoseconds per iteration; or instructions per iteration, all three
/// equal).
#[derive(Clone, Copy)]
struct Spread {
    median: f64,
    low: f64,
    high: f64,
}

impl Spread {
    /// Half the interquartile range, relative to the median.
    fn relative(&self) -> f64 {
        (self.high - self.low) / 2.0 / self.median
    }

    /// The two interquartile ranges share a point: the order of the two is
    /// within noise.
    fn overlaps(&self, other: &Spread) -> bool {
        self.low <= other.high && other.low <= self.high
    }
}

/// One workload's row: its label and each column's figures.
struct Row {
    label: String,
    cells: Vec<(&'static str, Spread)>,
}

/// The `q` quantile of `sorted` (0.5: the median), interpolating linearly
/// between the two nearest samples.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (below, above) = (position.floor() as usize, position.ceil() as usize);
    sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
}

/// `rows` as Markdown: a figure per column (`value` formats the median,
/// `spread` what follows it), the ratios of kettle to each other column,
/// and their geomeans.
fn table(rows: &[Row], value: impl Fn(f64) -> String, spread: impl Fn(&Spread) -> String) -> String {
    let others = &RUNTIMES[1..];
    let mut out = String::new();
    out += "| workload |";
    for runtime in RUNTIMES {
        out += &format!(" {runtime} |");
    }
    for other in others {
        out += &format!(" kettle/{other} |");
    }
    out += "\n|---|";
    out += &"---:|".repeat(RUNTIMES.len() + others.len());
    out += "\n";
    let mut logs: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for row in rows {
        let cell = |runtime: &str| row.cells.iter().find(|(r, _)| *r == runtime).map(|(_, s)| *s);
        out += &format!("| {} |", row.label);
        for runtime in RUNTIMES {
            out += &match cell(runtime) {
                Some(s) => format!(" {}{} |", value(s.median), spread(&s)),
                None => " – |".into(),
            };
        }
        let kettle = cell("kettle").expect("every workload has a kettle column");
        for other in others {
            out += &match cell(other) {
                Some(s) => {
                    let ratio = kettle.median / s.median;
                    logs.entry(other).or_default().push(ratio.ln());
                    let noise = if kettle.low != kettle.high && kettle.overlaps(&s) { " ≈" } else { "" };
                    format!(" {}{noise} |", ratio_text(ratio))
                }
                None => " – |".into(),
            };
        }
        out += "\n";
    }
    out += "| **geomean** |";
    out += &" |".repeat(RUNTIMES.len());
    for other in others {
        let logs = logs.get(other).map(Vec::as_slice).unwrap_or_default();
        out += &if logs.is_empty() {
            " – |".into()
        } else {
            format!(" **{}** |", ratio_text((logs.iter().sum::<f64>() / logs.len() as f64).exp()))
        };
    }
    out += "\n";
    out
}

/// A ratio with two decimals below 10, one above.
fn ratio_text(ratio: f64) -> String {
    if ratio < 10.0 { format!("{ratio:.2}") } else { format!("{ratio:.1}") }
}

/// Nanoseconds in the unit that keeps three digits.
fn human(ns: f64) -> String {
    match ns {
        ns if ns < 1e3 => format!("{ns:.0} ns"),
        ns if ns < 1e4 => format!("{:.2} µs", ns / 1e3),
        ns if ns < 1e6 => format!("{:.0} µs", ns / 1e3),
        ns if ns < 1e7 => format!("{:.2} ms", ns / 1e6),
        ns if ns < 1e9 => format!("{:.0} ms", ns / 1e6),
        ns => format!("{:.2} s", ns / 1e9),
    }
}

/// An instruction count in the unit that keeps three digits.
fn instructions(n: f64) -> String {
    match n {
        n if n < 1e4 => format!("{n:.0}"),
        n if n < 1e6 => format!("{:.0} k", n / 1e3),
        n if n < 1e7 => format!("{:.2} M", n / 1e6),
        n => format!("{:.0} M", n / 1e6),
    }
}

/// The instruction-count table from `RUNTIME WORKLOAD INSTRUCTIONS
/// REPETITIONS` lines, rows in the order of their first line.
fn callgrind_table(counts: &str) -> String {
    let mut rows: Vec<Row> = Vec::new();
    for line in counts.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [runtime, workload, total, reps] = fields[..] else { panic!("bad callgrind line {line:?}") };
        let runtime = RUNTIMES.into_iter().find(|r| *r == runtime).expect("a known runtime");
        let per_iteration = total.parse::<f64>().unwrap() / reps.parse::<f64>().unwrap();
        let spread = Spread { median: per_iteration, low: per_iteration, high: per_iteration };
        match rows.iter_mut().find(|r| r.label == workload) {
            Some(row) => row.cells.push((runtime, spread)),
            None => rows.push(Row { label: workload.to_string(), cells: vec![(runtime, spread)] }),
        }
    }
    table(&rows, instructions, |_| String::new())
}
