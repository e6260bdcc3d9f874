//! Connect schemas ⇄ Kafka's JSON schema form (`JsonSchema`): type names (`float` is FLOAT32,
//! `double` is FLOAT64), members in Kafka's emission order — `type`, then `items` | `keys`,`values`
//! | `fields`, `optional` (always), `name`, `version`, `doc`, `parameters`, `default` — and, for a
//! struct field, `field` last.

use ferry_api::{ConnectError, Result, Schema, SchemaBuilder, SchemaRef, SchemaType};

use super::decode::to_connect;
use super::encode::{write_str, write_value};
use super::parse::Node;
use super::JsonOptions;

/// Kafka's JSON name of a schema type.
pub fn type_name(t: SchemaType) -> &'static str {
    match t {
        SchemaType::Boolean => "boolean",
        SchemaType::Int8 => "int8",
        SchemaType::Int16 => "int16",
        SchemaType::Int32 => "int32",
        SchemaType::Int64 => "int64",
        SchemaType::Float32 => "float",
        SchemaType::Float64 => "double",
        SchemaType::Bytes => "bytes",
        SchemaType::String => "string",
        SchemaType::Array => "array",
        SchemaType::Map => "map",
        SchemaType::Struct => "struct",
    }
}

fn type_from_name(name: &str) -> Option<SchemaType> {
    Some(match name {
        "boolean" => SchemaType::Boolean,
        "int8" => SchemaType::Int8,
        "int16" => SchemaType::Int16,
        "int32" => SchemaType::Int32,
        "int64" => SchemaType::Int64,
        "float" => SchemaType::Float32,
        "double" => SchemaType::Float64,
        "bytes" => SchemaType::Bytes,
        "string" => SchemaType::String,
        "array" => SchemaType::Array,
        "map" => SchemaType::Map,
        "struct" => SchemaType::Struct,
        _ => return None,
    })
}

/// Appends the JSON form of `schema` (`null` for `None`).
pub fn write_schema(out: &mut Vec<u8>, schema: Option<&Schema>, opts: &JsonOptions) -> Result<()> {
    match schema {
        None => out.extend_from_slice(b"null"),
        Some(s) => {
            write_members(out, s, opts)?;
            out.push(b'}');
        }
    }
    Ok(())
}

/// Writes `{` and every member of `schema`, leaving the object open so that a struct field can
/// append `"field"` last.
fn write_members(out: &mut Vec<u8>, schema: &Schema, opts: &JsonOptions) -> Result<()> {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(type_name(schema.schema_type).as_bytes());
    out.push(b'"');
    match schema.schema_type {
        SchemaType::Array => {
            out.extend_from_slice(b",\"items\":");
            write_schema(out, schema.value_schema.as_deref(), opts)?;
        }
        SchemaType::Map => {
            out.extend_from_slice(b",\"keys\":");
            write_schema(out, schema.key_schema.as_deref(), opts)?;
            out.extend_from_slice(b",\"values\":");
            write_schema(out, schema.value_schema.as_deref(), opts)?;
        }
        SchemaType::Struct => {
            out.extend_from_slice(b",\"fields\":[");
            for (i, field) in schema.fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_members(out, &field.schema, opts)?;
                out.extend_from_slice(b",\"field\":");
                write_str(out, &field.name);
                out.push(b'}');
            }
            out.push(b']');
        }
        _ => {}
    }
    out.extend_from_slice(if schema.optional {
        b",\"optional\":true"
    } else {
        b",\"optional\":false"
    });
    if let Some(name) = &schema.name {
        out.extend_from_slice(b",\"name\":");
        write_str(out, name);
    }
    if let Some(version) = schema.version {
        out.extend_from_slice(format!(",\"version\":{version}").as_bytes());
    }
    if let Some(doc) = &schema.doc {
        out.extend_from_slice(b",\"doc\":");
        write_str(out, doc);
    }
    // Kafka writes `parameters` whenever the map exists; an empty list here means none was set.
    if !schema.parameters.is_empty() {
        out.extend_from_slice(b",\"parameters\":{");
        for (i, (k, v)) in schema.parameters.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, k);
            out.push(b':');
            write_str(out, v);
        }
        out.push(b'}');
    }
    if let Some(default) = &schema.default {
        out.extend_from_slice(b",\"default\":");
        write_value(out, Some(schema), default, opts)?;
    }
    Ok(())
}

