//! Times a writer we cannot instrument (Ferry's sink) from outside: polls a
//! file's size until it holds N lines of S bytes, then checks the line count.
//! The clock starts when this probe starts (start it just before the writer).

use std::fs;
use std::thread;
use std::time::{Duration, Instant};

use ferry_bench::args::Args;
use ferry_bench::report::Throughput;

const USAGE: &str = "wait-file --path FILE --records N --size BYTES_PER_LINE_WITHOUT_NEWLINE \
                     [--interval-ms 5] [--timeout-secs 600]";

fn main() {
    let args = Args::parse(USAGE);
    let start = Instant::now();
    let path: String = args.required("path");
    let records: u64 = args.required("records");
    let size: u64 = args.required("size");
    let interval = Duration::from_millis(args.get_or("interval-ms", 5));
    let timeout = Duration::from_secs(args.get_or("timeout-secs", 600));
    let want = records * (size + 1);

    loop {
        let have = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if have >= want {
            break;
        }
        if start.elapsed() > timeout {
            eprintln!(
                "wait-file: timed out after {timeout:?} with {have} of {want} bytes in {path}"
            );
            std::process::exit(1);
        }
        thread::sleep(interval);
    }
    let elapsed = start.elapsed();
    let text = fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let lines = text.iter().filter(|&&b| b == b'\n').count() as u64;
    if lines != records {
        eprintln!("wait-file: {path} has {lines} lines, expected {records}");
        std::process::exit(1);
    }
    Throughput {
        records,
        bytes: records * size,
        elapsed,
    }
    .print(&format!("{path} reached {records} lines"));
}
