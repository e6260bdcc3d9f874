//! How every benchmark binary reports: one line for people, one `key=value`
//! line (prefixed `RESULT`) for bench/run.sh.

use std::time::Duration;

/// Throughput of `records` records of `bytes` total over `elapsed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    pub records: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Throughput {
    pub fn records_per_sec(&self) -> f64 {
        self.records as f64 / self.secs()
    }

    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.secs()
    }

    fn secs(&self) -> f64 {
        self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Prints both lines, the human one labelled `what`.
    pub fn print(&self, what: &str) {
        println!(
            "{what}: {} records ({:.1} MB) in {:.3} s = {:.0} records/s, {:.1} MB/s",
            self.records,
            self.bytes as f64 / 1e6,
            self.elapsed.as_secs_f64(),
            self.records_per_sec(),
            self.mb_per_sec()
        );
        println!("{}", self.result_line());
    }

    /// `RESULT records=.. bytes=.. seconds=.. records_per_sec=.. mb_per_sec=..`
    pub fn result_line(&self) -> String {
        format!(
            "RESULT records={} bytes={} seconds={:.6} records_per_sec={:.0} mb_per_sec={:.2}",
            self.records,
            self.bytes,
            self.elapsed.as_secs_f64(),
            self.records_per_sec(),
            self.mb_per_sec()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_line_has_rates() {
        let t = Throughput {
            records: 1_000_000,
            bytes: 100_000_000,
            elapsed: Duration::from_secs(2),
        };
        assert_eq!(
            t.result_line(),
            "RESULT records=1000000 bytes=100000000 seconds=2.000000 \
             records_per_sec=500000 mb_per_sec=50.00"
        );
    }
}
