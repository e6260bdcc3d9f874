//! Writes the benchmark's records as a text file, one per line: the input of
//! Ferry's FileStreamSource, byte-identical to what raw-produce sends.

use std::fs::File;
use std::io::{BufWriter, Write};

use ferry_bench::args::Args;
use ferry_bench::data::payload;

const USAGE: &str = "gen-lines --out FILE [--records 1000000] [--size 100]";

fn main() {
    let args = Args::parse(USAGE);
    let out: String = args.required("out");
    let records: u64 = args.get_or("records", 1_000_000);
    let size: usize = args.get_or("size", 100);
    let mut file = BufWriter::with_capacity(
        1 << 20,
        File::create(&out).unwrap_or_else(|e| panic!("create {out}: {e}")),
    );
    for i in 0..records {
        file.write_all(&payload(i, size))
            .and_then(|()| file.write_all(b"\n"))
            .unwrap_or_else(|e| panic!("write {out}: {e}"));
    }
    file.flush().unwrap_or_else(|e| panic!("write {out}: {e}"));
}
