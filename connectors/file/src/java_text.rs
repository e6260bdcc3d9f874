//! A value's text as Java's `String.valueOf(value)` prints it, which is what `FileStreamSinkTask`
//! writes (`PrintStream.println(record.value())`).
//!
//! Covered: `null`, numbers (`Double.toString` rules: `1.0`, `1.0E10`, `NaN`, `Infinity`),
//! strings as they are, `ArrayList` (`[a, b]`), maps (`{k=v, k2=v2}`, in the map's own order where
//! Java's `HashMap` order is a hash order), `Struct{a=1,b=x}` (null fields left out, as Kafka's
//! `Struct.toString` does), `BigDecimal.toString` and `java.util.Date.toString` in UTC.
//!
//! One deliberate difference: BYTES are written raw. Java prints a `byte[]` as an identity hash
//! (`[B@1b6d3586`), which carries no data.

use std::fmt::{self, Write as _};

use ferry_api::{Decimal, Value};

/// Appends `value`'s Java text to `out`.
pub(crate) fn write_java_text(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Bytes(b) => out.extend_from_slice(b),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_java_text(out, item);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_java_text(out, k);
                out.push(b'=');
                write_java_text(out, v);
            }
            out.push(b'}');
        }
        Value::Struct(s) => {
            out.extend_from_slice(b"Struct{");
            let fields = s.schema().fields.iter().zip(s.values());
            let mut first = true;
            for (field, v) in fields.filter(|(_, v)| !v.is_null()) {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(field.name.as_bytes());
                out.push(b'=');
                write_java_text(out, v);
            }
            out.push(b'}');
        }
        scalar => {
            let mut s = String::new();
            write_scalar(&mut s, scalar).expect("writing to a String cannot fail");
            out.extend_from_slice(s.as_bytes());
        }
    }
}

fn write_scalar(s: &mut String, value: &Value) -> fmt::Result {
    match value {
        Value::Null => s.write_str("null"),
        Value::Boolean(b) => write!(s, "{b}"),
        Value::Int8(v) => write!(s, "{v}"),
        Value::Int16(v) => write!(s, "{v}"),
        Value::Int32(v) => write!(s, "{v}"),
        Value::Int64(v) => write!(s, "{v}"),
        Value::Float32(v) => s.write_str(&java_float(*v)),
        Value::Float64(v) => s.write_str(&java_float(*v)),
        Value::Decimal(d) => s.write_str(&java_big_decimal(d)),
        Value::Date(days) => s.write_str(&java_date(i64::from(*days) * MILLIS_PER_DAY)),
        Value::Time(ms) => s.write_str(&java_date(i64::from(*ms))),
        Value::Timestamp(ms) => s.write_str(&java_date(*ms)),
        Value::String(_) | Value::Bytes(_) | Value::Array(_) | Value::Map(_) | Value::Struct(_) => {
            unreachable!("containers are written by write_java_text")
        }
    }
}

/// Java's `Double.toString` / `Float.toString`: plain with at least one fractional digit for
/// magnitudes in [10⁻³, 10⁷), otherwise computerized scientific notation (`1.0E10`, `1.5E-5`).
fn java_float<T>(v: T) -> String
where
    T: Copy + Into<f64> + fmt::Debug + fmt::LowerExp,
{
    let x: f64 = v.into();
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = x.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        // Rust's Debug is the shortest round-trip form and keeps ".0" on integral values.
        return format!("{v:?}");
    }
    let exp = format!("{v:e}");
    let (mantissa, e) = exp.split_once('e').expect("LowerExp has an exponent");
    if mantissa.contains('.') {
        format!("{mantissa}E{e}")
    } else {
        format!("{mantissa}.0E{e}")
    }
}

