//! JSON → Connect data, as Kafka's `JsonConverter.convertToConnect` does it — including Jackson's
//! lenient accessors: under a schema, a number of another kind is truncated or wrapped (`intValue`,
//! `longValue`), a node of the wrong kind reads as 0, false or null, exactly as in Java, so a
//! pipeline that works on Kafka Connect reads the same data here.

use base64::Engine as _;
use ferry_api::schema::logical;
use ferry_api::{ConnectError, Decimal, Result, SchemaRef, SchemaType, Struct, Value};
use num_bigint::BigInt;

use super::encode::decimal_scale;
use super::parse::{Node, Reader};
use super::JsonOptions;

/// Converts `node` (`None` = member absent) under `schema` (`None` = schemaless).
pub(crate) fn to_connect(
    schema: Option<&SchemaRef>,
    node: Option<&Node<'_>>,
    opts: &JsonOptions,
) -> Result<Value> {
    let Some(schema) = schema else {
        return Ok(node.map_or(Value::Null, schemaless));
    };
    let node = match node {
        None | Some(Node::Null) => {
            if let (Some(default), true) = (&schema.default, opts.replace_null_with_default) {
                return Ok(default.clone());
            }
            if schema.optional {
                return Ok(Value::Null);
            }
            return Err(ConnectError::data(format!(
                "Invalid null value for required {} field",
                schema.schema_type
            )));
        }
        Some(node) => node,
    };
    if let Some(v) = logical_to_connect(schema, node)? {
        return Ok(v);
    }
    Ok(match schema.schema_type {
        SchemaType::Boolean => Value::Boolean(matches!(node, Node::Bool(true))),
        SchemaType::Int8 => Value::Int8(long_value(node) as i8),
        SchemaType::Int16 => Value::Int16(long_value(node) as i16),
        SchemaType::Int32 => Value::Int32(long_value(node) as i32),
        SchemaType::Int64 => Value::Int64(long_value(node)),
        SchemaType::Float32 => Value::Float32(float_value(node)),
        SchemaType::Float64 => Value::Float64(double_value(node)),
        SchemaType::String => match node {
            Node::Str(s) => Value::String(s.to_string()),
            _ => Value::Null,
        },
        SchemaType::Bytes => match node {
            Node::Str(s) => Value::Bytes(decode_base64(s)?.into()),
            _ => Value::Null,
        },
        SchemaType::Array => {
            let item_schema = schema.value_schema.as_ref();
            let items: Vec<Value> = match node {
                Node::Array(items) => items
                    .iter()
                    .map(|n| to_connect(item_schema, Some(n), opts))
                    .collect::<Result<_>>()?,
                Node::Object(members) => members
                    .iter()
                    .map(|(_, n)| to_connect(item_schema, Some(n), opts))
                    .collect::<Result<_>>()?,
                _ => Vec::new(),
            };
            Value::Array(items)
        }
        SchemaType::Map => map_to_connect(schema, node, opts)?,
        SchemaType::Struct => {
            let Node::Object(_) = node else {
                return Err(ConnectError::data(format!(
                    "Structs should be encoded as JSON objects, but found {}",
                    node.type_name()
                )));
            };
            let mut st = Struct::new(schema.clone());
            for field in &schema.fields {
                let v = to_connect(Some(&field.schema), node.get(&field.name), opts)?;
                if v.is_null() {
                    // Validates: a required field read as null fails naming the field.
                    st.put(&field.name, Value::Null)?;
                } else {
                    st.put_unchecked(field.index, v);
                }
            }
            Value::Struct(Box::new(st))
        }
    })
}

