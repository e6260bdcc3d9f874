//! Source topic creation per `topic.creation.*` (KIP-158): before a source task first writes to a
//! topic, the topic is created with the settings of the first group whose `include` matches (and
//! `exclude` does not), else of `default`. Creation is on only when the worker allows it and the
//! connector sets both `topic.creation.default.replication.factor` and `.partitions`.

use std::collections::HashSet;
use std::time::Duration;

use ferry_api::config::{split_list, with_prefix_stripped};
use ferry_api::{ConnectError, Props};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use regex::Regex;

use crate::kafka::create_client;

#[derive(Debug)]
struct Group {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
    settings: Props,
}

/// Creates source topics on first use.
pub struct TopicCreator {
    admin: AdminClient<DefaultClientContext>,
    groups: Vec<Group>,
    default: Props,
    known: HashSet<String>,
}

impl std::fmt::Debug for TopicCreator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicCreator")
            .field("groups", &self.groups)
            .field("default", &self.default)
            .finish()
    }
}

fn full_match(pattern: &str, key: &str) -> Result<Regex, ConnectError> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        ConnectError::config(format!(
            "Invalid value {pattern} for configuration {key}: {e}"
        ))
    })
}

impl TopicCreator {
    /// The creator for a connector, or None when topic creation is off for it.
    pub fn for_connector(
        worker_allows: bool,
        connector: &Props,
        admin_settings: &Props,
    ) -> Result<Option<Self>, ConnectError> {
        let default = with_prefix_stripped(connector, "topic.creation.default.");
        if !worker_allows
            || !default.contains_key("replication.factor")
            || !default.contains_key("partitions")
        {
            return Ok(None);
        }
        let mut groups = Vec::new();
        for name in split_list(
            connector
                .get("topic.creation.groups")
                .map(String::as_str)
                .unwrap_or(""),
        ) {
            let prefix = format!("topic.creation.{name}.");
            let settings = with_prefix_stripped(connector, &prefix);
            let regexes = |k: &str| -> Result<Vec<Regex>, ConnectError> {
                split_list(settings.get(k).map(String::as_str).unwrap_or(""))
                    .iter()
                    .map(|p| full_match(p, &format!("{prefix}{k}")))
                    .collect()
            };
            groups.push(Group {
                include: regexes("include")?,
                exclude: regexes("exclude")?,
                settings: settings.clone(),
            });
        }
        let admin = create_client("topic creation admin", admin_settings, |c| c.create())?;
        Ok(Some(TopicCreator {
            admin,
            groups,
            default,
            known: HashSet::new(),
        }))
    }

    /// Makes sure `topic` exists, creating it on first sight.
    pub async fn ensure(&mut self, topic: &str) -> Result<(), ConnectError> {
        if self.known.contains(topic) {
            return Ok(());
        }
        let settings = self
            .groups
            .iter()
            .find(|g| {
                g.include.iter().any(|r| r.is_match(topic))
                    && !g.exclude.iter().any(|r| r.is_match(topic))
            })
            .map(|g| {
                let mut s = self.default.clone();
                s.extend(g.settings.clone());
                s
            })
            .unwrap_or_else(|| self.default.clone());
        let int = |k: &str| -> Result<i32, ConnectError> {
            settings.get(k).map_or(Ok(-1), |v| {
                v.trim().parse().map_err(|_| {
                    ConnectError::config(format!("Invalid value {v} for configuration topic.creation.*.{k}: Not a number of type INT"))
                })
            })
        };
        let partitions = int("partitions")?;
        let replication = int("replication.factor")?;
        let configs: Vec<(String, String)> = settings
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "partitions" | "replication.factor" | "include" | "exclude"
                )
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication));
        for (k, v) in &configs {
            new_topic = new_topic.set(k, v);
        }
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = self
            .admin
            .create_topics([&new_topic], &opts)
            .await
            .map_err(|e| ConnectError::retriable(format!("could not create topic {topic}: {e}")))?;
        for r in results {
            match r {
                Ok(_) => tracing::info!(
                    "created topic {topic} ({partitions} partitions, replication {replication})"
                ),
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => {
                    return Err(ConnectError::external(format!(
                        "could not create topic {topic}: {code}"
                    )))
                }
            }
        }
        self.known.insert(topic.to_owned());
        Ok(())
    }
}
