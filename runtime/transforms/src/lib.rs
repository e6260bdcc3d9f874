//! Ferry's built-in single message transforms (SMTs) and predicates, and the transform chain that
//! runs them.
//!
//! This crate owns:
//! - [`TransformChain`]: the `transforms` / `predicates` keys of a connector config turned into
//!   configured stages, applied per record or per batch, plus the prefixed keys for REST validation;
//! - every transform Apache Kafka ships (`org.apache.kafka.connect.transforms.*`, with the nested
//!   `$Key` / `$Value` variants), Kafka's three predicates, and Debezium's `ExtractNewRecordState`,
//!   with Kafka's option names, semantics and error messages;
//! - [`plugins`]: their descriptors under the Java class names users put in configs.
//!
//! It must not do I/O or depend on the worker: the worker resolves class names through
//! [`TransformRegistry`] (over its plugin list) and hands records in.

mod cast;
mod chain;
mod datefmt;
mod debezium;
mod extract_field;
mod flatten;
mod header_from;
mod headers;
mod hoist_field;
mod insert_field;
mod javaregex;
mod mask_field;
mod predicates;
mod regex_router;
mod replace_field;
mod set_schema_metadata;
mod timestamp_converter;
mod timestamp_router;
mod util;
mod value_to_key;

pub use chain::{TransformChain, TransformError, TransformRegistry};

use ferry_api::{PluginKind, Predicate, PredicatePlugin, Transformation, TransformationPlugin};
use util::Part;

/// Java package of Kafka's transforms.
const KAFKA: &str = "org.apache.kafka.connect.transforms";

/// Registers a transform that has `$Key` and `$Value` variants under Kafka's nested class names.
macro_rules! keyed {
    ($out:ident, $ty:ty, $class:literal) => {
        $out.push(TransformationPlugin {
            class: concat!("org.apache.kafka.connect.transforms.", $class, "$Key"),
            extra_aliases: &[],
            new: || Box::new(<$ty>::new(Part::Key)),
        });
        $out.push(TransformationPlugin {
            class: concat!("org.apache.kafka.connect.transforms.", $class, "$Value"),
            extra_aliases: &[],
            new: || Box::new(<$ty>::new(Part::Value)),
        });
    };
}

/// Registers a transform without variants.
macro_rules! plain {
    ($out:ident, $ty:ty, $class:expr) => {
        $out.push(TransformationPlugin {
            class: $class,
            extra_aliases: &[],
            new: || Box::new(<$ty>::default()),
        });
    };
}

/// Every bundled transform and predicate, under its Java class name.
// One push per registration keeps the list greppable; `vec![]` cannot hold the `$Key`/`$Value` pairs.
#[allow(clippy::vec_init_then_push)]
pub fn plugins() -> (Vec<TransformationPlugin>, Vec<PredicatePlugin>) {
    let mut t = Vec::new();
    keyed!(t, cast::Cast, "Cast");
    plain!(
        t,
        headers::DropHeaders,
        "org.apache.kafka.connect.transforms.DropHeaders"
    );
    keyed!(t, extract_field::ExtractField, "ExtractField");
    plain!(
        t,
        headers::Filter,
        "org.apache.kafka.connect.transforms.Filter"
    );
    keyed!(t, flatten::Flatten, "Flatten");
    keyed!(t, header_from::HeaderFrom, "HeaderFrom");
    keyed!(t, hoist_field::HoistField, "HoistField");
    keyed!(t, insert_field::InsertField, "InsertField");
    plain!(
        t,
        headers::InsertHeader,
        "org.apache.kafka.connect.transforms.InsertHeader"
    );
    keyed!(t, mask_field::MaskField, "MaskField");
    plain!(
        t,
        regex_router::RegexRouter,
        "org.apache.kafka.connect.transforms.RegexRouter"
    );
    keyed!(t, replace_field::ReplaceField, "ReplaceField");
    keyed!(
        t,
        set_schema_metadata::SetSchemaMetadata,
        "SetSchemaMetadata"
    );
    keyed!(
        t,
        timestamp_converter::TimestampConverter,
        "TimestampConverter"
    );
    plain!(
        t,
        timestamp_router::TimestampRouter,
        "org.apache.kafka.connect.transforms.TimestampRouter"
    );
    plain!(
        t,
        value_to_key::ValueToKey,
        "org.apache.kafka.connect.transforms.ValueToKey"
    );
    plain!(
        t,
        debezium::ExtractNewRecordState,
        "io.debezium.transforms.ExtractNewRecordState"
    );

    let p = vec![
        PredicatePlugin {
            class: "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            extra_aliases: &[],
            new: || Box::new(predicates::TopicNameMatches::default()),
        },
        PredicatePlugin {
            class: "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
            extra_aliases: &[],
            new: || Box::new(predicates::HasHeaderKey::default()),
        },
        PredicatePlugin {
            class: "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            extra_aliases: &[],
            new: || Box::new(predicates::RecordIsTombstone),
        },
    ];
    debug_assert!(t
        .iter()
        .all(|p| p.class.starts_with(KAFKA) || p.class.starts_with("io.debezium")));
    (t, p)
}

