//! The benchmark table's rows. One generator feeds both the Kafka topic Ferry's sink reads
//! (JsonConverter envelopes, schema + payload) and the text the raw loaders send (`COPY`,
//! `LOAD DATA`), so Ferry and the baselines write identical data.

use ferry_api::{Decimal, Schema, SchemaBuilder, SchemaRef, Struct, Value};

/// The columns, in table order (Ferry's `auto.create` names columns after the fields).
pub(crate) const COLUMNS: &str = "id,name,amount,active,created,price";
/// Scale of the `price` decimal.
pub(crate) const PRICE_SCALE: i32 = 2;
/// `created` of row 0 (2023-11-14 22:13:20 UTC).
const BASE_MS: i64 = 1_700_000_000_000;

/// One row: a value of every common column type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) id: i64,
    pub(crate) name: String,
    /// Multiples of 1/4, so the float prints and parses back exactly everywhere.
    pub(crate) amount: f64,
    pub(crate) active: bool,
    /// Milliseconds since the epoch.
    pub(crate) created_ms: i64,
    /// `price × 10^PRICE_SCALE`.
    pub(crate) price_unscaled: i64,
}

/// How booleans are spelled in loader text (PostgreSQL `t`/`f`, MySQL `1`/`0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Booleans {
    Letters,
    Digits,
}

/// Row `i` of the benchmark table (ids start at 1).
pub(crate) fn row(i: u64) -> Row {
    let i = i as i64;
    Row {
        id: i + 1,
        name: format!("customer-{:07} of region {}", i % 1_000_000, i % 17),
        amount: (i % 40_000) as f64 * 0.25,
        active: i % 3 == 0,
        created_ms: BASE_MS + i * 1_000 + i % 1_000,
        price_unscaled: (i * 37) % 10_000_000,
    }
}

/// The Connect schema of a row (all fields required, so the table's columns are NOT NULL).
pub(crate) fn schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("bench.Row")
        .field("id", Schema::int64())
        .field("name", Schema::string())
        .field("amount", Schema::float64())
        .field("active", Schema::boolean())
        .field("created", SchemaBuilder::timestamp().build())
        .field("price", SchemaBuilder::decimal(PRICE_SCALE).build())
        .build()
}

impl Row {
    /// The row as a Connect struct of [`schema`].
    pub(crate) fn to_struct(&self, schema: &SchemaRef) -> Struct {
        Struct::from_values(
            schema.clone(),
            vec![
                Value::Int64(self.id),
                Value::String(self.name.clone()),
                Value::Float64(self.amount),
                Value::Boolean(self.active),
                Value::Timestamp(self.created_ms),
                Value::Decimal(Decimal::new(self.price_unscaled, PRICE_SCALE)),
            ],
        )
        .expect("a row matches its schema")
    }

    /// Appends the row as one line of tab-separated loader text (the default format of both
    /// `COPY … FROM STDIN` and `LOAD DATA`; no value holds a tab, newline or backslash).
    pub(crate) fn write_line(&self, out: &mut String, booleans: Booleans) {
        use std::fmt::Write;
        let active = match (booleans, self.active) {
            (Booleans::Letters, true) => "t",
            (Booleans::Letters, false) => "f",
            (Booleans::Digits, true) => "1",
            (Booleans::Digits, false) => "0",
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            self.id,
            self.name,
            self.amount,
            active,
            timestamp_text(self.created_ms),
            decimal_text(self.price_unscaled, PRICE_SCALE)
        )
        .expect("writing to a String");
    }
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC (what both databases parse for a zone-less timestamp).
pub(crate) fn timestamp_text(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let secs = ms_of_day / 1_000;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60,
        ms_of_day % 1_000
    )
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian; Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A non-negative unscaled decimal as plain text (`1234` at scale 2 is `12.34`).
pub(crate) fn decimal_text(unscaled: i64, scale: i32) -> String {
    let digits = format!("{:0>width$}", unscaled, width = scale as usize + 1);
    let (int, frac) = digits.split_at(digits.len() - scale as usize);
    if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    }
}

/// Rows `0..records` as loader text, cut into chunks of about `chunk` bytes at line ends.
pub(crate) fn loader_chunks(records: u64, booleans: Booleans, chunk: usize) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::with_capacity(chunk + 256);
    for i in 0..records {
        row(i).write_line(&mut current, booleans);
        if current.len() >= chunk {
            chunks.push(std::mem::replace(
                &mut current,
                String::with_capacity(chunk + 256),
            ));
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_utc() {
        let cases = [
            (0, "1970-01-01 00:00:00.000"),
            (1_700_000_000_000, "2023-11-14 22:13:20.000"),
            (951_782_400_123, "2000-02-29 00:00:00.123"),
            (-1, "1969-12-31 23:59:59.999"),
        ];
        for (ms, text) in cases {
            assert_eq!(timestamp_text(ms), text, "{ms}");
        }
    }

    #[test]
    fn decimals_as_text() {
        let cases = [
            (0, 2, "0.00"),
            (5, 2, "0.05"),
            (123_456, 2, "1234.56"),
            (7, 0, "7"),
        ];
        for (unscaled, scale, text) in cases {
            assert_eq!(decimal_text(unscaled, scale), text, "{unscaled}e-{scale}");
        }
    }

    #[test]
    fn loader_lines() {
        let mut out = String::new();
        row(0).write_line(&mut out, Booleans::Letters);
        row(1001).write_line(&mut out, Booleans::Digits);
        assert_eq!(
            out,
            "1\tcustomer-0000000 of region 0\t0\tt\t2023-11-14 22:13:20.000\t0.00\n\
             1002\tcustomer-0001001 of region 15\t250.25\t0\t2023-11-14 22:30:01.001\t370.37\n"
        );
    }

    #[test]
    fn chunks_hold_every_line_once() {
        let chunks = loader_chunks(1_000, Booleans::Digits, 4_096);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.ends_with('\n')));
        let lines: Vec<&str> = chunks.iter().flat_map(|c| c.lines()).collect();
        assert_eq!(lines.len(), 1_000);
        assert!(lines[999].starts_with("1000\t"));
    }
}
