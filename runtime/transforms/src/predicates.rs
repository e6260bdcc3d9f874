//! Kafka's predicates (`org.apache.kafka.connect.transforms.predicates`, KIP-585): conditions that
//! decide whether a transform applies to a record.

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, Importance, Predicate, Props, Result,
    Validator,
};

use crate::javaregex::FullMatch;

/// `TopicNameMatches`: the whole topic name matches `pattern` (Java `matches()`).
#[derive(Debug, Default)]
pub(crate) struct TopicNameMatches {
    pattern: Option<FullMatch>,
}

impl Predicate for TopicNameMatches {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("pattern", ConfigType::String)
                .importance(Importance::Medium)
                .validator(Validator::NonEmptyString)
                .doc(
                    "A Java regular expression for matching against the name of a record's topic.",
                ),
        )
    }
    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.pattern = Some(FullMatch::new(
            "pattern",
            cfg.string("pattern").unwrap_or_default(),
        )?);
        Ok(())
    }
    fn test(&mut self, record: &ConnectRecord) -> bool {
        self.pattern
            .as_ref()
            .is_some_and(|p| p.matches(&record.topic))
    }
}

/// `HasHeaderKey`: the record has at least one header named `name`.
#[derive(Debug, Default)]
pub(crate) struct HasHeaderKey {
    name: String,
}

impl Predicate for HasHeaderKey {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("name", ConfigType::String)
                .importance(Importance::Medium)
                .validator(Validator::NonEmptyString)
                .doc("The header name."),
        )
    }
    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.name = cfg.string("name").unwrap_or_default().to_owned();
        Ok(())
    }
    fn test(&mut self, record: &ConnectRecord) -> bool {
        record.headers.iter().any(|h| h.key == self.name)
    }
}

/// `RecordIsTombstone`: the value is null.
#[derive(Debug, Default)]
pub(crate) struct RecordIsTombstone;

impl Predicate for RecordIsTombstone {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    fn configure(&mut self, _props: &Props) -> Result<()> {
        Ok(())
    }
    fn test(&mut self, record: &ConnectRecord) -> bool {
        record.value.is_null()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{props, schemaless};
    use ferry_api::Value;

    #[test]
    fn topic_name_matches_whole_name() {
        let mut p = TopicNameMatches::default();
        p.configure(&props(&[("pattern", "my-prefix-.*")])).unwrap();
        for (topic, expected) in [
            ("my-prefix-a", true),
            ("x-my-prefix-a", false),
            ("my-prefix", false),
        ] {
            assert_eq!(p.test(&schemaless(topic, Value::Null)), expected, "{topic}");
        }
        let err = TopicNameMatches::default()
            .configure(&props(&[("pattern", "[")]))
            .unwrap_err();
        assert!(
            err.message()
                .starts_with("Invalid value [ for configuration pattern"),
            "{}",
            err.message()
        );
        let err = TopicNameMatches::default()
            .configure(&props(&[]))
            .unwrap_err();
        assert_eq!(
            err.message(),
            "Missing required configuration \"pattern\" which has no default value."
        );
    }

    #[test]
    fn has_header_key_and_tombstone() {
        let mut p = HasHeaderKey::default();
        p.configure(&props(&[("name", "h")])).unwrap();
        let mut r = schemaless("t", Value::Int8(1));
        assert!(!p.test(&r));
        r.headers.add("h", None, Value::Null);
        assert!(p.test(&r));
        assert!(!RecordIsTombstone.test(&r));
        assert!(RecordIsTombstone.test(&schemaless("t", Value::Null)));
    }
}