/// Java's `BigDecimal.toString`: plain unless the scale is negative or the adjusted exponent is
/// below -6, then scientific (`1.23E+5`, `1E-7`).
fn java_big_decimal(d: &Decimal) -> String {
    let text = d.unscaled.to_string();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(digits) => ("-", digits),
        None => ("", text.as_str()),
    };
    let adjusted = -i64::from(d.scale) + digits.len() as i64 - 1;
    if d.scale >= 0 && adjusted >= -6 {
        return d.to_string();
    }
    let (first, rest) = digits.split_at(1);
    let dot = if rest.is_empty() { "" } else { "." };
    let exp_sign = if adjusted >= 0 { "+" } else { "-" };
    format!("{sign}{first}{dot}{rest}E{exp_sign}{}", adjusted.abs())
}

const MILLIS_PER_DAY: i64 = 86_400_000;

/// Java's `java.util.Date.toString` in UTC: `Thu Jan 01 00:00:00 UTC 1970`.
fn java_date(epoch_ms: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = epoch_ms.div_euclid(MILLIS_PER_DAY);
    let secs = epoch_ms.rem_euclid(MILLIS_PER_DAY) / 1000;
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS[(days + 4).rem_euclid(7) as usize];
    format!(
        "{weekday} {} {day:02} {:02}:{:02}:{:02} UTC {year}",
        MONTHS[month as usize - 1],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::{Schema, SchemaBuilder, Struct};

    fn text(v: &Value) -> String {
        let mut out = Vec::new();
        write_java_text(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn scalars_print_as_java() {
        let table: Vec<(Value, &str)> = vec![
            (Value::Null, "null"),
            (Value::from("a line"), "a line"),
            (Value::from(true), "true"),
            (Value::from(-7i8), "-7"),
            (Value::from(42i64), "42"),
            (Value::from(1.0f64), "1.0"),
            (Value::from(0.001f64), "0.001"),
            (Value::from(1234567.5f64), "1234567.5"),
            (Value::from(1e7f64), "1.0E7"),
            (Value::from(1.5e-5f64), "1.5E-5"),
            (Value::from(-2.5e20f64), "-2.5E20"),
            (Value::from(0.1f32), "0.1"),
            (Value::from(f64::NAN), "NaN"),
            (Value::from(f64::NEG_INFINITY), "-Infinity"),
            (Value::from(Decimal::new(12345, 2)), "123.45"),
            (Value::from(Decimal::new(5, -2)), "5E+2"),
            (Value::from(Decimal::new(1, 7)), "1E-7"),
            (Value::from(Decimal::new(-123, 9)), "-1.23E-7"),
            (Value::from(Decimal::new(1, 6)), "0.000001"),
            (Value::Date(0), "Thu Jan 01 00:00:00 UTC 1970"),
            (
                Value::Timestamp(951_827_696_789),
                "Tue Feb 29 12:34:56 UTC 2000",
            ),
            (Value::Time(3_600_000), "Thu Jan 01 01:00:00 UTC 1970"),
            (Value::Timestamp(-1000), "Wed Dec 31 23:59:59 UTC 1969"),
            (Value::from(b"raw".to_vec()), "raw"),
        ];
        for (value, expected) in table {
            assert_eq!(text(&value), expected, "{value:?}");
        }
    }

    #[test]
    fn containers_print_as_java() {
        let schema = SchemaBuilder::struct_()
            .field("id", Schema::int32())
            .field("note", Schema::optional_string())
            .field("tags", SchemaBuilder::array(Schema::string()).build())
            .build();
        let mut s = Struct::new(schema);
        s.put("id", 7i32).unwrap();
        s.put("tags", Value::Array(vec!["a".into(), "b".into()]))
            .unwrap();
        assert_eq!(text(&Value::from(s)), "Struct{id=7,tags=[a, b]}");
        let map = Value::Map(vec![
            ("k".into(), Value::from(1i32)),
            ("n".into(), Value::Null),
        ]);
        assert_eq!(text(&map), "{k=1, n=null}");
    }
}
