//! The key/value codec of Connect's source offsets (COMPAT §3.3), shared by the standalone offsets
//! file and the Kafka offsets topic.
//!
//! * key = `["<connector>",{<source partition>}]`, JSON without whitespace;
//! * value = the source offset as a JSON object (a null *value* — tombstone — is handled by the
//!   stores, not here).
//!
//! Java writes the partition map in its `HashMap` iteration order, so the same partition can have
//! different key bytes in Java and here (ferry writes sorted keys, [`SourceMap`] being a
//! `BTreeMap`). Stores must therefore index offsets by the *decoded* `(connector, partition)`
//! ([`decode_key`]) and never compare key bytes (COMPAT §12 item 4).
//!
//! Encoding mirrors Jackson as used by Connect's `JsonConverter`: strings escape `"`, `\` and
//! control characters only (`\b \t \n \f \r` short forms, others `\u00XX` with upper-case hex);
//! integers print as decimal; doubles print as Java's `Double.toString` (see [`java_double`]).
//! Decoding follows the schemaless `JsonConverter`: integral JSON numbers become
//! [`OffsetValue::Int`], others [`OffsetValue::Float`].

use std::fmt::Write as _;

use ferry_api::{OffsetValue, SourceMap};
use serde_json::Value as Json;

/// A malformed offsets-topic key or value. The message quotes the bytes (truncated) and says
/// what is wrong with them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OffsetCodecError {
    /// The key is not `["<connector>",{…}]` with primitive partition values.
    #[error("malformed source offset key {text}: {problem}")]
    Key {
        /// The key bytes as (lossy, truncated) text.
        text: String,
        /// What is wrong.
        problem: String,
    },
    /// The value is not a JSON object with primitive values.
    #[error("malformed source offset value {text}: {problem}")]
    Value {
        /// The value bytes as (lossy, truncated) text.
        text: String,
        /// What is wrong.
        problem: String,
    },
}

/// Encodes an offsets key: `["<connector>",{"k":v,…}]` with the partition in its (sorted) order.
pub fn encode_key(connector: &str, partition: &SourceMap) -> Vec<u8> {
    let mut out = String::with_capacity(32);
    out.push('[');
    write_json_string(&mut out, connector);
    out.push(',');
    write_json_map(&mut out, partition);
    out.push(']');
    out.into_bytes()
}

/// Decodes an offsets key into `(connector, source partition)`, accepting any key order (as
/// written by Java) and surrounding whitespace.
pub fn decode_key(bytes: &[u8]) -> Result<(String, SourceMap), OffsetCodecError> {
    let fail = |problem: String| OffsetCodecError::Key {
        text: quote_bytes(bytes),
        problem,
    };
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| fail(format!("not valid JSON ({e})")))?;
    let Json::Array(items) = json else {
        return Err(fail(format!(
            "expected a JSON array [connector, partition], found {}",
            json_kind(&json)
        )));
    };
    let [connector, partition] = <[Json; 2]>::try_from(items).map_err(|items| {
        fail(format!(
            "expected 2 elements [connector, partition], found {}",
            items.len()
        ))
    })?;
    let Json::String(connector) = connector else {
        return Err(fail(format!(
            "the connector name (first element) must be a string, found {}",
            json_kind(&connector)
        )));
    };
    let Json::Object(partition) = partition else {
        return Err(fail(format!(
            "the source partition (second element) must be an object, found {}",
            json_kind(&partition)
        )));
    };
    let partition = source_map(partition, "source partition").map_err(fail)?;
    Ok((connector, partition))
}

/// Encodes a source offset as a JSON object in its (sorted) key order.
pub fn encode_offset(offset: &SourceMap) -> Vec<u8> {
    let mut out = String::with_capacity(32);
    write_json_map(&mut out, offset);
    out.into_bytes()
}

