//! The configuration keys of the FileStream connectors, declared once as Kafka declares them
//! (`FileStreamSourceConnector.CONFIG_DEF`, `FileStreamSinkConnector.CONFIG_DEF`): names, types,
//! defaults, importance and documentation are Kafka's, so the REST validate answer matches.

use std::sync::Arc;

use ferry_api::config::ParsedValue;
use ferry_api::{ConfigDef, ConfigKey, ConfigType, Importance, Props, Result, Validator};

/// Source and sink: the file to read or write; absent or empty means stdin / stdout.
pub const FILE_CONFIG: &str = "file";
/// Source: the topic to write every line to.
pub const TOPIC_CONFIG: &str = "topic";
/// Source: the most records one `poll` returns.
pub const TASK_BATCH_SIZE_CONFIG: &str = "batch.size";
/// Kafka's default `batch.size`.
pub const DEFAULT_TASK_BATCH_SIZE: i32 = 2000;

/// The message Kafka (before 3.0, when `topic` was a LIST) gave for a topic list; a comma can never
/// be part of a Kafka topic name, so rejecting it here only moves the failure to validation time.
const SINGLE_TOPIC_MESSAGE: &str =
    "'topic' in FileStreamSourceConnector configuration requires definition of a single topic";

/// `FileStreamSourceConnector`'s keys.
pub fn source_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(FILE_CONFIG, ConfigType::String)
                .default_null()
                .importance(Importance::High)
                .doc("Source filename. If not specified, the standard input will be used"),
        )
        .define(
            ConfigKey::new(TOPIC_CONFIG, ConfigType::String)
                .importance(Importance::High)
                .doc("The topic to publish data to")
                .validator(Validator::Custom(Arc::new(single_topic))),
        )
        .define(
            ConfigKey::new(TASK_BATCH_SIZE_CONFIG, ConfigType::Int)
                .default(DEFAULT_TASK_BATCH_SIZE.to_string())
                .importance(Importance::Low)
                .doc(
                    "The maximum number of records the source task can read from the file each \
                     time it is polled",
                ),
        )
}

/// `FileStreamSinkConnector`'s keys (`topics`/`topics.regex` belong to the framework).
pub fn sink_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(FILE_CONFIG, ConfigType::String)
            .default_null()
            .importance(Importance::High)
            .doc("Destination filename. If not specified, the standard output will be used"),
    )
}

/// Kafka's `NonEmptyString` check on `topic`, plus the single-topic rule.
fn single_topic(_key: &str, value: &ParsedValue) -> std::result::Result<(), String> {
    match value {
        ParsedValue::String(s) if s.is_empty() => Err("String must be non-empty".into()),
        ParsedValue::String(s) if s.contains(',') => Err(SINGLE_TOPIC_MESSAGE.into()),
        _ => Ok(()),
    }
}

/// A `file` value: `None` for the standard stream (absent or empty, as Kafka treats both).
fn file_setting(config: &ferry_api::Config) -> Option<String> {
    config
        .string(FILE_CONFIG)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
}

/// The source task's settings, parsed from its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceSettings {
    /// The file to read; `None` reads stdin (and tracks no offsets).
    pub(crate) file: Option<String>,
    /// Destination topic.
    pub(crate) topic: String,
    /// Records per poll, at least 1: Kafka returns as soon as a batch reaches `batch.size`, so a
    /// value below 1 behaves as 1 there too.
    pub(crate) batch_size: usize,
}

impl SourceSettings {
    /// Parses and validates; errors name the key at fault.
    pub(crate) fn parse(props: &Props) -> Result<Self> {
        let config = source_config_def().parse(props)?;
        Ok(SourceSettings {
            file: file_setting(&config),
            topic: config
                .string(TOPIC_CONFIG)
                .expect("topic is required")
                .to_owned(),
            batch_size: config.int(TASK_BATCH_SIZE_CONFIG).max(1) as usize,
        })
    }
}

/// The sink task's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SinkSettings {
    /// The file to append to; `None` writes stdout.
    pub(crate) file: Option<String>,
}

impl SinkSettings {
    /// Parses and validates; errors name the key at fault.
    pub(crate) fn parse(props: &Props) -> Result<Self> {
        let config = sink_config_def().parse(props)?;
        Ok(SinkSettings {
            file: file_setting(&config),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn source_defaults_and_stdin() {
        let s = SourceSettings::parse(&props(&[("topic", "t"), ("file", "")])).unwrap();
        assert_eq!(
            s,
            SourceSettings {
                file: None,
                topic: "t".into(),
                batch_size: 2000
            }
        );
        let s = SourceSettings::parse(&props(&[
            ("topic", "t"),
            ("file", "/x"),
            ("batch.size", "0"),
        ]))
        .unwrap();
        assert_eq!((s.file.as_deref(), s.batch_size), (Some("/x"), 1));
    }

    #[test]
    fn source_errors_name_the_key() {
        let table: &[(&[(&str, &str)], &str)] = &[
            (
                &[("file", "/x")],
                "Missing required configuration \"topic\" which has no default value.",
            ),
            (
                &[("topic", "")],
                "Invalid value  for configuration topic: String must be non-empty",
            ),
            (
                &[("topic", "a,b")],
                "Invalid value a,b for configuration topic: 'topic' in FileStreamSourceConnector \
                 configuration requires definition of a single topic",
            ),
            (
                &[("topic", "t"), ("batch.size", "many")],
                "Invalid value many for configuration batch.size: Not a number of type INT",
            ),
        ];
        for (input, message) in table {
            let err = SourceSettings::parse(&props(input)).unwrap_err();
            assert_eq!(err.message(), *message, "{input:?}");
        }
    }

    #[test]
    fn validate_reports_per_key_with_kafka_docs() {
        let values = source_config_def().validate(&props(&[("topic", "a,b")]));
        let names: Vec<_> = values.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["file", "topic", "batch.size"]);
        assert_eq!(values[0].value, None);
        assert!(values[0].errors.is_empty());
        assert_eq!(values[1].errors.len(), 1);
        assert_eq!(values[2].value.as_deref(), Some("2000"));
        let def = source_config_def();
        let topic = def.key("topic").unwrap();
        assert_eq!(topic.documentation, "The topic to publish data to");
        assert_eq!(topic.importance, Importance::High);
        assert!(topic.is_required());
        assert_eq!(def.key("batch.size").unwrap().importance, Importance::Low);
    }

    #[test]
    fn sink_file_is_optional() {
        assert_eq!(SinkSettings::parse(&Props::new()).unwrap().file, None);
        assert_eq!(
            SinkSettings::parse(&props(&[("file", " /out ")]))
                .unwrap()
                .file
                .as_deref(),
            Some("/out")
        );
        let key = sink_config_def();
        let key = key.key("file").unwrap();
        assert_eq!(
            key.documentation,
            "Destination filename. If not specified, the standard output will be used"
        );
    }
}
