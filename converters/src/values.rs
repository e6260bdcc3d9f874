//! Kafka's `Values.convertToString` and `Values.parseString`, the text forms
//! `SimpleHeaderConverter` writes and reads.
//!
//! Writing: primitives as their Java string form, strings and bytes (base64) quoted only inside
//! containers, arrays `[a,b]`, maps `{k:v}`, structs `{"f":v}`, dates ISO-8601 in UTC.
//! Reading: a token parser that splits on `: , { } [ ] "` (a backslash escapes), infers booleans,
//! the smallest of INT8/16/32/64 for integers, FLOAT32/FLOAT64/Decimal for other numbers,
//! ISO-8601 dates, times and timestamps, `null`, arrays and maps with a common element schema —
//! and falls back to STRING for anything else, exactly as the Java parser does.

use std::sync::LazyLock;

use base64::Engine as _;
use ferry_api::{Decimal, Schema, SchemaAndValue, SchemaBuilder, SchemaRef, SchemaType, Value};
use num_bigint::BigInt;

use crate::json::java_number::{big_decimal_to_string, f32_to_string, f64_to_string};
use crate::time::{days_from_civil, iso_date, iso_time, split_millis, MILLIS_PER_DAY};

/// `Values.convertToString` of a non-null value.
pub fn convert_to_string(value: &Value) -> String {
    let mut out = String::new();
    append(&mut out, value, false);
    out
}

fn append(out: &mut String, value: &Value, embedded: bool) {
    use std::fmt::Write as _;
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int8(v) => write!(out, "{v}").expect("write to String"),
        Value::Int16(v) => write!(out, "{v}").expect("write to String"),
        Value::Int32(v) => write!(out, "{v}").expect("write to String"),
        Value::Int64(v) => write!(out, "{v}").expect("write to String"),
        Value::Float32(v) => out.push_str(&f32_to_string(*v)),
        Value::Float64(v) => out.push_str(&f64_to_string(*v)),
        Value::Decimal(d) => out.push_str(&big_decimal_to_string(d)),
        Value::String(s) if embedded => {
            out.push('"');
            out.push_str(&s.replace('\\', "\\\\").replace('"', "\\\""));
            out.push('"');
        }
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(b);
            if embedded {
                out.push('"');
                out.push_str(&encoded);
                out.push('"');
            } else {
                out.push_str(&encoded);
            }
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, item, true);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, k, true);
                out.push(':');
                append(out, v, true);
            }
            out.push('}');
        }
        Value::Struct(st) => {
            out.push('{');
            for (i, field) in st.schema().fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, &Value::String(field.name.clone()), true);
                out.push(':');
                append(out, st.get_at(field.index), true);
            }
            out.push('}');
        }
        Value::Date(days) => append_date(out, i64::from(*days) * MILLIS_PER_DAY),
        Value::Time(ms) => append_date(out, i64::from(*ms)),
        Value::Timestamp(ms) => append_date(out, *ms),
    }
}

/// `Values.dateFormatFor`: before one day past the epoch a time, on a day boundary a date,
/// otherwise a timestamp.
fn append_date(out: &mut String, ms: i64) {
    let (days, of_day) = split_millis(ms);
    if ms < MILLIS_PER_DAY {
        out.push_str(&iso_time(of_day));
    } else if of_day == 0 {
        out.push_str(&iso_date(days));
    } else {
        out.push_str(&iso_date(days));
        out.push('T');
        out.push_str(&iso_time(of_day));
    }
}

/// `Values.parseString`: the schema and value a string most likely denotes.
pub fn parse_string(text: &str) -> SchemaAndValue {
    if text.is_empty() {
        return SchemaAndValue {
            schema: Some(Schema::string()),
            value: Value::String(String::new()),
        };
    }
    let mut parser = ValueParser {
        t: Tokens::new(text),
    };
    match parser.parse(false) {
        Ok(Some(sv)) => sv,
        Ok(None) => SchemaAndValue::null(),
        // Only embedded parsing fails, and a top-level parse never is embedded; stay total anyway.
        Err(_) => SchemaAndValue {
            schema: Some(Schema::string()),
            value: Value::String(text.to_owned()),
        },
    }
}

/// A parse failure inside an array or map (Java's `DataException`), which makes the caller fall
/// back to reading the text as a string.
#[derive(Debug)]
struct Unparsable;

