//! `Cast$Key` / `Cast$Value`: casts the whole key/value (`spec=int64`) or listed fields
//! (`spec=f1:int32,f2:string`) to a primitive type, with Java's conversions (narrowing integer
//! casts wrap, floating to integer truncates, `BYTES` → Base64 string, logical types → ISO text).

use std::sync::Arc;

use base64::Engine;
use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    Schema, SchemaRef, SchemaType, Transformation, Value,
};

use crate::datefmt::DateFormat;
use crate::headers::non_empty_list;
use crate::util::{
    build_struct, field_value, into_map, into_struct, map_get, map_put, push_field,
    replace_null_with_default_key, struct_basics, Part, SchemaCache, REPLACE_NULL_WITH_DEFAULT,
};

const PURPOSE: &str = "cast types";
const TARGETS: [SchemaType; 8] = [
    SchemaType::Int8,
    SchemaType::Int16,
    SchemaType::Int32,
    SchemaType::Int64,
    SchemaType::Float32,
    SchemaType::Float64,
    SchemaType::Boolean,
    SchemaType::String,
];

/// What to cast.
#[derive(Debug, Clone, PartialEq)]
enum Spec {
    Whole(SchemaType),
    Fields(Vec<(String, SchemaType)>),
}

/// Kafka's `org.apache.kafka.connect.transforms.Cast`.
#[derive(Debug)]
pub(crate) struct Cast {
    part: Part,
    spec: Spec,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

fn parse_type(spec: &str, t: &str) -> Result<SchemaType> {
    SchemaType::from_java_name(t.trim())
        .filter(|t| TARGETS.contains(t))
        .ok_or_else(|| {
            ConnectError::config(format!(
                "Invalid value {spec} for configuration spec: Invalid type found in casting spec: {}",
                t.trim()
            ))
        })
}

/// Java's `Double.toString` / `Float.toString` shape: `1.0`, `0.001`, `1.0E10`, `1.0E-4`.
fn java_float(v: f64, shortest: String) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        if shortest.contains('.') {
            shortest
        } else {
            format!("{shortest}.0")
        }
    } else {
        // Rust's `{:e}` is shortest round-trip too: "1e10", "1.5e-4".
        let e = shortest;
        let (m, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let m = if m.contains('.') {
            m.to_owned()
        } else {
            format!("{m}.0")
        };
        format!("{m}E{exp}")
    }
}

