//! The transform chain of one task: the `transforms` and `predicates` keys of a connector config
//! turned into ordered, configured stages (Kafka's `ConnectorConfig.transformationStages` and
//! `TransformationChain`). The worker runs one chain per task, on the source path between task and
//! converters and on the sink path between converters and task.

use std::fmt;
use std::sync::Arc;

use ferry_api::config::{split_list, with_prefix_stripped, ValidatorFn};
use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Predicate, Props,
    Transformation, Validator,
};

/// Creates transforms and predicates by class name. The worker implements it over its plugin list;
/// `class` may be a Java class name or one of its aliases.
pub trait TransformRegistry {
    /// A new, unconfigured transform of `class`, or `None` when no such plugin exists.
    fn new_transformation(&self, class: &str) -> Option<Box<dyn Transformation>>;
    /// A new, unconfigured predicate of `class`, or `None` when no such plugin exists.
    fn new_predicate(&self, class: &str) -> Option<Box<dyn Predicate>>;
}

/// A transform failed on a record. Carries the stage's alias and class, which the worker reports
/// (the class goes into the DLQ headers, as Connect's `__connect.errors.class.name`).
#[derive(Debug, thiserror::Error)]
#[error("Error applying transform '{alias}' ({class}): {error}")]
pub struct TransformError {
    /// The alias in `transforms`.
    pub alias: String,
    /// The class name from `transforms.<alias>.type`, as configured.
    pub class: String,
    /// What went wrong.
    #[source]
    pub error: ConnectError,
}

struct Stage {
    alias: String,
    class: String,
    transform: Box<dyn Transformation>,
    /// Index into [`TransformChain::predicates`].
    predicate: Option<usize>,
    negate: bool,
}

/// The configured transforms of a connector, in `transforms` order.
pub struct TransformChain {
    stages: Vec<Stage>,
    /// Predicates by alias; one instance per alias, shared by every stage naming it (as in Kafka).
    predicates: Vec<(String, Box<dyn Predicate>)>,
}

impl fmt::Debug for TransformChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for s in &self.stages {
            list.entry(&format_args!(
                "{} ({}){}",
                s.alias,
                s.class,
                match s.predicate {
                    Some(p) => format!(
                        " if {}{}",
                        if s.negate { "!" } else { "" },
                        self.predicates[p].0
                    ),
                    None => String::new(),
                }
            ));
        }
        list.finish()
    }
}

const TRANSFORMS: &str = "transforms";
const PREDICATES: &str = "predicates";

/// The aliases listed under `key`, rejecting duplicates as Connect does.
fn aliases(props: &Props, key: &str) -> Result<Vec<String>, ConnectError> {
    let raw = props.get(key).map(String::as_str).unwrap_or("");
    let list: Vec<String> = split_list(raw)
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect();
    for (i, a) in list.iter().enumerate() {
        if list[..i].contains(a) {
            return Err(ConnectError::config(format!(
                "Invalid value {raw} for configuration {key}: Duplicate alias provided."
            )));
        }
    }
    Ok(list)
}

/// The class named by `<key>`: required, trimmed.
fn class_of(props: &Props, key: &str) -> Result<String, ConnectError> {
    match props.get(key).map(|v| v.trim()) {
        Some(c) if !c.is_empty() => Ok(c.to_owned()),
        _ => Err(ConnectError::config(format!(
            "Missing required configuration \"{key}\" which has no default value."
        ))),
    }
}

fn class_not_found(key: &str, class: &str) -> ConnectError {
    ConnectError::config(format!(
        "Invalid value {class} for configuration {key}: Class {class} could not be found."
    ))
}

fn undefined_predicate(key: &str, predicate: &str) -> String {
    format!(
        "Invalid value {predicate} for configuration {key}: The predicate '{predicate}' is not defined in '{PREDICATES}'."
    )
}

impl TransformChain {
    /// A chain that changes nothing.
    pub fn empty() -> Self {
        TransformChain {
            stages: Vec::new(),
            predicates: Vec::new(),
        }
    }

