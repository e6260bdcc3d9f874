//! Connect data → JSON text, written straight into one `Vec<u8>` with Jackson's exact bytes: no
//! spaces, Jackson's string escaping, Java's number formatting, base64 for bytes, non-finite
//! floats as quoted strings (Jackson's `QUOTE_NON_NUMERIC_NUMBERS`). Mirrors Kafka's
//! `JsonConverter.convertToJson`, including its error messages.

use std::io::Write as _;

use base64::Engine as _;
use ferry_api::schema::logical;
use ferry_api::{ConnectError, Result, Schema, SchemaType, Value};

use super::java_number::{write_big_decimal, write_f32, write_f64};
use super::{DecimalFormat, JsonOptions};

/// Appends `s` as a JSON string literal, escaped as Jackson escapes: `"` and `\`, the short forms
/// `\b \t \n \f \r`, every other control character as `\u00XX` (upper-case hex); nothing else.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x09 => b't',
            0x0a => b'n',
            0x0c => b'f',
            0x0d => b'r',
            0..=0x1f => 0,
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        if short != 0 {
            out.extend_from_slice(&[b'\\', short]);
        } else {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]);
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Appends `bytes` as a quoted base64 string (standard alphabet, padded: Jackson's default variant).
pub(crate) fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let engine = &base64::engine::general_purpose::STANDARD;
    out.push(b'"');
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true).expect("base64 length overflow");
    out.resize(start + len, 0);
    let written = engine
        .encode_slice(bytes, &mut out[start..])
        .expect("buffer sized by encoded_len");
    out.truncate(start + written);
    out.push(b'"');
}

fn invalid_type(schema_type: SchemaType, value: &Value) -> ConnectError {
    ConnectError::data(format!(
        "Invalid type for {schema_type}: class {}",
        value.java_class()
    ))
}

/// The schema type of a value written without a schema (Kafka's `ConnectSchema.schemaType` of the
/// Java class): logical values have none.
fn schemaless_type(value: &Value) -> Result<SchemaType> {
    match value {
        Value::Decimal(_) | Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => {
            Err(ConnectError::data(format!(
                "Java class class {} does not have corresponding schema type.",
                value.java_class()
            )))
        }
        other => Ok(other.inferred_type().expect("non-null value has a type")),
    }
}

/// Appends the JSON form of `value` under `schema` (schemaless when `None`). A null value with no
/// schema is written as `null`; callers that want a tombstone check for it first.
pub fn write_value(
    out: &mut Vec<u8>,
    schema: Option<&Schema>,
    value: &Value,
    opts: &JsonOptions,
) -> Result<()> {
    if value.is_null() {
        let Some(schema) = schema else {
            out.extend_from_slice(b"null");
            return Ok(());
        };
        if let (Some(default), true) = (&schema.default, opts.replace_null_with_default) {
            if !default.is_null() {
                return write_value(out, Some(schema), default, opts);
            }
        }
        if schema.optional {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        return Err(ConnectError::data(
            "Conversion error: null value for field that is required and has no default value",
        ));
    }
    if let Some(schema) = schema {
        if write_logical(out, schema, value, opts)? {
            return Ok(());
        }
    }
    let schema_type = match schema {
        Some(s) => s.schema_type,
        None => schemaless_type(value)?,
    };
    match (schema_type, value) {
        (SchemaType::Int8, Value::Int8(v)) => write!(out, "{v}")?,
        (SchemaType::Int16, Value::Int16(v)) => write!(out, "{v}")?,
        (SchemaType::Int32, Value::Int32(v)) => write!(out, "{v}")?,
        (SchemaType::Int64, Value::Int64(v)) => write!(out, "{v}")?,
        (SchemaType::Float32, Value::Float32(v)) => {
            write_float(out, v.is_finite(), |o| write_f32(o, *v))
        }
        (SchemaType::Float64, Value::Float64(v)) => {
            write_float(out, v.is_finite(), |o| write_f64(o, *v))
        }
        (SchemaType::Boolean, Value::Boolean(v)) => {
            out.extend_from_slice(if *v { b"true" } else { b"false" })
        }
        (SchemaType::String, Value::String(s)) => write_str(out, s),
        (SchemaType::Bytes, Value::Bytes(b)) => write_base64(out, b),
        (SchemaType::Array, Value::Array(items)) => {
            let item_schema = schema.and_then(|s| s.value_schema.as_deref());
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item_schema, item, opts)?;
            }
            out.push(b']');
        }
        (SchemaType::Map, Value::Map(entries)) => write_map(out, schema, entries, opts)?,
        (SchemaType::Struct, Value::Struct(st)) => {
            let schema = match schema {
                Some(s) if std::ptr::eq(st.schema().as_ref(), s) || st.schema().as_ref() == s => s,
                _ => return Err(ConnectError::data("Mismatching schema.")),
            };
            out.push(b'{');
            for (field, field_value) in schema.fields.iter().zip(st.values()) {
                if field.index > 0 {
                    out.push(b',');
                }
                write_str(out, &field.name);
                out.push(b':');
                write_value(out, Some(&field.schema), field_value, opts)?;
            }
            out.push(b'}');
        }
        (t, v) => return Err(invalid_type(t, v)),
    }
    Ok(())
}