/// Casts `value` to `target`; `field` names the field in errors ("" for the whole value).
fn cast_value(value: &Value, target: SchemaType, field: &str) -> Result<Value> {
    use SchemaType as T;
    let unsupported = || {
        let what = if field.is_empty() {
            String::new()
        } else {
            format!(" (field '{field}')")
        };
        ConnectError::data(format!(
            "Cast transformation does not support casting from {} to {target}{what}",
            value.java_class()
        ))
    };
    let bad_number = |s: &str| {
        ConnectError::data(format!(
            "Cast transformation cannot parse '{s}' as {target}{}",
            if field.is_empty() {
                String::new()
            } else {
                format!(" (field '{field}')")
            }
        ))
    };
    if value.is_null() {
        return Ok(Value::Null);
    }
    // Numbers as (integer, float) views, after Java's Number.xxxValue().
    let (int, float): (Option<i64>, Option<f64>) = match value {
        Value::Int8(v) => (Some(*v as i64), Some(*v as f64)),
        Value::Int16(v) => (Some(*v as i64), Some(*v as f64)),
        Value::Int32(v) => (Some(*v as i64), Some(*v as f64)),
        Value::Int64(v) => (Some(*v), Some(*v as f64)),
        Value::Float32(v) => (Some(*v as i64), Some(*v as f64)),
        Value::Float64(v) => (Some(*v as i64), Some(*v)),
        Value::Boolean(b) => (Some(*b as i64), Some(*b as i64 as f64)),
        Value::Decimal(d) => {
            let f: f64 = d.to_string().parse().unwrap_or(0.0);
            (Some(f as i64), Some(f))
        }
        _ => (None, None),
    };
    // Java narrows a double to byte/short through int: (byte)(int)d.
    let via_int = |v: &Value| -> Option<i64> {
        match v {
            Value::Float32(f) => Some(*f as i32 as i64),
            Value::Float64(f) => Some(*f as i32 as i64),
            _ => None,
        }
    };
    Ok(match (target, value) {
        (T::String, Value::String(s)) => Value::String(s.clone()),
        (T::String, Value::Bytes(b)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        (T::String, Value::Float32(f)) => Value::String(java_float(
            *f as f64,
            if (1e-3..1e7).contains(&f.abs()) || *f == 0.0 {
                f.to_string()
            } else {
                format!("{f:e}")
            },
        )),
        (T::String, Value::Float64(f)) => Value::String(java_float(
            *f,
            if (1e-3..1e7).contains(&f.abs()) || *f == 0.0 {
                f.to_string()
            } else {
                format!("{f:e}")
            },
        )),
        (T::String, Value::Boolean(b)) => Value::String(b.to_string()),
        (T::String, Value::Decimal(d)) => Value::String(d.to_string()),
        (T::String, Value::Date(d)) => Value::String(
            DateFormat::new("yyyy-MM-dd")
                .expect("valid")
                .format(*d as i64 * 86_400_000),
        ),
        (T::String, Value::Time(t)) => Value::String(
            DateFormat::new("HH:mm:ss.SSS")
                .expect("valid")
                .format(*t as i64),
        ),
        (T::String, Value::Timestamp(t)) => Value::String(
            DateFormat::new("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
                .expect("valid")
                .format(*t),
        ),
        (T::String, v) if int.is_some() => {
            Value::String(v.as_i64().unwrap_or_default().to_string())
        }
        (T::Boolean, Value::String(s)) => Value::Boolean(s.trim().eq_ignore_ascii_case("true")),
        (T::Boolean, _) if float.is_some() => Value::Boolean(float != Some(0.0)),
        (T::Int8 | T::Int16 | T::Int32 | T::Int64, Value::String(s)) => {
            let n: i64 = s.trim().parse().map_err(|_| bad_number(s))?;
            let ok = match target {
                T::Int8 => i8::try_from(n).is_ok(),
                T::Int16 => i16::try_from(n).is_ok(),
                T::Int32 => i32::try_from(n).is_ok(),
                _ => true,
            };
            if !ok {
                return Err(bad_number(s));
            }
            int_value(target, n)
        }
        (T::Float32, Value::String(s)) => {
            Value::Float32(s.trim().parse().map_err(|_| bad_number(s))?)
        }
        (T::Float64, Value::String(s)) => {
            Value::Float64(s.trim().parse().map_err(|_| bad_number(s))?)
        }
        (T::Int8 | T::Int16, v) if int.is_some() => {
            int_value(target, via_int(v).or(int).unwrap_or_default())
        }
        (T::Int32 | T::Int64, _) if int.is_some() => int_value(target, int.unwrap_or_default()),
        (T::Float32, _) if float.is_some() => Value::Float32(float.unwrap_or_default() as f32),
        (T::Float64, _) if float.is_some() => Value::Float64(float.unwrap_or_default()),
        _ => return Err(unsupported()),
    })
}

/// An integer of `target`, narrowing with wrap-around like Java's casts.
fn int_value(target: SchemaType, n: i64) -> Value {
    match target {
        SchemaType::Int8 => Value::Int8(n as i8),
        SchemaType::Int16 => Value::Int16(n as i16),
        SchemaType::Int32 => Value::Int32(n as i32),
        _ => Value::Int64(n),
    }
}

/// The schema of a cast result: `target`, optional like `source`, with the default cast too.
fn cast_schema(source: &Schema, target: SchemaType, field: &str) -> Result<SchemaRef> {
    let mut out = Schema::of(target, source.optional);
    if let Some(d) = &source.default {
        out.default = Some(cast_value(d, target, field)?);
    }
    Ok(Arc::new(out))
}

impl Cast {
    pub(crate) fn new(part: Part) -> Self {
        Cast {
            part,
            spec: Spec::Fields(Vec::new()),
            replace_null_with_default: true,
            cache: SchemaCache::default(),
        }
    }
}

impl Spec {
    /// The target type of struct/map field `field`, if it is cast.
    fn target_of(&self, field: &str) -> Option<SchemaType> {
        match self {
            Spec::Fields(f) => f.iter().find(|(n, _)| n == field).map(|(_, t)| *t),
            Spec::Whole(_) => None,
        }
    }
}

impl Transformation for Cast {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("spec", ConfigType::List)
                    .importance(Importance::High)
                    .validator(non_empty_list())
                    .doc("List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        let list = cfg.list("spec");
        let raw = list.join(",");
        self.spec = if list.len() == 1 && !list[0].contains(':') {
            Spec::Whole(parse_type(&raw, &list[0])?)
        } else {
            let mut fields = Vec::new();
            for mapping in list {
                let Some((f, t)) = mapping.split_once(':') else {
                    return Err(ConnectError::config(format!(
                        "Invalid value {raw} for configuration spec: Invalid cast mapping: {mapping}"
                    )));
                };
                fields.push((f.trim().to_owned(), parse_type(&raw, t)?));
            }
            Spec::Fields(fields)
        };
        self.replace_null_with_default = cfg.boolean(REPLACE_NULL_WITH_DEFAULT);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if self.part.value(&record).is_null() {
            return Ok(Some(record));
        }
        let (schema, value) = self.part.take(&mut record);
        match (&self.spec, schema) {
            (Spec::Whole(target), None) => {
                let v = cast_value(&value, *target, "")?;
                self.part.set(&mut record, None, v);
            }
            (Spec::Whole(target), Some(schema)) => {
                let target = *target;
                let updated = self
                    .cache
                    .get_or_build(&schema, |s| cast_schema(s, target, ""))?;
                let v = cast_value(&value, target, "")?;
                self.part.set(&mut record, Some(updated), v);
            }
            (Spec::Fields(fields), None) => {
                let mut map = into_map(value, PURPOSE)?;
                for (f, target) in fields {
                    if let Some(v) = map_get(&map, f) {
                        let cast = cast_value(v, *target, f)?;
                        map_put(&mut map, f, cast);
                    }
                }
                self.part.set(&mut record, None, Value::Map(map));
            }
            (Spec::Fields(_), Some(schema)) => {
                let value = into_struct(value, PURPOSE)?;
                let spec = &self.spec;
                let updated = self.cache.get_or_build(&schema, |s| {
                    let mut out = struct_basics(s);
                    for f in &s.fields {
                        let fs = match spec.target_of(&f.name) {
                            Some(t) => cast_schema(&f.schema, t, &f.name)?,
                            None => f.schema.clone(),
                        };
                        push_field(&mut out, &f.name, fs)?;
                    }
                    Ok(Arc::new(out))
                })?;
                let mut values = Vec::with_capacity(schema.fields.len());
                for f in &schema.fields {
                    let v = field_value(&value, &f.name, self.replace_null_with_default);
                    values.push(match self.spec.target_of(&f.name) {
                        Some(t) => cast_value(&v, t, &f.name)?,
                        None => v,
                    });
                }
                let s = build_struct(&updated, values)?;
                self.part.set(&mut record, Some(updated), s.into());
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, map, props, schemaless};
    use ferry_api::{SchemaBuilder, Struct};

    #[test]
    fn whole_value_casts() {
        let cases: Vec<(&str, Value, Value)> = vec![
            ("int8", Value::Int32(42), Value::Int8(42)),
            ("int8", Value::Int32(300), Value::Int8(44)),
            ("int16", Value::Float64(42.9), Value::Int16(42)),
            ("int32", Value::from("42"), Value::Int32(42)),
            ("int64", Value::Boolean(true), Value::Int64(1)),
            ("float32", Value::Int32(42), Value::Float32(42.0)),
            ("float64", Value::from("1.5"), Value::Float64(1.5)),
            ("boolean", Value::Int32(0), Value::Boolean(false)),
            ("boolean", Value::from("TRUE"), Value::Boolean(true)),
            ("string", Value::Int32(42), Value::from("42")),
            ("string", Value::Float64(42.0), Value::from("42.0")),
            ("string", Value::Float64(1e10), Value::from("1.0E10")),
            (
                "string",
                Value::Bytes(vec![1u8, 2, 3].into()),
                Value::from("AQID"),
            ),
            (
                "string",
                Value::Timestamp(1_483_425_001_864),
                Value::from("2017-01-03T06:30:01.864Z"),
            ),
        ];
        for (spec, input, expected) in cases {
            let mut t = configured(Cast::new(Part::Value), &[("spec", spec)]);
            let out = t.apply(schemaless("t", input.clone())).unwrap().unwrap();
            assert_eq!(out.value, expected, "{spec} {input:?}");
        }
        let mut t = configured(Cast::new(Part::Value), &[("spec", "int32")]);
        let err = t.apply(schemaless("t", Value::from("x"))).unwrap_err();
        assert_eq!(
            err.message(),
            "Cast transformation cannot parse 'x' as INT32"
        );
        let err = t
            .apply(schemaless("t", Value::Bytes(vec![1u8].into())))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Cast transformation does not support casting from [B to INT32"
        );
    }

    #[test]
    fn field_casts_with_and_without_schema() {
        let mut t = configured(Cast::new(Part::Value), &[("spec", "a:int64, b:string")]);
        let out = t
            .apply(schemaless(
                "t",
                map(&[
                    ("a", Value::Int8(1)),
                    ("b", Value::Boolean(true)),
                    ("c", Value::Int8(3)),
                ]),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(
            out.value,
            map(&[
                ("a", Value::Int64(1)),
                ("b", "true".into()),
                ("c", Value::Int8(3))
            ])
        );

        let schema = SchemaBuilder::struct_()
            .name("s")
            .field(
                "a",
                SchemaBuilder::int8()
                    .optional()
                    .default_value(Value::Int8(7))
                    .build(),
            )
            .field("b", Schema::boolean())
            .build();
        let value = Struct::new(schema.clone())
            .with("a", 1i8)
            .unwrap()
            .with("b", true)
            .unwrap();
        let out = t
            .apply(ConnectRecord::new("t", Some(schema.clone()), value.into()))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        let a = &s.field("a").unwrap().schema;
        assert_eq!(
            (a.schema_type, a.optional, a.default.clone()),
            (SchemaType::Int64, true, Some(Value::Int64(7)))
        );
        assert_eq!(s.field("b").unwrap().schema.schema_type, SchemaType::String);
        assert_eq!(
            out.value.as_struct().unwrap().values(),
            &[Value::Int64(1), Value::from("true")]
        );

        let mut t = configured(Cast::new(Part::Value), &[("spec", "b:int8")]);
        let value = Struct::new(schema.clone())
            .with("b", true)
            .unwrap()
            .with("a", 1i8)
            .unwrap();
        let ok = t
            .apply(ConnectRecord::new("t", Some(schema), value.into()))
            .unwrap()
            .unwrap();
        assert_eq!(
            ok.value.as_struct().unwrap().get("b"),
            Some(&Value::Int8(1))
        );
        let mut t = configured(Cast::new(Part::Value), &[("spec", "b:int8")]);
        let err = t
            .apply(schemaless("t", map(&[("b", "zz".into())])))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Cast transformation cannot parse 'zz' as INT8 (field 'b')"
        );
    }

    #[test]
    fn bad_specs_are_config_errors() {
        let cases = [
            ("a:int32,b", "Invalid value a:int32,b for configuration spec: Invalid cast mapping: b"),
            ("a:bytes", "Invalid value a:bytes for configuration spec: Invalid type found in casting spec: bytes"),
            ("uint8", "Invalid value uint8 for configuration spec: Invalid type found in casting spec: uint8"),
        ];
        for (spec, expected) in cases {
            let err = Cast::new(Part::Key)
                .configure(&props(&[("spec", spec)]))
                .unwrap_err();
            assert_eq!(err.message(), expected);
        }
    }
}