/// Reads a struct payload straight into a [`Struct`] when its members are exactly the schema's
/// fields in the schema's order, as JsonConverter writes them: no object node is built, keys are
/// not checked for duplicates nor looked up by name (that was ~40% of decoding a small row).
/// Members are read as nodes (scalars borrow; nested structs take this path again) and converted
/// by [`to_connect`], so every type rule is the general path's. `None` for anything else —
/// another member order, a missing or extra member, `null`, any syntax or conversion error:
/// the caller then reads the payload the general way, which gives the same value or reports the
/// document's first error.
pub(crate) fn struct_in_schema_order(
    r: &mut Reader<'_>,
    schema: &SchemaRef,
    opts: &JsonOptions,
) -> Option<Value> {
    let fields = &schema.fields;
    let empty = r.begin_object().ok()??;
    let mut st = Struct::new(schema.clone());
    if empty || fields.is_empty() {
        return (empty && fields.is_empty()).then(|| Value::Struct(Box::new(st)));
    }
    for (i, field) in fields.iter().enumerate() {
        if r.parse_key().ok()? != field.name {
            return None;
        }
        let v = if field.schema.schema_type == SchemaType::Struct && r.next_is(b'{') {
            struct_in_schema_order(r, &field.schema, opts)?
        } else {
            let node = r.parse_value().ok()?;
            to_connect(Some(&field.schema), Some(&node), opts).ok()?
        };
        if v.is_null() {
            st.put(&field.name, Value::Null).ok()?;
        } else {
            st.put_unchecked(field.index, v);
        }
        if r.object_continues().ok()? != (i + 1 < fields.len()) {
            return None;
        }
    }
    r.end_object();
    Some(Value::Struct(Box::new(st)))
}

fn map_to_connect(schema: &SchemaRef, node: &Node<'_>, opts: &JsonOptions) -> Result<Value> {
    let key_schema = schema.key_schema.as_ref();
    let value_schema = schema.value_schema.as_ref();
    if key_schema.is_none_or(|k| k.schema_type == SchemaType::String) {
        let Node::Object(members) = node else {
            return Err(ConnectError::data(format!(
                "Maps with string fields should be encoded as JSON objects, but found {}",
                node.type_name()
            )));
        };
        let entries = members
            .iter()
            .map(|(k, v)| {
                Ok((
                    Value::String(k.to_string()),
                    to_connect(value_schema, Some(v), opts)?,
                ))
            })
            .collect::<Result<_>>()?;
        return Ok(Value::Map(entries));
    }
    let Node::Array(pairs) = node else {
        return Err(ConnectError::data(format!(
            "Maps with non-string fields should be encoded as JSON array of tuples, but found {}",
            node.type_name()
        )));
    };
    let mut entries = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let Node::Array(kv) = pair else {
            return Err(ConnectError::data(format!(
                "Found invalid map entry instead of array tuple: {}",
                pair.type_name()
            )));
        };
        if kv.len() != 2 {
            return Err(ConnectError::data(format!(
                "Found invalid map entry, expected length 2 but found :{}",
                kv.len()
            )));
        }
        entries.push((
            to_connect(key_schema, Some(&kv[0]), opts)?,
            to_connect(value_schema, Some(&kv[1]), opts)?,
        ));
    }
    Ok(Value::Map(entries))
}

/// Logical types, recognised by schema name; `None` for other schemas.
fn logical_to_connect(schema: &SchemaRef, node: &Node<'_>) -> Result<Option<Value>> {
    let int_node = |what: &str| match node {
        Node::Int(v) if i32::try_from(*v).is_ok() => Ok(*v as i32),
        _ => Err(ConnectError::data(format!(
            "Invalid type for {what}, underlying representation should be integer but was {}",
            node.type_name()
        ))),
    };
    Ok(Some(match schema.name.as_deref() {
        Some(logical::DECIMAL) => {
            let scale = decimal_scale(schema)?;
            match node {
                Node::Int(v) => rescaled(Decimal::new(*v, 0), scale),
                Node::BigInt(t) | Node::Float(t) => {
                    rescaled(parse_big_decimal(t).expect("JSON number is a decimal"), scale)
                }
                Node::Str(s) => {
                    let bytes = decode_base64(s)
                        .map_err(|e| ConnectError::data("Invalid bytes for Decimal field").with_source(e))?;
                    Value::Decimal(Decimal::from_bytes(&bytes, scale))
                }
                other => {
                    return Err(ConnectError::data(format!(
                        "Invalid type for Decimal, underlying representation should be numeric or bytes but was {}",
                        other.type_name()
                    )))
                }
            }
        }
        Some(logical::DATE) => Value::Date(int_node("Date")?),
        Some(logical::TIME) => {
            let ms = int_node("Time")?;
            if !(0..=86_400_000).contains(&ms) {
                return Err(ConnectError::data(
                    "Time values must use number of milliseconds greater than 0 and less than 86400000",
                ));
            }
            Value::Time(ms)
        }
        Some(logical::TIMESTAMP) => match node {
            Node::Int(_) | Node::BigInt(_) => Value::Timestamp(long_value(node)),
            other => {
                return Err(ConnectError::data(format!(
                    "Invalid type for Timestamp, underlying representation should be integral but was {}",
                    other.type_name()
                )))
            }
        },
        _ => return Ok(None),
    }))
}