type Parsed = Result<Option<SchemaAndValue>, Unparsable>;

fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c <= ' ')
}

fn java_trim(s: &str) -> &str {
    s.trim_matches(|c| c <= ' ')
}

/// Kafka's `Values.Parser`: tokens split at unescaped delimiters, with one token of look-ahead.
#[derive(Debug)]
struct Tokens<'a> {
    original: &'a str,
    pos: usize,
    next: Option<&'a str>,
    previous: Option<&'a str>,
}

impl<'a> Tokens<'a> {
    fn new(original: &'a str) -> Self {
        Tokens {
            original,
            pos: 0,
            next: None,
            previous: None,
        }
    }
    fn mark(&self) -> usize {
        self.pos - self.next.map_or(0, str::len)
    }
    fn rewind_to(&mut self, pos: usize) {
        self.pos = pos;
        self.next = None;
        self.previous = None;
    }
    fn has_next(&self) -> bool {
        self.next.is_some() || self.pos < self.original.len()
    }
    fn next(&mut self) -> &'a str {
        let token = match self.next.take() {
            Some(t) => t,
            None => self.consume(),
        };
        self.previous = Some(token);
        token
    }
    /// The text of the next `n` tokens, or `None` (position unchanged) if there are fewer.
    fn next_n(&mut self, n: usize) -> Option<&'a str> {
        let start = self.mark();
        for _ in 0..n {
            if !self.has_next() {
                self.rewind_to(start);
                return None;
            }
            self.next();
        }
        Some(&self.original[start..self.pos])
    }
    fn consume(&mut self) -> &'a str {
        let bytes = self.original.as_bytes();
        let start = self.pos;
        let mut escaped = false;
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b'\\' => escaped = !escaped,
                b':' | b',' | b'{' | b'}' | b'[' | b']' | b'"' if !escaped => {
                    if start < self.pos {
                        return &self.original[start..self.pos];
                    }
                    self.pos += 1;
                    return &self.original[start..self.pos];
                }
                _ => escaped = false,
            }
            self.pos += 1;
        }
        &self.original[start..self.pos]
    }
    fn is_next(&mut self, expected: &str) -> bool {
        if self.next.is_none() {
            if !self.has_next() {
                return false;
            }
            self.next = Some(self.consume());
        }
        while self.next.is_some_and(is_blank) && self.pos < self.original.len() {
            self.next = Some(self.consume());
        }
        self.next.is_some_and(|t| java_trim(t) == expected)
    }
    fn can_consume(&mut self, expected: &str) -> bool {
        if self.is_next(expected) {
            self.next = None;
            true
        } else {
            false
        }
    }
}

/// Kafka's `Values.ValueParser`.
#[derive(Debug)]
struct ValueParser<'a> {
    t: Tokens<'a>,
}

fn sv(schema: SchemaRef, value: Value) -> Option<SchemaAndValue> {
    Some(SchemaAndValue {
        schema: Some(schema),
        value,
    })
}

static DATE: LazyLock<SchemaRef> = LazyLock::new(|| SchemaBuilder::date().build());
static TIME: LazyLock<SchemaRef> = LazyLock::new(|| SchemaBuilder::time().build());
static TIMESTAMP: LazyLock<SchemaRef> = LazyLock::new(|| SchemaBuilder::timestamp().build());