/// Reads a schema from its JSON form (`None` for JSON `null`), with Kafka's `asConnectSchema`
/// rules and error messages: a missing `optional` means required, a `default` is read with the
/// schema itself and checked against it.
pub(crate) fn schema_from_node(node: &Node<'_>, opts: &JsonOptions) -> Result<Option<SchemaRef>> {
    if matches!(node, Node::Null) {
        return Ok(None);
    }
    let type_text = node
        .get("type")
        .and_then(Node::as_str)
        .ok_or_else(|| ConnectError::data("Schema must contain 'type' field"))?;
    let schema_type = type_from_name(type_text)
        .ok_or_else(|| ConnectError::data(format!("Unknown schema type: {type_text}")))?;
    let mut builder = match schema_type {
        SchemaType::Array => {
            let items = match node.get("items") {
                None | Some(Node::Null) => {
                    return Err(ConnectError::data(
                        "Array schema did not specify the element type",
                    ))
                }
                Some(items) => required_schema(items, opts, "valueSchema")?,
            };
            SchemaBuilder::array(items)
        }
        SchemaType::Map => {
            let keys = node
                .get("keys")
                .ok_or_else(|| ConnectError::data("Map schema did not specify the key type"))?;
            let values = node
                .get("values")
                .ok_or_else(|| ConnectError::data("Map schema did not specify the value type"))?;
            SchemaBuilder::map(
                required_schema(keys, opts, "keySchema")?,
                required_schema(values, opts, "valueSchema")?,
            )
        }
        SchemaType::Struct => {
            let Some(Node::Array(fields)) = node.get("fields") else {
                return Err(ConnectError::data(
                    "Struct schema's \"fields\" argument is not an array.",
                ));
            };
            let mut b = SchemaBuilder::struct_();
            for field in fields {
                let name = field.get("field").and_then(Node::as_str).ok_or_else(|| {
                    ConnectError::data("Struct schema's field name not specified properly")
                })?;
                let field_schema = required_schema(field, opts, "field schema")?;
                b = b.field(name, field_schema);
            }
            b
        }
        primitive => SchemaBuilder::new(primitive),
    };
    if matches!(node.get("optional"), Some(Node::Bool(true))) {
        builder = builder.optional();
    }
    if let Some(name) = node.get("name").and_then(Node::as_str) {
        builder = builder.name(name);
    }
    match node.get("version") {
        Some(Node::Int(v)) => builder = builder.version(*v as i32),
        Some(Node::BigInt(t)) => {
            builder = builder.version(super::decode::low_i64_of_text(t) as i32)
        }
        _ => {}
    }
    if let Some(doc) = node.get("doc").and_then(Node::as_str) {
        builder = builder.doc(doc);
    }
    if let Some(Node::Object(params)) = node.get("parameters") {
        for (k, v) in params {
            let v = v
                .as_str()
                .ok_or_else(|| ConnectError::data("Schema parameters must have string values."))?;
            builder = builder.parameter(k.as_ref(), v);
        }
    }
    if let Some(default_node) = node.get("default") {
        let probe = builder.clone().try_build()?;
        let default = to_connect(Some(&probe), Some(default_node), opts)?;
        if !default.is_null() {
            builder = builder.default_value(default);
        }
    }
    builder.try_build().map(Some)
}

fn required_schema(node: &Node<'_>, opts: &JsonOptions, what: &str) -> Result<SchemaRef> {
    schema_from_node(node, opts)?
        .ok_or_else(|| ConnectError::data(format!("{what} cannot be null.")))
}

/// The JSON form of a schema as bytes.
pub fn schema_to_json_bytes(schema: &Schema, opts: &JsonOptions) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    write_schema(&mut out, Some(schema), opts)?;
    Ok(out)
}

/// Reads a schema from JSON bytes (`None` for `null`).
pub fn schema_from_json(bytes: &[u8], opts: &JsonOptions) -> Result<Option<SchemaRef>> {
    match super::parse::parse_document(bytes)? {
        None => Err(ConnectError::data("Schema must contain 'type' field")),
        Some(node) => schema_from_node(&node, opts),
    }
}
