//! Java's `toString()` of Connect values, which is what `StringConverter` writes: `Struct{a=1,b=x}`
//! (null fields omitted), `[a, b]` for lists, `{k=v}` for maps, `Double.toString` for doubles,
//! `BigDecimal.toString` for decimals, `java.util.Date.toString` (in UTC) for dates.
//!
//! Differences that cannot be helped: Java prints a `byte[]` as its identity hash (`[B@1b6d3586`);
//! Ferry prints nested bytes as `Arrays.toString` would (`[1, 2, 3]`), and the converter writes
//! top-level bytes through unchanged. Java `HashMap`s print in hash order; Ferry keeps insertion
//! order.

use std::fmt::Write as _;

use ferry_api::Value;

use crate::json::java_number::{big_decimal_to_string, f32_to_string, f64_to_string};
use crate::time::{java_date_string, MILLIS_PER_DAY};

/// Appends `value.toString()`.
pub(crate) fn write_java_string(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int8(v) => write!(out, "{v}").expect("write to String"),
        Value::Int16(v) => write!(out, "{v}").expect("write to String"),
        Value::Int32(v) => write!(out, "{v}").expect("write to String"),
        Value::Int64(v) => write!(out, "{v}").expect("write to String"),
        Value::Float32(v) => out.push_str(&f32_to_string(*v)),
        Value::Float64(v) => out.push_str(&f64_to_string(*v)),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            out.push('[');
            for (i, byte) in b.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write!(out, "{}", *byte as i8).expect("write to String");
            }
            out.push(']');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java_string(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java_string(out, k);
                out.push('=');
                write_java_string(out, v);
            }
            out.push('}');
        }
        Value::Struct(st) => {
            out.push_str("Struct{");
            let mut first = true;
            for (field, v) in st.schema().fields.iter().zip(st.values()) {
                if v.is_null() {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&field.name);
                out.push('=');
                write_java_string(out, v);
            }
            out.push('}');
        }
        Value::Decimal(d) => out.push_str(&big_decimal_to_string(d)),
        Value::Date(days) => out.push_str(&java_date_string(i64::from(*days) * MILLIS_PER_DAY)),
        Value::Time(ms) => out.push_str(&java_date_string(i64::from(*ms))),
        Value::Timestamp(ms) => out.push_str(&java_date_string(*ms)),
    }
}

/// `value.toString()` as a `String`.
pub fn java_to_string(value: &Value) -> String {
    let mut out = String::new();
    write_java_string(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::{Decimal, Schema, SchemaBuilder, Struct};

    #[test]
    fn values_print_like_java_to_string() {
        let schema = SchemaBuilder::struct_()
            .field("a", Schema::int32())
            .field("b", Schema::optional_string())
            .field("c", Schema::optional_float64())
            .field("d", Schema::optional_string())
            .build();
        let st = Struct::new(schema)
            .with("a", 1i32)
            .unwrap()
            .with("b", "x")
            .unwrap()
            .with("c", 1.0e10)
            .unwrap();
        let cases: Vec<(Value, &str)> = vec![
            (st.into(), "Struct{a=1,b=x,c=1.0E10}"),
            (Value::Float32(1.0), "1.0"),
            (Value::Decimal(Decimal::new(5, -2)), "5E+2"),
            (
                Value::Array(vec![1i64.into(), Value::Null, "s".into()]),
                "[1, null, s]",
            ),
            (
                Value::Map(vec![("k".into(), true.into()), ("j".into(), 2i8.into())]),
                "{k=true, j=2}",
            ),
            (Value::Bytes(vec![1u8, 255].into()), "[1, -1]"),
            (Value::Date(1), "Fri Jan 02 00:00:00 UTC 1970"),
        ];
        for (v, want) in cases {
            assert_eq!(java_to_string(&v), want);
        }
    }
}
