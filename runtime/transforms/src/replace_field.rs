//! `ReplaceField$Key` / `ReplaceField$Value`: keeps (`include`), drops (`exclude`) and renames
//! (`renames`, `old:new`) fields. The pre-4.0 names `whitelist` / `blacklist` are still read as
//! `include` / `exclude` (the new name wins when both are set), since users still paste them.

use std::collections::HashMap;
use std::sync::Arc;

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    Transformation, Value,
};

use crate::util::{
    build_struct, into_map, into_struct, push_field, replace_null_with_default_key, struct_basics,
    take_field_values, Part, SchemaCache, REPLACE_NULL_WITH_DEFAULT,
};

const PURPOSE: &str = "field replacement";

/// Kafka's `org.apache.kafka.connect.transforms.ReplaceField`.
#[derive(Debug)]
pub(crate) struct ReplaceField {
    part: Part,
    rules: Rules,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

/// Which fields are kept and what they are called.
#[derive(Debug, Default)]
struct Rules {
    exclude: Vec<String>,
    include: Vec<String>,
    renames: HashMap<String, String>,
    reverse_renames: HashMap<String, String>,
}

impl ReplaceField {
    pub(crate) fn new(part: Part) -> Self {
        ReplaceField {
            part,
            rules: Rules::default(),
            replace_null_with_default: true,
            cache: SchemaCache::default(),
        }
    }
}

impl Rules {
    /// Whether field `name` is kept.
    fn keep(&self, name: &str) -> bool {
        !self.exclude.iter().any(|e| e == name)
            && (self.include.is_empty() || self.include.iter().any(|i| i == name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map_or(name, String::as_str)
    }
}

/// Parses `old:new` pairs; the error has Connect's shape (the list printed as Java prints it).
fn parse_renames(list: &[String]) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for mapping in list {
        match mapping.split(':').collect::<Vec<_>>().as_slice() {
            [old, new] => {
                out.insert(old.to_string(), new.to_string());
            }
            _ => {
                return Err(ConnectError::config(format!(
                "Invalid value [{}] for configuration renames: Invalid rename mapping: {mapping}",
                list.join(", ")
            )))
            }
        }
    }
    Ok(out)
}

impl Transformation for ReplaceField {
    fn config_def(&self) -> ConfigDef {
        let list = |name: &str, doc: &str| {
            ConfigKey::new(name, ConfigType::List)
                .default("")
                .importance(Importance::Medium)
                .doc(doc)
        };
        ConfigDef::new()
            .define(list(
                "exclude",
                "Fields to exclude. This takes precedence over the fields to include.",
            ))
            .define(list(
                "include",
                "Fields to include. If specified, only these fields will be used.",
            ))
            .define(list("renames", "Field rename mappings."))
            .define(list("blacklist", "Deprecated. Use exclude instead."))
            .define(list("whitelist", "Deprecated. Use include instead."))
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        let pick = |new: &str, old: &str| {
            if props.contains_key(new) || !props.contains_key(old) {
                cfg.list(new).to_vec()
            } else {
                cfg.list(old).to_vec()
            }
        };
        let renames = parse_renames(cfg.list("renames"))?;
        self.rules = Rules {
            exclude: pick("exclude", "blacklist"),
            include: pick("include", "whitelist"),
            reverse_renames: renames
                .iter()
                .map(|(k, v)| (v.clone(), k.clone()))
                .collect(),
            renames,
        };
        self.replace_null_with_default = cfg.boolean(REPLACE_NULL_WITH_DEFAULT);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if self.part.value(&record).is_null() {
            return Ok(Some(record));
        }
        let (schema, value) = self.part.take(&mut record);
        match schema {
            None => {
                let map = into_map(value, PURPOSE)?;
                let out: Vec<(Value, Value)> = map
                    .into_iter()
                    .filter_map(|(k, v)| {
                        let name = k.as_str()?;
                        self.rules
                            .keep(name)
                            .then(|| (Value::from(self.rules.renamed(name)), v))
                    })
                    .collect();
                self.part.set(&mut record, None, Value::Map(out));
            }
            Some(schema) => {
                let value = into_struct(value, PURPOSE)?;
                let rules = &self.rules;
                let updated = self.cache.get_or_build(&schema, |s| {
                    let mut out = struct_basics(s);
                    for f in s.fields.iter().filter(|f| rules.keep(&f.name)) {
                        push_field(&mut out, rules.renamed(&f.name), f.schema.clone())?;
                    }
                    Ok(Arc::new(out))
                })?;
                let source = value.schema().clone();
                let mut taken = take_field_values(value, self.replace_null_with_default);
                let values = updated
                    .fields
                    .iter()
                    .map(|f| {
                        let original = rules.reverse_renames.get(&f.name).unwrap_or(&f.name);
                        // Move each kept value out of the input (no copies).
                        source
                            .field(original)
                            .map_or(Value::Null, |sf| std::mem::take(&mut taken[sf.index]))
                    })
                    .collect();
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
    use crate::util::testing::{configured, map, props, schemaless, Pairs};
    use ferry_api::{Schema, SchemaBuilder, Struct};

    fn input() -> Value {
        map(&[
            ("dont", "whatever".into()),
            ("abc", Value::Int32(42)),
            ("foo", Value::Boolean(true)),
            ("etc", "etc".into()),
        ])
    }

    #[test]
    fn schemaless_table() {
        let cases: [(Pairs, Value); 4] = [
            (
                &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
                map(&[
                    ("xyz", Value::Int32(42)),
                    ("bar", Value::Boolean(true)),
                    ("etc", "etc".into()),
                ]),
            ),
            (
                &[("include", "abc,foo")],
                map(&[("abc", Value::Int32(42)), ("foo", Value::Boolean(true))]),
            ),
            (&[("whitelist", "abc"), ("blacklist", "abc")], map(&[])),
            (
                &[("include", "abc"), ("whitelist", "foo")],
                map(&[("abc", Value::Int32(42))]),
            ),
        ];
        for (cfg, expected) in cases {
            let mut t = configured(ReplaceField::new(Part::Value), cfg);
            let out = t.apply(schemaless("t", input())).unwrap().unwrap();
            assert_eq!(out.value, expected, "{cfg:?}");
        }
    }

    #[test]
    fn with_schema_renames_and_keeps_metadata() {
        let schema = SchemaBuilder::struct_()
            .name("n")
            .field("dont", Schema::string())
            .field("abc", Schema::int32())
            .field("foo", Schema::boolean())
            .field("etc", Schema::string())
            .build();
        let value = Struct::new(schema.clone())
            .with("dont", "whatever")
            .unwrap()
            .with("abc", 42i32)
            .unwrap()
            .with("foo", true)
            .unwrap()
            .with("etc", "etc")
            .unwrap();
        let mut t = configured(
            ReplaceField::new(Part::Value),
            &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
        );
        let out = t
            .apply(ConnectRecord::new("t", Some(schema), value.into()))
            .unwrap()
            .unwrap();
        let s = out.value_schema.unwrap();
        assert_eq!(s.name.as_deref(), Some("n"));
        let names: Vec<_> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["xyz", "bar", "etc"]);
        let v = out.value.as_struct().unwrap();
        assert_eq!(
            v.values(),
            &[Value::Int32(42), Value::Boolean(true), Value::from("etc")]
        );
    }

    #[test]
    fn bad_renames_and_wrong_types() {
        let err = ReplaceField::new(Part::Value)
            .configure(&props(&[("renames", "a:b, c")]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Invalid value [a:b, c] for configuration renames: Invalid rename mapping: c"
        );
        let mut t = configured(ReplaceField::new(Part::Key), &[("exclude", "a")]);
        let err = t
            .apply(schemaless("t", Value::Null).with_key(None, Value::from("k")))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Only Map objects supported in absence of schema for [field replacement], found: java.lang.String"
        );
    }
}