/// Finite floats as numbers; NaN and the infinities as quoted strings, as Jackson writes them.
fn write_float(out: &mut Vec<u8>, finite: bool, write: impl FnOnce(&mut Vec<u8>)) {
    if finite {
        write(out);
    } else {
        out.push(b'"');
        write(out);
        out.push(b'"');
    }
}

/// Maps with STRING keys (or schemaless maps whose keys are all strings) are JSON objects; any
/// other map is an array of `[key, value]` pairs.
fn write_map(
    out: &mut Vec<u8>,
    schema: Option<&Schema>,
    entries: &[(Value, Value)],
    opts: &JsonOptions,
) -> Result<()> {
    let key_schema = schema.and_then(|s| s.key_schema.as_deref());
    let value_schema = schema.and_then(|s| s.value_schema.as_deref());
    let object_mode = match key_schema {
        Some(ks) => ks.schema_type == SchemaType::String,
        None => entries.iter().all(|(k, _)| matches!(k, Value::String(_))),
    };
    if object_mode {
        out.push(b'{');
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match k {
                Value::String(s) => write_str(out, s),
                Value::Null => write_str(out, "null"),
                other => return Err(invalid_type(SchemaType::String, other)),
            }
            out.push(b':');
            write_value(out, value_schema, v, opts)?;
        }
        out.push(b'}');
    } else {
        out.push(b'[');
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            write_value(out, key_schema, k, opts)?;
            out.push(b',');
            write_value(out, value_schema, v, opts)?;
            out.push(b']');
        }
        out.push(b']');
    }
    Ok(())
}

/// Writes a logical-type value; `false` when the schema is not a logical type.
fn write_logical(
    out: &mut Vec<u8>,
    schema: &Schema,
    value: &Value,
    opts: &JsonOptions,
) -> Result<bool> {
    let expected = |what: &str, expected: &str| {
        ConnectError::data(format!(
            "Invalid type for {what}, expected {expected} but was class {}",
            value.java_class()
        ))
    };
    match schema.name.as_deref() {
        Some(logical::DECIMAL) => {
            let Value::Decimal(d) = value else {
                return Err(expected("Decimal", "BigDecimal"));
            };
            match opts.decimal_format {
                DecimalFormat::Numeric => write_big_decimal(out, d),
                DecimalFormat::Base64 => {
                    let scale = decimal_scale(schema)?;
                    if d.scale != scale {
                        return Err(ConnectError::data(format!(
                            "Decimal value has mismatching scale for given Decimal schema. Schema has scale {scale}, value has scale {}.",
                            d.scale
                        )));
                    }
                    write_base64(out, &d.to_bytes());
                }
            }
        }
        Some(logical::DATE) => {
            let Value::Date(days) = value else {
                return Err(expected("Date", "Date"));
            };
            write!(out, "{days}")?;
        }
        Some(logical::TIME) => {
            let Value::Time(ms) = value else {
                return Err(expected("Time", "Date"));
            };
            if !(0..=86_400_000).contains(ms) {
                return Err(ConnectError::data(
                    "Kafka Connect Time type should not have any date fields set to non-zero values.",
                ));
            }
            write!(out, "{ms}")?;
        }
        Some(logical::TIMESTAMP) => {
            let Value::Timestamp(ms) = value else {
                return Err(expected("Timestamp", "Date"));
            };
            write!(out, "{ms}")?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The `scale` parameter of a Decimal schema, with Kafka's errors when it is missing or bad.
pub(crate) fn decimal_scale(schema: &Schema) -> Result<i32> {
    let raw = schema
        .parameter(logical::DECIMAL_SCALE)
        .ok_or_else(|| ConnectError::data("Invalid Decimal schema: scale parameter not found."))?;
    raw.parse().map_err(|_| {
        ConnectError::data(format!(
            "Invalid scale parameter found in Decimal schema: For input string: \"{raw}\""
        ))
    })
}