    /// Builds and configures the chain from a connector config. Errors name the key at fault.
    pub fn from_config(
        props: &Props,
        registry: &dyn TransformRegistry,
    ) -> Result<Self, ConnectError> {
        let mut predicates = Vec::new();
        for alias in aliases(props, PREDICATES)? {
            let prefix = format!("{PREDICATES}.{alias}.");
            let type_key = format!("{prefix}type");
            let class = class_of(props, &type_key)?;
            let mut predicate = registry
                .new_predicate(&class)
                .ok_or_else(|| class_not_found(&type_key, &class))?;
            predicate
                .configure(&with_prefix_stripped(props, &prefix))
                .map_err(|e| e.context(format!("{PREDICATES}.{alias}")))?;
            predicates.push((alias, predicate));
        }

        let mut stages = Vec::new();
        for alias in aliases(props, TRANSFORMS)? {
            let prefix = format!("{TRANSFORMS}.{alias}.");
            let type_key = format!("{prefix}type");
            let class = class_of(props, &type_key)?;
            let mut transform = registry
                .new_transformation(&class)
                .ok_or_else(|| class_not_found(&type_key, &class))?;
            let own = with_prefix_stripped(props, &prefix);
            transform
                .configure(&own)
                .map_err(|e| e.context(format!("{TRANSFORMS}.{alias}")))?;

            let predicate_key = format!("{prefix}predicate");
            let predicate = match own.get("predicate").map(|p| p.trim()) {
                None | Some("") => None,
                Some(p) => {
                    Some(predicates.iter().position(|(a, _)| a == p).ok_or_else(|| {
                        ConnectError::config(undefined_predicate(&predicate_key, p))
                    })?)
                }
            };
            let negate_key = format!("{prefix}negate");
            let negate = match own.get("negate").map(|v| v.trim()) {
                None => false,
                Some(v) if v.eq_ignore_ascii_case("true") => true,
                Some(v) if v.eq_ignore_ascii_case("false") => false,
                Some(v) => {
                    return Err(ConnectError::config(format!(
                        "Invalid value {v} for configuration {negate_key}: Expected value to be either true or false"
                    )))
                }
            };
            stages.push(Stage {
                alias,
                class,
                transform,
                predicate,
                negate,
            });
        }
        Ok(TransformChain { stages, predicates })
    }

    /// Whether the chain has no stages (the engine can then skip decoding on the mirror path).
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs `record` through every stage in order. A stage whose predicate (xor `negate`) is false
    /// is skipped; a stage that drops the record ends the chain with `Ok(None)`.
    pub fn apply(
        &mut self,
        record: ConnectRecord,
    ) -> Result<Option<ConnectRecord>, TransformError> {
        let mut record = record;
        for stage in &mut self.stages {
            if let Some(p) = stage.predicate {
                if self.predicates[p].1.test(&record) == stage.negate {
                    continue;
                }
            }
            match stage.transform.apply(record) {
                Ok(Some(next)) => record = next,
                Ok(None) => return Ok(None),
                Err(error) => {
                    return Err(TransformError {
                        alias: stage.alias.clone(),
                        class: stage.class.clone(),
                        error,
                    })
                }
            }
        }
        Ok(Some(record))
    }

    /// Runs a batch through the chain. The result is aligned with the input (one entry per input
    /// record), so the engine can still account for the source offset or consumer offset of a
    /// record that was dropped or failed.
    pub fn apply_batch(
        &mut self,
        records: Vec<ConnectRecord>,
    ) -> Vec<Result<Option<ConnectRecord>, TransformError>> {
        if self.stages.is_empty() {
            return records.into_iter().map(|r| Ok(Some(r))).collect();
        }
        records.into_iter().map(|r| self.apply(r)).collect()
    }