/// A [`TransformRegistry`] over the bundled plugins alone, resolving Java class names and
/// Connect's aliases (simple names; nested `$Key`/`$Value` classes need the full name). The worker
/// has its own registry over every plugin it knows; this one serves tests and tools.
#[derive(Debug)]
pub struct BuiltinRegistry {
    transforms: Vec<TransformationPlugin>,
    predicates: Vec<PredicatePlugin>,
}

impl Default for BuiltinRegistry {
    fn default() -> Self {
        let (transforms, predicates) = plugins();
        BuiltinRegistry {
            transforms,
            predicates,
        }
    }
}

fn names(kind: PluginKind, class: &'static str, extra: &'static [&'static str]) -> Vec<String> {
    let mut out = vec![class.to_owned()];
    out.extend(kind.aliases(class));
    out.extend(extra.iter().map(|a| a.to_string()));
    out
}

impl TransformRegistry for BuiltinRegistry {
    fn new_transformation(&self, class: &str) -> Option<Box<dyn Transformation>> {
        self.transforms
            .iter()
            .find(|p| {
                names(PluginKind::Transformation, p.class, p.extra_aliases)
                    .iter()
                    .any(|n| n == class)
            })
            .map(|p| (p.new)())
    }
    fn new_predicate(&self, class: &str) -> Option<Box<dyn Predicate>> {
        self.predicates
            .iter()
            .find(|p| {
                names(PluginKind::Predicate, p.class, p.extra_aliases)
                    .iter()
                    .any(|n| n == class)
            })
            .map(|p| (p.new)())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plugin_resolves_by_class_and_alias() {
        let (t, p) = plugins();
        assert_eq!(t.len(), 27); // 10 with $Key/$Value, 6 plain Kafka ones, 1 Debezium.
        assert_eq!(p.len(), 3);
        let reg = BuiltinRegistry::default();
        for plugin in &t {
            assert!(
                reg.new_transformation(plugin.class).is_some(),
                "{}",
                plugin.class
            );
        }
        for name in [
            "RegexRouter",
            "Filter",
            "TimestampRouter",
            "ValueToKey",
            "ExtractNewRecordState",
        ] {
            assert!(reg.new_transformation(name).is_some(), "{name}");
        }
        assert!(reg.new_transformation("InsertField$Value").is_none());
        for name in ["TopicNameMatches", "HasHeaderKey", "RecordIsTombstone"] {
            assert!(reg.new_predicate(name).is_some(), "{name}");
        }
        assert!(t
            .iter()
            .any(|p| p.class == "org.apache.kafka.connect.transforms.InsertField$Value"));
    }
}
