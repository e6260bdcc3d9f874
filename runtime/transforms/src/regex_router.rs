//! `RegexRouter`: renames the topic when the whole topic name matches `regex`, with Java `$1`
//! references in `replacement`. Non-matching records pass unchanged.

use ferry_api::{
    ConfigDef, ConfigKey, ConfigType, ConnectRecord, Importance, Props, Result, Transformation,
};

use crate::javaregex::FullMatch;

/// Kafka's `org.apache.kafka.connect.transforms.RegexRouter`.
#[derive(Debug, Default)]
pub(crate) struct RegexRouter {
    regex: Option<FullMatch>,
    replacement: String,
    /// Topic → routed topic (None: no match). Topic names repeat record after record, so the
    /// regex runs once per distinct topic; bounded so a topic-per-key pattern cannot grow it.
    routes: std::collections::HashMap<String, Option<String>>,
}

/// Distinct topics remembered before the route cache is cleared.
const ROUTE_CACHE_SIZE: usize = 1024;

impl Transformation for RegexRouter {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("regex", ConfigType::String)
                    .importance(Importance::High)
                    .doc("Regular expression to use for matching."),
            )
            .define(
                ConfigKey::new("replacement", ConfigType::String)
                    .importance(Importance::High)
                    .doc("Replacement string."),
            )
    }
    fn configure(&mut self, props: &Props) -> Result<()> {
        let cfg = self.config_def().parse(props)?;
        self.regex = Some(FullMatch::new(
            "regex",
            cfg.string("regex").unwrap_or_default(),
        )?);
        self.replacement = cfg.string("replacement").unwrap_or_default().to_owned();
        Ok(())
    }
    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        if let Some(route) = self.routes.get(&record.topic) {
            if let Some(topic) = route {
                record.topic.clone_from(topic);
            }
            return Ok(Some(record));
        }
        let route = self
            .regex
            .as_ref()
            .and_then(|r| r.replace_whole(&record.topic, &self.replacement));
        if self.routes.len() >= ROUTE_CACHE_SIZE {
            self.routes.clear();
        }
        self.routes.insert(record.topic.clone(), route.clone());
        if let Some(topic) = route {
            record.topic = topic;
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testing::{configured, schemaless};
    use ferry_api::Value;

    #[test]
    fn routes_like_kafka() {
        let cases = [
            // (regex, replacement, topic, expected) — Kafka's RegexRouterTest cases.
            ("(.*)", "prefix-$1", "orig", "prefix-orig"),
            ("(.*)", "$1-suffix", "orig", "orig-suffix"),
            (
                "(.*)-(\\d\\d\\d\\d\\d\\d\\d\\d)",
                "$1",
                "index-20160117",
                "index",
            ),
            ("(.*)-(.*)", "$2-$1", "a-b", "b-a"),
            ("[a-z]+", "x", "a-b", "a-b"),
            (
                "dbserver1\\.inventory\\.(.*)",
                "cdc.$1",
                "dbserver1.inventory.orders",
                "cdc.orders",
            ),
        ];
        for (regex, replacement, topic, expected) in cases {
            let mut t = configured(
                RegexRouter::default(),
                &[("regex", regex), ("replacement", replacement)],
            );
            let out = t.apply(schemaless(topic, Value::Null)).unwrap().unwrap();
            assert_eq!(out.topic, expected, "{regex} {replacement} {topic}");
        }
    }
}