    /// The keys the `transforms` and `predicates` of `props` add to a connector's configuration,
    /// for the REST validate endpoint: `transforms.<a>.type`, `.predicate`, `.negate` and each
    /// transform's own keys prefixed `transforms.<a>.`, grouped `Transforms: <a>`; likewise for
    /// predicates (`predicates.<p>.type` and their keys, grouped `Predicates: <p>`). A class that
    /// cannot be found makes its `type` key invalid.
    pub fn config_def(props: &Props, registry: &dyn TransformRegistry) -> ConfigDef {
        let mut def = ConfigDef::new();
        let transforms = aliases(props, TRANSFORMS).unwrap_or_default();
        let predicates = aliases(props, PREDICATES).unwrap_or_default();
        for alias in &transforms {
            let prefix = format!("{TRANSFORMS}.{alias}.");
            let group = format!("Transforms: {alias}");
            let class = props.get(&format!("{prefix}type")).map(|c| c.trim());
            let own = class.and_then(|c| registry.new_transformation(c));
            def = def
                .define(
                    type_key(&prefix, &group, own.is_some() || class.is_none())
                        .doc(format!("Class for the '{alias}' transformation.")),
                )
                .define(
                    ConfigKey::new(format!("{prefix}predicate"), ConfigType::String)
                        .default_null()
                        .importance(Importance::Medium)
                        .group(group.clone(), 1)
                        .doc("The alias of a predicate used to determine whether to apply this transformation.")
                        .validator(predicate_validator(predicates.clone())),
                )
                .define(
                    ConfigKey::new(format!("{prefix}negate"), ConfigType::Boolean)
                        .default("false")
                        .importance(Importance::Medium)
                        .group(group.clone(), 2)
                        .doc("Whether the configured predicate should be negated."),
                );
            if let Some(t) = own {
                def = def.merge(&t.config_def().with_prefix(&prefix, Some(&group)));
            }
        }
        for alias in &predicates {
            let prefix = format!("{PREDICATES}.{alias}.");
            let group = format!("Predicates: {alias}");
            let class = props.get(&format!("{prefix}type")).map(|c| c.trim());
            let own = class.and_then(|c| registry.new_predicate(c));
            def = def.define(
                type_key(&prefix, &group, own.is_some() || class.is_none())
                    .doc(format!("Class for the '{alias}' predicate.")),
            );
            if let Some(p) = own {
                def = def.merge(&p.config_def().with_prefix(&prefix, Some(&group)));
            }
        }
        def
    }
}

/// The `<prefix>type` key; `found` is false when the configured class is unknown.
fn type_key(prefix: &str, group: &str, found: bool) -> ConfigKey {
    let mut key = ConfigKey::new(format!("{prefix}type"), ConfigType::Class)
        .importance(Importance::High)
        .group(group, 0);
    if !found {
        let check: ValidatorFn = Arc::new(|_name, value| {
            let class = value.display().unwrap_or_default();
            Err(format!("Class {class} could not be found."))
        });
        key = key.validator(Validator::Custom(check));
    }
    key
}