impl ValueParser<'_> {
    fn single_literal(&mut self, embedded: bool, literal: &str) -> bool {
        let start = self.t.mark();
        if self.t.can_consume(literal) && (embedded || !self.t.has_next()) {
            return true;
        }
        self.t.rewind_to(start);
        false
    }

    fn parse(&mut self, embedded: bool) -> Parsed {
        if !self.t.has_next() {
            return Ok(None);
        }
        if embedded && self.t.can_consume("\"") {
            return Ok(self.parse_quoted_string());
        }
        if self.single_literal(embedded, "null") {
            return Ok(None);
        }
        if self.single_literal(embedded, "true") {
            return Ok(sv(Schema::boolean(), Value::Boolean(true)));
        }
        if self.single_literal(embedded, "false") {
            return Ok(sv(Schema::boolean(), Value::Boolean(false)));
        }
        let start = self.t.mark();
        let container = if self.t.can_consume("[") {
            Some(self.parse_array())
        } else if self.t.can_consume("{") {
            Some(self.parse_map())
        } else {
            None
        };
        match container {
            Some(Ok(parsed)) => return Ok(parsed),
            Some(Err(Unparsable)) => self.t.rewind_to(start),
            None => {}
        }
        let token = self.t.next();
        if is_blank(token) {
            return Ok(sv(Schema::string(), Value::String(token.to_owned())));
        }
        self.parse_next_token(embedded, java_trim(token))
    }

    fn parse_next_token(&mut self, embedded: bool, token: &str) -> Parsed {
        let first = token.chars().next().expect("non-blank token");
        let digit = first.is_ascii_digit();
        if digit {
            if let Some(temporal) = self.parse_multiple_tokens_as_temporal(token) {
                return Ok(Some(temporal));
            }
        }
        if digit || first == '+' || first == '-' {
            if let Some(number) = parse_as_number(token) {
                return Ok(Some(number));
            }
        }
        if embedded {
            return Err(Unparsable);
        }
        Ok(sv(
            Schema::string(),
            Value::String(self.t.original.to_owned()),
        ))
    }

    fn parse_quoted_string(&mut self) -> Option<SchemaAndValue> {
        let mut content = String::new();
        while self.t.has_next() {
            if self.t.can_consume("\"") {
                break;
            }
            content.push_str(self.t.next());
        }
        parse_as_temporal(&content).or_else(|| sv(Schema::string(), Value::String(content)))
    }

    fn parse_array(&mut self) -> Parsed {
        let mut items = Vec::new();
        let mut merger = SchemaMerger::default();
        while self.t.has_next() {
            if self.t.can_consume("]") {
                let schema = match merger.common() {
                    Some(element) => {
                        items = items
                            .into_iter()
                            .map(|v| convert_to(&element, v))
                            .collect::<Result<_, _>>()?;
                        SchemaBuilder::array(element).build()
                    }
                    None => ferry_api::Schema::of(SchemaType::Array, false).into(),
                };
                return Ok(sv(schema, Value::Array(items)));
            }
            if self.t.can_consume(",") {
                return Err(Unparsable);
            }
            let element = self.parse(true)?;
            merger.merge(element.as_ref());
            items.push(element.map_or(Value::Null, |e| e.value));
            let here = self.t.mark();
            if self.t.can_consume("]") {
                self.t.rewind_to(here);
            } else if !self.t.can_consume(",") {
                return Err(Unparsable);
            }
        }
        Err(Unparsable)
    }

    fn parse_map(&mut self) -> Parsed {
        let mut entries: Vec<(Value, Value)> = Vec::new();
        let mut keys = SchemaMerger::default();
        let mut values = SchemaMerger::default();
        while self.t.has_next() {
            if self.t.can_consume("}") {
                let mut schema = ferry_api::Schema::of(SchemaType::Map, false);
                if let Some(ks) = keys.common() {
                    let vs = values.common();
                    entries = entries
                        .into_iter()
                        .map(|(k, v)| {
                            let v = match &vs {
                                Some(vs) => convert_to(vs, v)?,
                                None => v,
                            };
                            Ok((convert_to(&ks, k)?, v))
                        })
                        .collect::<Result<_, Unparsable>>()?;
                    schema.key_schema = Some(ks);
                    schema.value_schema = vs;
                }
                return Ok(sv(schema.into(), Value::Map(entries)));
            }
            if self.t.can_consume(",") {
                return Err(Unparsable);
            }
            let key = match self.parse(true)? {
                Some(k) if !k.value.is_null() => k,
                _ => return Err(Unparsable),
            };
            if !self.t.can_consume(":") {
                return Err(Unparsable);
            }
            let value = self.parse(true)?;
            keys.merge(Some(&key));
            values.merge(value.as_ref());
            let value = value.map_or(Value::Null, |v| v.value);
            match entries.iter_mut().find(|(k, _)| *k == key.value) {
                Some(slot) => slot.1 = value,
                None => entries.push((key.value, value)),
            }
            self.t.can_consume(",");
        }
        Err(Unparsable)
    }

    fn parse_multiple_tokens_as_temporal(&mut self, token: &str) -> Option<SchemaAndValue> {
        let position = self.t.mark();
        if let Some(rest) = self.t.next_n(4) {
            if let Some(temporal) = parse_as_temporal(&format!("{token}{rest}")) {
                return Some(temporal);
            }
        }
        self.t.rewind_to(position);
        parse_as_temporal(token)
    }
}