/// Decodes a source offset (a JSON object of primitives) in any key order.
pub fn decode_offset(bytes: &[u8]) -> Result<SourceMap, OffsetCodecError> {
    let fail = |problem: String| OffsetCodecError::Value {
        text: quote_bytes(bytes),
        problem,
    };
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| fail(format!("not valid JSON ({e})")))?;
    let Json::Object(offset) = json else {
        return Err(fail(format!(
            "expected a JSON object, found {}",
            json_kind(&json)
        )));
    };
    source_map(offset, "source offset").map_err(fail)
}

/// Converts a JSON object into a [`SourceMap`]; `what` names the map in the error.
fn source_map(object: serde_json::Map<String, Json>, what: &str) -> Result<SourceMap, String> {
    object
        .into_iter()
        .map(|(field, json)| {
            let value = match json {
                Json::Null => OffsetValue::Null,
                Json::Bool(b) => OffsetValue::Bool(b),
                Json::String(s) => OffsetValue::String(s),
                Json::Number(n) => match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) => OffsetValue::Int(i),
                    (None, _) if n.is_u64() => {
                        return Err(format!(
                        "field `{field}` of the {what} holds {n}, beyond the 64-bit integer range"
                    ))
                    }
                    (None, Some(f)) => OffsetValue::Float(f),
                    (None, None) => {
                        return Err(format!(
                            "field `{field}` of the {what} holds the unrepresentable number {n}"
                        ))
                    }
                },
                other => {
                    return Err(format!(
                        "field `{field}` of the {what} holds {}; only strings, numbers, booleans \
                         and null are allowed",
                        json_kind(&other)
                    ))
                }
            };
            Ok((field, value))
        })
        .collect()
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// The bytes as text for an error message, truncated so a huge blob cannot flood the log.
fn quote_bytes(bytes: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("`{}…` ({} bytes)", &text[..cut], bytes.len()),
        None => format!("`{text}`"),
    }
}

fn write_json_map(out: &mut String, map: &SourceMap) {
    out.push('{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(out, key);
        out.push(':');
        write_json_value(out, value);
    }
    out.push('}');
}

fn write_json_value(out: &mut String, value: &OffsetValue) {
    match value {
        OffsetValue::Null => out.push_str("null"),
        OffsetValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        OffsetValue::Int(i) => {
            let _ = write!(out, "{i}");
        }
        // Jackson quotes non-finite doubles by default (QUOTE_NON_NUMERIC_NUMBERS), so they
        // read back as strings, as they do in Java.
        OffsetValue::Float(f) if !f.is_finite() => write_json_string(out, &java_double(*f)),
        OffsetValue::Float(f) => out.push_str(&java_double(*f)),
        OffsetValue::String(s) => write_json_string(out, s),
    }
}

/// Writes a JSON string escaped as Jackson does.
fn write_json_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' => {
                let b = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Formats a double as Java's `Double.toString` (JDK 19+, shortest round-trip digits), which is