/// Accepts a predicate alias only when it is listed in `predicates`.
fn predicate_validator(defined: Vec<String>) -> Validator {
    Validator::Custom(Arc::new(move |name, value| match value.display() {
        Some(p) if !p.is_empty() && !defined.contains(&p) => {
            // The caller prefixes "Invalid value … for configuration …"; keep only the reason.
            let full = undefined_predicate(name, &p);
            Err(full[full.find(": ").map_or(0, |i| i + 2)..].to_owned())
        }
        _ => Ok(()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{map, props, Pairs};
    use crate::BuiltinRegistry;
    use ferry_api::Value;

    fn chain(pairs: &[(&str, &str)]) -> Result<TransformChain, ConnectError> {
        TransformChain::from_config(&props(pairs), &BuiltinRegistry::default())
    }

    fn record(topic: &str, value: Value) -> ConnectRecord {
        ConnectRecord::new(topic, None, value)
    }

    #[test]
    fn stages_run_in_order_with_aliases_and_fqcns() {
        let mut c = chain(&[
            ("transforms", " MakeMap, InsertSource ,route"),
            (
                "transforms.MakeMap.type",
                "org.apache.kafka.connect.transforms.HoistField$Value",
            ),
            ("transforms.MakeMap.field", "line"),
            (
                "transforms.InsertSource.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            ("transforms.InsertSource.static.field", "data_source"),
            ("transforms.InsertSource.static.value", "test-file-source"),
            ("transforms.route.type", "RegexRouter"),
            ("transforms.route.regex", "(.*)"),
            ("transforms.route.replacement", "$1-out"),
        ])
        .unwrap();
        assert!(!c.is_empty());
        let out = c
            .apply(record("in", Value::from("hello")))
            .unwrap()
            .unwrap();
        assert_eq!(out.topic, "in-out");
        assert_eq!(
            out.value,
            map(&[
                ("line", "hello".into()),
                ("data_source", "test-file-source".into())
            ])
        );
    }

    #[test]
    fn predicates_gate_stages_and_negate_inverts() {
        let cfg = |negate: &str| {
            chain(&[
                ("transforms", "drop"),
                ("transforms.drop.type", "Filter"),
                ("transforms.drop.predicate", "isFoo"),
                ("transforms.drop.negate", negate),
                ("predicates", "isFoo"),
                (
                    "predicates.isFoo.type",
                    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
                ),
                ("predicates.isFoo.pattern", "foo.*"),
            ])
            .unwrap()
        };
        let mut c = cfg("false");
        let batch = vec![
            record("foo1", Value::Int8(1)),
            record("bar", Value::Int8(2)),
        ];
        let out = c.apply_batch(batch.clone());
        assert!(matches!(out[0], Ok(None)));
        assert_eq!(out[1].as_ref().unwrap().as_ref().unwrap().topic, "bar");
        let mut c = cfg("TRUE");
        let out = c.apply_batch(batch);
        assert_eq!(out[0].as_ref().unwrap().as_ref().unwrap().topic, "foo1");
        assert!(matches!(out[1], Ok(None)));
    }

    #[test]
    fn empty_chain_passes_records() {
        let mut c = chain(&[("transforms", "")]).unwrap();
        assert!(c.is_empty());
        let r = record("t", Value::Int8(1));
        assert_eq!(c.apply(r.clone()).unwrap(), Some(r));
    }

    #[test]
    fn config_errors_name_the_key() {
        let cases: [(Pairs, &str); 6] = [
            (
                &[("transforms", "x"), ("transforms.x.type", "Foo")],
                "Invalid value Foo for configuration transforms.x.type: Class Foo could not be found.",
            ),
            (
                &[("transforms", "x")],
                "Missing required configuration \"transforms.x.type\" which has no default value.",
            ),
            (
                &[("transforms", "x,x"), ("transforms.x.type", "Filter")],
                "Invalid value x,x for configuration transforms: Duplicate alias provided.",
            ),
            (
                &[("transforms", "x"), ("transforms.x.type", "Filter"), ("transforms.x.predicate", "p")],
                "Invalid value p for configuration transforms.x.predicate: The predicate 'p' is not defined in 'predicates'.",
            ),
            (
                &[("transforms", "x"), ("transforms.x.type", "InsertField")],
                "Invalid value InsertField for configuration transforms.x.type: Class InsertField could not be found.",
            ),
            (
                &[("transforms", "x"), ("transforms.x.type", "ValueToKey")],
                "transforms.x: Missing required configuration \"fields\" which has no default value.",
            ),
        ];
        for (cfg, expected) in cases {
            assert_eq!(chain(cfg).unwrap_err().message(), expected, "{cfg:?}");
        }
    }

    #[test]
    fn errors_carry_alias_and_class() {
        let mut c = chain(&[
            ("transforms", "k"),
            ("transforms.k.type", "ValueToKey"),
            ("transforms.k.fields", "id"),
        ])
        .unwrap();
        let err = c.apply(record("t", Value::from("not a map"))).unwrap_err();
        assert_eq!(err.alias, "k");
        assert_eq!(err.class, "ValueToKey");
        assert_eq!(
            err.to_string(),
            "Error applying transform 'k' (ValueToKey): Only Map objects supported in absence of schema for [copying fields from value to key], found: java.lang.String"
        );
    }

    #[test]
    fn config_def_lists_prefixed_keys_in_groups() {
        let p = props(&[
            ("transforms", "route,bad"),
            (
                "transforms.route.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.route.predicate", "nope"),
            ("transforms.bad.type", "Foo"),
            ("predicates", "t"),
            ("predicates.t.type", "RecordIsTombstone"),
        ]);
        let def = TransformChain::config_def(&p, &BuiltinRegistry::default());
        let names: Vec<_> = def.keys().iter().map(|k| k.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "transforms.route.type",
                "transforms.route.predicate",
                "transforms.route.negate",
                "transforms.route.regex",
                "transforms.route.replacement",
                "transforms.bad.type",
                "transforms.bad.predicate",
                "transforms.bad.negate",
                "predicates.t.type",
            ]
        );
        assert_eq!(
            def.groups(),
            ["Transforms: route", "Transforms: bad", "Predicates: t"]
        );
        let results = def.validate(&p);
        let errors = |name: &str| {
            results
                .iter()
                .find(|v| v.name == name)
                .unwrap()
                .errors
                .clone()
        };
        assert_eq!(
            errors("transforms.bad.type"),
            ["Invalid value Foo for configuration transforms.bad.type: Class Foo could not be found."]
        );
        assert_eq!(
            errors("transforms.route.predicate"),
            ["Invalid value nope for configuration transforms.route.predicate: The predicate 'nope' is not defined in 'predicates'."]
        );
        assert_eq!(
            errors("transforms.route.regex"),
            ["Missing required configuration \"transforms.route.regex\" which has no default value."]
        );
        assert!(errors("transforms.route.type").is_empty());
    }
}
