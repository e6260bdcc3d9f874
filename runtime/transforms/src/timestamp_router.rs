//! `TimestampRouter`: rewrites the topic from `topic.format` with `${topic}` and `${timestamp}`
//! (the record timestamp formatted with `timestamp.format`, a `SimpleDateFormat` pattern, in UTC).

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, Importance, Props, Result,
    Transformation,
};

use crate::datefmt::DateFormat;

/// Kafka's `org.apache.kafka.connect.transforms.TimestampRouter`.
#[derive(Debug, Default)]
pub(crate) struct TimestampRouter {
    topic_format: String,
    format: Option<DateFormat>,
}

impl Transformation for TimestampRouter {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("topic.format", ConfigType::String)
                    .default("${topic}-${timestamp}")
                    .importance(Importance::High)
                    .doc("Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively."),
            )
            .define(
                ConfigKey::new("timestamp.format", ConfigType::String)
                    .default("yyyyMMdd")
                    .importance(Importance::High)
                    .doc("Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>."),
            )
    }

    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.topic_format = cfg.string("topic.format").unwrap_or_default().to_owned();
        let pattern = cfg.string("timestamp.format").unwrap_or_default();
        self.format = Some(DateFormat::new(pattern).map_err(|e| {
            ConnectError::config(format!(
                "Invalid value {pattern} for configuration timestamp.format: {e}"
            ))
        })?);
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        let ts = record.timestamp.ok_or_else(|| {
            ConnectError::data(format!(
                "Timestamp missing on record: topic={}, partition={:?}",
                record.topic, record.kafka_partition
            ))
        })?;
        let formatted = self
            .format
            .as_ref()
            .map(|f| f.format(ts))
            .unwrap_or_default();
        record.topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &formatted);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, schemaless, Pairs};
    use ferry_api::Value;

    #[test]
    fn routes_by_timestamp() {
        let cases: [(Pairs, &str); 3] = [
            (&[], "test-20170103"),
            (
                &[
                    ("topic.format", "${timestamp}_${topic}"),
                    ("timestamp.format", "yyyy-MM"),
                ],
                "2017-01_test",
            ),
            (&[("timestamp.format", "YYYY.ww")], ""),
        ];
        for (cfg, expected) in cases {
            if expected.is_empty() {
                assert!(TimestampRouter::default()
                    .configure(&crate::util::testing::props(cfg))
                    .is_err());
                continue;
            }
            let mut t = configured(TimestampRouter::default(), cfg);
            let mut r = schemaless("test", Value::Null);
            r.timestamp = Some(1_483_425_001_864);
            assert_eq!(t.apply(r).unwrap().unwrap().topic, expected, "{cfg:?}");
        }
        let mut t = configured(TimestampRouter::default(), &[]);
        let err = t.apply(schemaless("test", Value::Null)).unwrap_err();
        assert!(err.message().starts_with("Timestamp missing on record"));
    }
}