/// what Jackson writes: integral values keep a fraction (`1.0`, `-0.0`), magnitudes in
/// [10⁻³, 10⁷) are plain decimals (`0.001`, `1234567.5`), others use `E` notation with at least
/// one fractional digit (`1.0E7`, `1.5E-4`, `4.9E-324`); `NaN`, `Infinity`, `-Infinity`.
/// (Older JDKs occasionally printed extra digits for a few values; they read back the same.)
pub fn java_double(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `d[.ddd]e<exp>`. Java never stops at
    // one digit: it takes the closest two-digit decimal instead, which differs only for a few
    // subnormals (`4.9E-324`, not `5.0E-324`).
    let mut scientific = format!("{:e}", value.abs());
    if !scientific.contains('.') {
        let two_digits = format!("{:.1e}", value.abs());
        if two_digits.parse::<f64>() == Ok(value.abs()) {
            scientific = two_digits;
        }
    }
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` output always has an exponent");
    let exponent: i32 = exponent
        .parse()
        .expect("`{:e}` exponent is always an integer");
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let (first, rest) = digits.split_at(1);
    if (-3..7).contains(&exponent) {
        if exponent < 0 {
            let zeros = "0".repeat((-exponent - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let int_len = exponent as usize + 1;
            if digits.len() > int_len {
                format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
            } else {
                let zeros = "0".repeat(int_len - digits.len());
                format!("{sign}{digits}{zeros}.0")
            }
        }
    } else {
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exponent}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, OffsetValue)]) -> SourceMap {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn encodes_keys_without_whitespace_in_sorted_order() {
        let cases: &[(&str, SourceMap, &str)] = &[
            (
                "inventory",
                map(&[("server", "dbserver1".into())]),
                r#"["inventory",{"server":"dbserver1"}]"#,
            ),
            (
                "mm",
                map(&[
                    ("topic", "t".into()),
                    ("cluster", "A".into()),
                    ("partition", 0.into()),
                ]),
                r#"["mm",{"cluster":"A","partition":0,"topic":"t"}]"#,
            ),
            ("empty", SourceMap::new(), r#"["empty",{}]"#),
            (
                "types",
                map(&[
                    ("b", OffsetValue::Bool(false)),
                    ("f", OffsetValue::Float(1.5)),
                    ("g", OffsetValue::Float(3.0)),
                    ("i", OffsetValue::Int(-42)),
                    ("n", OffsetValue::Null),
                ]),
                r#"["types",{"b":false,"f":1.5,"g":3.0,"i":-42,"n":null}]"#,
            ),
            (
                "we\"ird\\\n",
                map(&[("tab\t", "\u{1}\u{1f}\u{8}\u{c}\r/é😀".into())]),
                r#"["we\"ird\\\n",{"tab\t":"\u0001\u001F\b\f\r/é😀"}]"#,
            ),
        ];
        for (connector, partition, expected) in cases {
            let bytes = encode_key(connector, partition);
            assert_eq!(String::from_utf8(bytes.clone()).unwrap(), *expected);
            assert_eq!(
                decode_key(&bytes).unwrap(),
                ((*connector).to_owned(), partition.clone())
            );
        }
    }

    #[test]
    fn decodes_keys_written_by_java_in_any_order() {
        let expected = map(&[
            ("cluster", "A".into()),
            ("partition", 0.into()),
            ("topic", "t".into()),
        ]);
        for java in [
            r#"["mm",{"topic":"t","cluster":"A","partition":0}]"#,
            r#"["mm",{"cluster":"A","partition":0,"topic":"t"}]"#,
            r#" [ "mm" , { "partition" : 0 , "topic" : "t" , "cluster" : "A" } ] "#,
        ] {
            assert_eq!(
                decode_key(java.as_bytes()).unwrap(),
                ("mm".to_owned(), expected.clone()),
                "{java}"
            );
        }
        let jdbc = decode_key(br#"["jdbc-src",{"protocol":"1","table":"db.tbl"}]"#).unwrap();
        assert_eq!(jdbc.0, "jdbc-src");
        assert_eq!(
            jdbc.1,
            map(&[("protocol", "1".into()), ("table", "db.tbl".into())])
        );
    }

    #[test]
    fn offsets_round_trip_with_java_number_rules() {
        let cases: &[(&str, SourceMap)] = &[
            (
                r#"{"file":"mysql-bin.000003","pos":154,"ts_sec":1700000000}"#,
                map(&[
                    ("file", "mysql-bin.000003".into()),
                    ("pos", 154.into()),
                    ("ts_sec", 1_700_000_000.into()),
                ]),
            ),
            (
                r#"{"big":9223372036854775807,"neg":-9223372036854775808}"#,
                map(&[
                    ("big", OffsetValue::Int(i64::MAX)),
                    ("neg", OffsetValue::Int(i64::MIN)),
                ]),
            ),
            (
                r#"{"a":1.0,"b":0.5,"c":1.0E10}"#,
                map(&[
                    ("a", OffsetValue::Float(1.0)),
                    ("b", OffsetValue::Float(0.5)),
                    ("c", OffsetValue::Float(1e10)),
                ]),
            ),
            (
                r#"{"snapshot":true,"gtid":null}"#,
                map(&[
                    ("gtid", OffsetValue::Null),
                    ("snapshot", OffsetValue::Bool(true)),
                ]),
            ),
        ];
        for (json, offset) in cases {
            assert_eq!(&decode_offset(json.as_bytes()).unwrap(), offset, "{json}");
            let encoded = encode_offset(offset);
            assert_eq!(&decode_offset(&encoded).unwrap(), offset);
        }
        assert_eq!(
            encode_offset(&map(&[("pos", 154.into()), ("file", "f".into())])),
            br#"{"file":"f","pos":154}"#
        );
        // JSON exponent/fraction syntax means a double, as Jackson reads it.
        assert_eq!(
            decode_offset(br#"{"x":1e3,"y":2.0}"#).unwrap(),
            map(&[
                ("x", OffsetValue::Float(1000.0)),
                ("y", OffsetValue::Float(2.0))
            ])
        );
    }

    #[test]
    fn doubles_print_like_java() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.0, "-2.0"),
            (0.5, "0.5"),
            (123.456, "123.456"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (0.002, "0.002"),
            (2e-5, "2.0E-5"),
            (0.0001, "1.0E-4"),
            (0.00015, "1.5E-4"),
            (1234567.5, "1234567.5"),
            (9999999.0, "9999999.0"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (1e21, "1.0E21"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (5e-324, "4.9E-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (value, java) in cases {
            assert_eq!(java_double(*value), *java, "{value:e}");
        }
        assert_eq!(
            encode_offset(&map(&[("x", OffsetValue::Float(f64::NAN))])),
            br#"{"x":"NaN"}"#
        );
    }

    #[test]
    fn malformed_keys_say_what_is_wrong() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "malformed source offset key ``: not valid JSON (EOF while parsing a value at line 1 column 0)"),
            (b"[\"c\",{}", "malformed source offset key `[\"c\",{}`: not valid JSON (EOF while parsing a list at line 1 column 7)"),
            (br#"{"c":{}}"#, r#"malformed source offset key `{"c":{}}`: expected a JSON array [connector, partition], found an object"#),
            (br#"["c"]"#, r#"malformed source offset key `["c"]`: expected 2 elements [connector, partition], found 1"#),
            (br#"["c",{},1]"#, r#"malformed source offset key `["c",{},1]`: expected 2 elements [connector, partition], found 3"#),
            (br#"[1,{}]"#, r#"malformed source offset key `[1,{}]`: the connector name (first element) must be a string, found a number"#),
            (br#"["c",null]"#, r#"malformed source offset key `["c",null]`: the source partition (second element) must be an object, found null"#),
            (br#"["c",{"p":[1]}]"#, r#"malformed source offset key `["c",{"p":[1]}]`: field `p` of the source partition holds an array; only strings, numbers, booleans and null are allowed"#),
            (br#"["c",{"p":18446744073709551615}]"#, r#"malformed source offset key `["c",{"p":18446744073709551615}]`: field `p` of the source partition holds 18446744073709551615, beyond the 64-bit integer range"#),
        ];
        for (bytes, message) in cases {
            assert_eq!(decode_key(bytes).unwrap_err().to_string(), *message);
        }
    }

    #[test]
    fn malformed_values_say_what_is_wrong() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"null",
                "malformed source offset value `null`: expected a JSON object, found null",
            ),
            (
                b"[1]",
                "malformed source offset value `[1]`: expected a JSON object, found an array",
            ),
            (
                br#"{"o":{"x":1}}"#,
                r#"malformed source offset value `{"o":{"x":1}}`: field `o` of the source offset holds an object; only strings, numbers, booleans and null are allowed"#,
            ),
        ];
        for (bytes, message) in cases {
            assert_eq!(decode_offset(bytes).unwrap_err().to_string(), *message);
        }
        let long = format!("[{}", "1,".repeat(300));
        let err = decode_offset(long.as_bytes()).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "malformed source offset value `[{}…` (601 bytes)",
                &"1,".repeat(100)[..199]
            )),
            "{err}"
        );
    }
}