/// `yyyy-MM-dd`, `HH:mm:ss.SSS'Z'` or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (UTC), by length.
fn parse_as_temporal(token: &str) -> Option<SchemaAndValue> {
    let token = token.replace("\\:", ":");
    let b = token.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = token.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let time_of = |off: usize| -> Option<i64> {
        (b.get(off + 2) == Some(&b':')
            && b.get(off + 5) == Some(&b':')
            && b.get(off + 8) == Some(&b'.')
            && b.get(off + 12) == Some(&b'Z'))
        .then_some(())?;
        Some(
            num(off..off + 2)? * 3_600_000
                + num(off + 3..off + 5)? * 60_000
                + num(off + 6..off + 8)? * 1000
                + num(off + 9..off + 12)?,
        )
    };
    let date_of = || -> Option<i64> {
        (b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-')).then_some(())?;
        Some(days_from_civil(num(0..4)?, num(5..7)?, num(8..10)?))
    };
    match token.chars().count() {
        13 => {
            let ms = time_of(0)?;
            sv(TIME.clone(), Value::Time(i32::try_from(ms).ok()?))
        }
        24 => {
            (b.get(10) == Some(&b'T')).then_some(())?;
            sv(
                TIMESTAMP.clone(),
                Value::Timestamp(date_of()? * MILLIS_PER_DAY + time_of(11)?),
            )
        }
        10 => sv(DATE.clone(), Value::Date(i32::try_from(date_of()?).ok()?)),
        _ => None,
    }
}

/// `ValueParser.parseAsNumber`: integral values as the smallest integer type that holds them,
/// others as FLOAT32 when finite, else FLOAT64, else a Decimal.
fn parse_as_number(token: &str) -> Option<SchemaAndValue> {
    let decimal = parse_java_big_decimal(token)?;
    let ten = BigInt::from(10);
    let integral = if decimal.unscaled == BigInt::ZERO {
        Some(BigInt::ZERO)
    } else if decimal.scale < -19
        || i64::from(decimal.scale) > decimal.unscaled.bits() as i64 / 3 + 2
    {
        // Too large for a long, or a non-zero value below 1: not an exact integer here.
        None
    } else if decimal.scale <= 0 {
        Some(&decimal.unscaled * ten.pow(decimal.scale.unsigned_abs()))
    } else {
        let f = ten.pow(decimal.scale as u32);
        (&decimal.unscaled % &f == BigInt::ZERO).then(|| &decimal.unscaled / &f)
    };
    if let Some(n) = integral.as_ref().and_then(|n| i64::try_from(n).ok()) {
        return if let Ok(v) = i8::try_from(n) {
            sv(Schema::int8(), Value::Int8(v))
        } else if let Ok(v) = i16::try_from(n) {
            sv(Schema::int16(), Value::Int16(v))
        } else if let Ok(v) = i32::try_from(n) {
            sv(Schema::int32(), Value::Int32(v))
        } else {
            sv(Schema::int64(), Value::Int64(n))
        };
    }
    let text = token.strip_prefix('+').unwrap_or(token);
    if decimal.scale != 0 {
        if let Ok(f) = text.parse::<f32>() {
            if f.is_finite() {
                return sv(Schema::float32(), Value::Float32(f));
            }
        }
        if let Ok(d) = text.parse::<f64>() {
            if d.is_finite() {
                return sv(Schema::float64(), Value::Float64(d));
            }
        }
    }
    let scale = decimal.scale;
    sv(
        SchemaBuilder::decimal(scale).build(),
        Value::Decimal(decimal),
    )
}

/// Java `new BigDecimal(String)`: optional sign, digits with an optional point (`.5`, `5.` are
/// fine), optional exponent.
fn parse_java_big_decimal(token: &str) -> Option<Decimal> {
    let bytes = token.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let mut digits = 0;
    let mut seen_point = false;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'0'..=b'9' => digits += 1,
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if let Some(b'e' | b'E') = bytes.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = bytes.get(i) {
            i += 1;
        }
        let exp_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    crate::json::parse_decimal_text(token)
}

/// Kafka's `SchemaMerger`: the common schema of the non-null values seen, if any.
#[derive(Debug, Default)]
struct SchemaMerger {
    common: Option<SchemaRef>,
    incompatible: bool,
}

impl SchemaMerger {
    fn merge(&mut self, latest: Option<&SchemaAndValue>) {
        let Some(schema) = latest.and_then(|l| l.schema.clone()) else {
            return;
        };
        if self.incompatible {
            return;
        }
        self.common = match self.common.take() {
            None => Some(schema),
            Some(previous) => merge_schemas(previous, schema),
        };
        self.incompatible = self.common.is_none();
    }
    fn common(&self) -> Option<SchemaRef> {
        self.common.clone()
    }
}

/// Numeric rank for widening: INT8 < INT16 < INT32 < INT64 < FLOAT32 < FLOAT64.
fn numeric_rank(t: SchemaType) -> Option<u8> {
    Some(match t {
        SchemaType::Int8 => 0,
        SchemaType::Int16 => 1,
        SchemaType::Int32 => 2,
        SchemaType::Int64 => 3,
        SchemaType::Float32 => 4,
        SchemaType::Float64 => 5,
        _ => return None,
    })
}

fn merge_schemas(previous: SchemaRef, new: SchemaRef) -> Option<SchemaRef> {
    if previous.schema_type != new.schema_type {
        let (p, n) = (
            numeric_rank(previous.schema_type)?,
            numeric_rank(new.schema_type)?,
        );
        return Some(if n > p { new } else { previous });
    }
    if previous.optional == new.optional {
        return Some(if previous.optional { previous } else { new });
    }
    (previous == new).then_some(previous)
}

/// `Values.convertTo` for the cases the parser needs: numeric widening to the common schema; a
/// null under a required schema fails.
fn convert_to(schema: &Schema, value: Value) -> Result<Value, Unparsable> {
    if value.is_null() {
        return if schema.optional {
            Ok(Value::Null)
        } else {
            Err(Unparsable)
        };
    }
    let as_f64 = |v: &Value| match *v {
        Value::Float32(f) => Some(f64::from(f)),
        Value::Float64(f) => Some(f),
        _ => v.as_i64().map(|i| i as f64),
    };
    let logical = schema.name.is_some();
    Ok(match (schema.schema_type, &value) {
        (_, _) if logical => value,
        (SchemaType::Int16, Value::Int8(v)) => Value::Int16(i16::from(*v)),
        (SchemaType::Int32, Value::Int8(_) | Value::Int16(_)) => {
            Value::Int32(value.as_i64().ok_or(Unparsable)? as i32)
        }
        (SchemaType::Int64, Value::Int8(_) | Value::Int16(_) | Value::Int32(_)) => {
            Value::Int64(value.as_i64().ok_or(Unparsable)?)
        }
        (
            SchemaType::Float32,
            Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_),
        ) => Value::Float32(value.as_i64().ok_or(Unparsable)? as f32),
        (
            SchemaType::Float64,
            Value::Int8(_)
            | Value::Int16(_)
            | Value::Int32(_)
            | Value::Int64(_)
            | Value::Float32(_),
        ) => Value::Float64(as_f64(&value).ok_or(Unparsable)?),
        _ => value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_api::Struct;

    fn parsed(text: &str) -> (Option<SchemaRef>, Value) {
        let sv = parse_string(text);
        (sv.schema, sv.value)
    }

    #[test]
    fn infers_primitives() {
        let cases: Vec<(&str, Option<SchemaRef>, Value)> = vec![
            ("true", Some(Schema::boolean()), Value::Boolean(true)),
            ("false", Some(Schema::boolean()), Value::Boolean(false)),
            ("null", None, Value::Null),
            ("12", Some(Schema::int8()), Value::Int8(12)),
            ("-129", Some(Schema::int16()), Value::Int16(-129)),
            ("40000", Some(Schema::int32()), Value::Int32(40000)),
            (
                "3000000000",
                Some(Schema::int64()),
                Value::Int64(3_000_000_000),
            ),
            ("1.5e3", Some(Schema::int16()), Value::Int16(1500)),
            ("1.1", Some(Schema::float32()), Value::Float32(1.1)),
            ("1e39", Some(Schema::float64()), Value::Float64(1e39)),
            (
                "1e400",
                Some(SchemaBuilder::decimal(-400).build()),
                Value::Decimal(Decimal::new(1, -400)),
            ),
            ("+.5", Some(Schema::float32()), Value::Float32(0.5)),
            ("1.5e300", Some(Schema::float64()), Value::Float64(1.5e300)),
            (
                "hello world",
                Some(Schema::string()),
                Value::from("hello world"),
            ),
            ("true}", Some(Schema::string()), Value::from("true}")),
            ("", Some(Schema::string()), Value::from("")),
            ("  ", Some(Schema::string()), Value::from("  ")),
            ("2024-01-02", Some(DATE.clone()), Value::Date(19724)),
            ("12:34:56.789Z", Some(TIME.clone()), Value::Time(45_296_789)),
            (
                "2024-01-02T12:34:56.789Z",
                Some(TIMESTAMP.clone()),
                Value::Timestamp(19724 * MILLIS_PER_DAY + 45_296_789),
            ),
        ];
        for (text, schema, value) in cases {
            assert_eq!(parsed(text), (schema, value), "{text}");
        }
    }

    #[test]
    fn infers_arrays_and_maps() {
        let (schema, value) = parsed("[1, 2, 300]");
        assert_eq!(schema.unwrap().value_schema, Some(Schema::int16()));
        assert_eq!(
            value,
            Value::Array(vec![Value::Int16(1), Value::Int16(2), Value::Int16(300)])
        );
        let (schema, value) = parsed(r#"{"a":1,"b":2.5}"#);
        let schema = schema.unwrap();
        assert_eq!(schema.key_schema, Some(Schema::string()));
        assert_eq!(schema.value_schema, Some(Schema::float32()));
        assert_eq!(
            value,
            Value::Map(vec![
                ("a".into(), Value::Float32(1.0)),
                ("b".into(), Value::Float32(2.5))
            ])
        );
        // Mixed element types have no common schema; the values stay as parsed.
        let (schema, value) = parsed(r#"[1,"x"]"#);
        assert_eq!(schema.unwrap().value_schema, None);
        assert_eq!(value, Value::Array(vec![Value::Int8(1), "x".into()]));
        // A null under a required common schema makes the whole text a string, as in Java.
        assert_eq!(
            parsed("[1,null]"),
            (Some(Schema::string()), Value::from("[1,null]"))
        );
        assert_eq!(
            parsed("[1,2"),
            (Some(Schema::string()), Value::from("[1,2"))
        );
        assert_eq!(parsed("{a}"), (Some(Schema::string()), Value::from("{a}")));
        assert_eq!(parsed("[]").1, Value::Array(vec![]));
    }

    #[test]
    fn writes_values_strings() {
        let schema = SchemaBuilder::struct_()
            .field("s", Schema::string())
            .field("n", Schema::optional_int32())
            .build();
        let st = Struct::new(schema).with("s", "a\"b").unwrap();
        let cases: Vec<(Value, &str)> = vec![
            (Value::from("plain \"text\""), "plain \"text\""),
            (Value::Int32(-5), "-5"),
            (Value::Float64(1.0e10), "1.0E10"),
            (Value::Bytes(b"hi".to_vec().into()), "aGk="),
            (
                Value::Array(vec!["x".into(), 1i8.into(), Value::Null]),
                r#"["x",1,null]"#,
            ),
            (
                Value::Map(vec![("k".into(), Value::Bytes(b"hi".to_vec().into()))]),
                r#"{"k":"aGk="}"#,
            ),
            (st.into(), r#"{"s":"a\"b","n":null}"#),
            (Value::Date(19724), "2024-01-02"),
            (Value::Time(45_296_789), "12:34:56.789Z"),
            (
                Value::Timestamp(19724 * MILLIS_PER_DAY + 1),
                "2024-01-02T00:00:00.001Z",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(convert_to_string(&v), want);
        }
        // Round trip through the header converter's two halves.
        let text = convert_to_string(&Value::Map(vec![("k".into(), Value::Int32(7))]));
        assert_eq!(
            parsed(&text).1,
            Value::Map(vec![("k".into(), Value::Int8(7))])
        );
    }
}