/// A NUMERIC decimal at the schema's scale when that needs no rounding (Kafka keeps the number's
/// own scale; keeping the schema's avoids a scale mismatch further down the pipeline).
fn rescaled(d: Decimal, scale: i32) -> Value {
    if (i64::from(d.scale) - i64::from(scale)).abs() > 64 {
        return Value::Decimal(d);
    }
    Value::Decimal(d.rescale(scale).unwrap_or(d))
}

fn decode_base64(s: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| ConnectError::data("Invalid bytes field").with_source(e))
}

/// Schemaless reading: integral numbers → INT64, other numbers → FLOAT64, objects → MAP with
/// string keys, arrays → ARRAY.
pub(crate) fn schemaless(node: &Node<'_>) -> Value {
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Boolean(*b),
        Node::Int(_) | Node::BigInt(_) => Value::Int64(long_value(node)),
        Node::Float(_) => Value::Float64(double_value(node)),
        Node::Str(s) => Value::String(s.to_string()),
        Node::Array(items) => Value::Array(items.iter().map(schemaless).collect()),
        Node::Object(members) => Value::Map(
            members
                .iter()
                .map(|(k, v)| (Value::String(k.to_string()), schemaless(v)))
                .collect(),
        ),
    }
}

/// Parses Java `BigDecimal` text: sign, digits with an optional point, optional exponent.
pub(crate) fn parse_big_decimal(text: &str) -> Option<Decimal> {
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.strip_prefix('+').unwrap_or(e).parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (negative, unsigned) = match mantissa.as_bytes().first()? {
        b'-' => (true, &mantissa[1..]),
        b'+' => (false, &mantissa[1..]),
        _ => (false, mantissa),
    };
    let (int_part, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int_part.is_empty() && frac.is_empty()
        || !int_part
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = format!("{int_part}{frac}");
    let mut unscaled: BigInt = digits.parse().ok()?;
    if negative {
        unscaled = -unscaled;
    }
    let scale = (frac.len() as i64).checked_sub(exp as i64)?;
    Some(Decimal::new(unscaled, i32::try_from(scale).ok()?))
}

/// The low 64 bits of an integer (Java's `BigInteger.longValue`).
fn low_i64(v: &BigInt) -> i64 {
    i64::try_from(v).unwrap_or_else(|_| {
        let low = v & BigInt::from(u64::MAX);
        u64::try_from(low).expect("masked to 64 bits") as i64
    })
}

/// `longValue()` of integer text too large for an `i64`.
pub(crate) fn low_i64_of_text(text: &str) -> i64 {
    text.parse::<BigInt>().map_or(0, |v| low_i64(&v))
}

/// Jackson's `longValue()`: integers wrap to 64 bits, decimals truncate toward zero first, any
/// other node is 0.
fn long_value(node: &Node<'_>) -> i64 {
    match node {
        Node::Int(v) => *v,
        Node::BigInt(t) => low_i64_of_text(t),
        Node::Float(t) => match parse_big_decimal(t) {
            // 10^64 is a multiple of 2^64, so larger factors leave no low bits; tiny values are 0.
            Some(d) if d.scale <= -64 || d.scale as i64 > t.len() as i64 => 0,
            Some(d) if d.scale <= 0 => {
                low_i64(&(d.unscaled * BigInt::from(10).pow(d.scale.unsigned_abs())))
            }
            Some(d) => low_i64(&(d.unscaled / BigInt::from(10).pow(d.scale as u32))),
            None => 0,
        },
        _ => 0,
    }
}

/// Jackson's `doubleValue()`.
fn double_value(node: &Node<'_>) -> f64 {
    match node {
        Node::Int(v) => *v as f64,
        Node::BigInt(t) | Node::Float(t) => t.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Jackson's `floatValue()` (decimals round straight to `f32`, as `BigDecimal.floatValue` does).
fn float_value(node: &Node<'_>) -> f32 {
    match node {
        Node::Int(v) => *v as f32,
        Node::BigInt(t) | Node::Float(t) => t.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}
