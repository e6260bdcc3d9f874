//! The status topic (`status.storage.topic`, COMPAT §3.4): the runtime state of every connector
//! and task as last reported by the worker running it, and the topics each connector uses.
//!
//! Every status carries the group generation of its writer. Two rules keep stale news out:
//! a *safe* write (e.g. UNASSIGNED on shutdown) is skipped when the cached status came from
//! another worker with a newer generation, and a reader ignores a task's UNASSIGNED record while
//! it holds a RUNNING record of that task with a generation ≥ it.
//!
//! [`StatusCache`] is the pure reader; [`KafkaStatusStore`] reads and writes the topic.
//! Blocking (see [`TopicLog`]). Like Connect's `KafkaStatusBackingStore`, the store can follow
//! the topic on a thread of its own ([`KafkaStatusStore::follow`]) so that status reads are
//! served from memory instead of reading the topic to its end on every REST call.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_api::{ConnectError, Props};
use ferry_worker::herder::{State, TaskId};
use serde_json::{Map, Value as Json};

use crate::store::log::{ensure_topic, LogReader, LogRecord, LogWriter, TopicLog, TopicSpec};

/// One connector's or task's reported state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// State.
    pub state: State,
    /// Error chain when FAILED.
    pub trace: Option<String>,
    /// `host:port` of the reporting worker.
    pub worker_id: String,
    /// Group generation of the writer.
    pub generation: i32,
}

/// A topic a connector's task produced to or consumed from (`status-topic-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicStatus {
    /// Topic.
    pub topic: String,
    /// Connector.
    pub connector: String,
    /// Task that first used it.
    pub task: u32,
    /// When it was first used, ms since the epoch.
    pub discover_timestamp: i64,
}

/// What a status record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKey {
    /// `status-connector-<name>`.
    Connector(String),
    /// `status-task-<name>-<n>`.
    Task(TaskId),
    /// `status-topic-<topic>:connector-<name>`.
    Topic {
        /// Topic.
        topic: String,
        /// Connector.
        connector: String,
    },
}

const CONNECTOR: &str = "status-connector-";
const TASK: &str = "status-task-";
const TOPIC: &str = "status-topic-";
const TOPIC_CONNECTOR: &str = ":connector-";

impl StatusKey {
    /// The record key.
    pub fn encode(&self) -> String {
        match self {
            StatusKey::Connector(c) => format!("{CONNECTOR}{c}"),
            StatusKey::Task(t) => format!("{TASK}{}-{}", t.connector, t.task),
            StatusKey::Topic { topic, connector } => {
                format!("{TOPIC}{topic}{TOPIC_CONNECTOR}{connector}")
            }
        }
    }

    /// Parses a record key (task keys split on the last dash; topic keys on `:connector-`,
    /// which a topic name cannot contain).
    pub fn decode(key: &str) -> Option<Self> {
        if let Some(c) = key.strip_prefix(CONNECTOR) {
            Some(StatusKey::Connector(c.to_owned()))
        } else if let Some(rest) = key.strip_prefix(TASK) {
            let (c, n) = rest.rsplit_once('-')?;
            Some(StatusKey::Task(TaskId {
                connector: c.to_owned(),
                task: n.parse().ok()?,
            }))
        } else if let Some(rest) = key.strip_prefix(TOPIC) {
            let (topic, connector) = rest.split_once(TOPIC_CONNECTOR)?;
            Some(StatusKey::Topic {
                topic: topic.to_owned(),
                connector: connector.to_owned(),
            })
        } else {
            None
        }
    }
}

/// Value encodings, byte for byte as Connect writes them (schemaless JSON, field order of
/// Connect's status and topic schemas).
pub mod records {
    use super::*;

    /// `{"state":…,"trace":…,"worker_id":…,"generation":…}`.
    pub fn status(status: &Status) -> Vec<u8> {
        let mut o = Map::new();
        o.insert("state".into(), status.state.as_str().into());
        o.insert(
            "trace".into(),
            status.trace.clone().map_or(Json::Null, Json::String),
        );
        o.insert("worker_id".into(), status.worker_id.clone().into());
        o.insert("generation".into(), status.generation.into());
        Json::Object(o).to_string().into_bytes()
    }

    /// `{"topic":{"name":…,"connector":…,"task":…,"discoverTimestamp":…}}`.
    pub fn topic(t: &TopicStatus) -> Vec<u8> {
        let mut inner = Map::new();
        inner.insert("name".into(), t.topic.clone().into());
        inner.insert("connector".into(), t.connector.clone().into());
        inner.insert("task".into(), t.task.into());
        inner.insert("discoverTimestamp".into(), t.discover_timestamp.into());
        let mut o = Map::new();
        o.insert("topic".into(), Json::Object(inner));
        Json::Object(o).to_string().into_bytes()
    }

    /// Parses a status value.
    pub fn parse_status(bytes: &[u8]) -> Result<Status, String> {
        let json: Json = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let state: State = serde_json::from_value(json.get("state").cloned().unwrap_or(Json::Null))
            .map_err(|_| format!("unknown or missing `state` in {json}"))?;
        let worker_id = json
            .get("worker_id")
            .and_then(Json::as_str)
            .ok_or_else(|| format!("missing `worker_id` in {json}"))?
            .to_owned();
        let generation = json
            .get("generation")
            .and_then(Json::as_i64)
            .and_then(|g| i32::try_from(g).ok())
            .ok_or_else(|| format!("missing or invalid `generation` in {json}"))?;
        Ok(Status {
            state,
            trace: json.get("trace").and_then(Json::as_str).map(str::to_owned),
            worker_id,
            generation,
        })
    }

    /// Parses a topic value.
    pub fn parse_topic(bytes: &[u8]) -> Result<TopicStatus, String> {
        let json: Json = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let t = json
            .get("topic")
            .ok_or_else(|| format!("missing `topic` in {json}"))?;
        let text = |k: &str| {
            t.get(k)
                .and_then(Json::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("missing `topic.{k}` in {json}"))
        };
        let number = |k: &str| {
            t.get(k)
                .and_then(Json::as_i64)
                .ok_or_else(|| format!("missing `topic.{k}` in {json}"))
        };
        Ok(TopicStatus {
            topic: text("name")?,
            connector: text("connector")?,
            task: u32::try_from(number("task")?)
                .map_err(|_| format!("bad `topic.task` in {json}"))?,
            discover_timestamp: number("discoverTimestamp")?,
        })
    }
}

/// The statuses read from the topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCache {
    connectors: BTreeMap<String, Status>,
    tasks: BTreeMap<TaskId, Status>,
    /// Connector → topic → first use.
    topics: BTreeMap<String, BTreeMap<String, TopicStatus>>,
}

impl StatusCache {
    /// Applies one record (`None` value = tombstone). Returns a description of a record that
    /// was skipped, for the caller to log.
    pub fn apply(&mut self, key: &str, value: Option<&[u8]>) -> Result<(), String> {
        let parsed = StatusKey::decode(key).ok_or_else(|| format!("unknown status key {key:?}"))?;
        let problem = |e: String| format!("status record {key:?}: {e}");
        match (parsed, value) {
            (StatusKey::Connector(c), None) => {
                self.connectors.remove(&c);
            }
            (StatusKey::Connector(c), Some(v)) => {
                self.connectors
                    .insert(c, records::parse_status(v).map_err(problem)?);
            }
            (StatusKey::Task(t), None) => {
                self.tasks.remove(&t);
            }
            (StatusKey::Task(t), Some(v)) => {
                let status = records::parse_status(v).map_err(problem)?;
                let stale = status.state == State::Unassigned
                    && self.tasks.get(&t).is_some_and(|cached| {
                        cached.state == State::Running && cached.generation >= status.generation
                    });
                if !stale {
                    self.tasks.insert(t, status);
                }
            }
            (StatusKey::Topic { topic, connector }, None) => {
                if let Some(topics) = self.topics.get_mut(&connector) {
                    topics.remove(&topic);
                    if topics.is_empty() {
                        self.topics.remove(&connector);
                    }
                }
            }
            (StatusKey::Topic { topic, connector }, Some(v)) => {
                let t = records::parse_topic(v).map_err(problem)?;
                self.topics.entry(connector).or_default().insert(topic, t);
            }
        }
        Ok(())
    }

    /// Whether a *safe* write of `status` for `key` may go ahead: not when the cached status
    /// came from another worker with a newer generation.
    pub fn can_write_safely(&self, key: &StatusKey, status: &Status) -> bool {
        let cached = match key {
            StatusKey::Connector(c) => self.connectors.get(c),
            StatusKey::Task(t) => self.tasks.get(t),
            StatusKey::Topic { .. } => None,
        };
        cached.is_none_or(|c| c.worker_id == status.worker_id || c.generation <= status.generation)
    }

    /// A connector's status.
    pub fn connector(&self, connector: &str) -> Option<&Status> {
        self.connectors.get(connector)
    }

    /// A task's status.
    pub fn task(&self, task: &TaskId) -> Option<&Status> {
        self.tasks.get(task)
    }

    /// A connector's task statuses by task number.
    pub fn connector_tasks(&self, connector: &str) -> Vec<(u32, &Status)> {
        self.tasks
            .iter()
            .filter(|(t, _)| t.connector == connector)
            .map(|(t, s)| (t.task, s))
            .collect()
    }

    /// The topics a connector uses (`GET /connectors/{c}/topics`).
    pub fn active_topics(&self, connector: &str) -> Vec<&TopicStatus> {
        self.topics
            .get(connector)
            .map(|t| t.values().collect())
            .unwrap_or_default()
    }
}

/// The status topic.
#[derive(Debug)]
pub struct KafkaStatusStore {
    /// Separate from the writer: the follower waits on the reader without holding up writes.
    reader: Mutex<LogReader>,
    writer: Mutex<LogWriter>,
    cache: Mutex<StatusCache>,
}

/// How long the follower waits for news before checking whether the store is still wanted.
const FOLLOW_WAIT: Duration = Duration::from_millis(200);

impl KafkaStatusStore {
    /// Creates the topic if missing (compacted), opens it and reads it to the end.
    pub fn open(
        client: &Props,
        topic: &str,
        partitions: i32,
        replication_factor: i16,
        configs: &Props,
        timeout: Duration,
    ) -> Result<Self, ConnectError> {
        ensure_topic(
            client,
            &TopicSpec {
                name: topic.to_owned(),
                partitions,
                replication_factor,
                configs: configs.clone(),
            },
            timeout,
        )?;
        let (reader, writer) = TopicLog::open(client, topic, timeout)?.split();
        let store = KafkaStatusStore {
            reader: Mutex::new(reader),
            writer: Mutex::new(writer),
            cache: Mutex::new(StatusCache::default()),
        };
        store.refresh()?;
        Ok(store)
    }

    /// Reads the topic to its end into the cache.
    pub fn refresh(&self) -> Result<(), ConnectError> {
        let records = self.reader.lock().unwrap().read_to_end()?;
        self.apply(records);
        Ok(())
    }

    /// Keeps the cache up to date from a thread of its own until the last other reference to
    /// the store is dropped: records other workers write show up within a fetch round trip,
    /// and [`Self::cache`] can answer status reads without a read to the end.
    pub fn follow(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("status-follower".into())
            .spawn(move || {
                while let Some(store) = weak.upgrade() {
                    let read = store.reader.lock().unwrap().read_new(FOLLOW_WAIT);
                    match read {
                        Ok(records) => store.apply(records),
                        Err(e) => {
                            tracing::warn!("status topic: {e}; reading on");
                            drop(store);
                            std::thread::sleep(FOLLOW_WAIT);
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the status topic follower: {e}");
        }
    }

    fn apply(&self, records: Vec<LogRecord>) {
        let mut cache = self.cache.lock().unwrap();
        for r in records {
            let key = r
                .key
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            if let Err(problem) = cache.apply(&key, r.value.as_deref()) {
                tracing::warn!("{problem}; skipped");
            }
        }
    }

    /// A copy of the cache as last read.
    pub fn cache(&self) -> StatusCache {
        self.cache.lock().unwrap().clone()
    }

    fn send(&self, key: &StatusKey, value: Option<Vec<u8>>) -> Result<(), ConnectError> {
        self.send_all(vec![(key.encode(), value)])
    }

    /// Appends `writes` (encoded key, value) with one wait for their acknowledgements.
    fn send_all(&self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), ConnectError> {
        let records: Vec<(&[u8], Option<&[u8]>)> = writes
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_deref()))
            .collect();
        self.writer.lock().unwrap().send(&records)?;
        // Apply our own writes at once so a following safe write sees them.
        let mut cache = self.cache.lock().unwrap();
        for (k, v) in &writes {
            cache
                .apply(k, v.as_deref())
                .map_err(ConnectError::internal)?;
        }
        Ok(())
    }

    /// Writes several statuses and topic records at once: one acknowledgement wait for all
    /// (a worker publishing the state of every task it just started).
    pub fn put_all(
        &self,
        statuses: &[(StatusKey, Status)],
        topics: &[TopicStatus],
    ) -> Result<(), ConnectError> {
        let mut writes: Vec<(String, Option<Vec<u8>>)> = statuses
            .iter()
            .map(|(key, status)| (key.encode(), Some(records::status(status))))
            .collect();
        writes.extend(topics.iter().map(|t| {
            let key = StatusKey::Topic {
                topic: t.topic.clone(),
                connector: t.connector.clone(),
            };
            (key.encode(), Some(records::topic(t)))
        }));
        if writes.is_empty() {
            return Ok(());
        }
        self.send_all(writes)
    }

    /// Writes a connector's or task's status (acknowledged when this returns).
    pub fn put(&self, key: &StatusKey, status: &Status) -> Result<(), ConnectError> {
        self.send(key, Some(records::status(status)))
    }

    /// Writes `status` unless a newer generation of another worker owns the entry; returns
    /// whether it was written.
    pub fn put_safe(&self, key: &StatusKey, status: &Status) -> Result<bool, ConnectError> {
        if !self.cache.lock().unwrap().can_write_safely(key, status) {
            return Ok(false);
        }
        self.put(key, status).map(|()| true)
    }

    /// Records that a connector's task used a topic.
    pub fn put_topic(&self, topic: &TopicStatus) -> Result<(), ConnectError> {
        let key = StatusKey::Topic {
            topic: topic.topic.clone(),
            connector: topic.connector.clone(),
        };
        self.send(&key, Some(records::topic(topic)))
    }

    /// Removes a status (DESTROYED, connector or task removal, topic reset): a tombstone.
    pub fn delete(&self, key: &StatusKey) -> Result<(), ConnectError> {
        self.send(key, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: State, worker: &str, generation: i32) -> Status {
        Status {
            state,
            trace: None,
            worker_id: worker.into(),
            generation,
        }
    }

    fn task(c: &str, n: u32) -> TaskId {
        TaskId {
            connector: c.into(),
            task: n,
        }
    }

    #[test]
    fn keys_and_values_match_connect() {
        let cases = [
            (
                StatusKey::Connector("my-conn".into()),
                "status-connector-my-conn",
            ),
            (
                StatusKey::Task(task("my-conn", 12)),
                "status-task-my-conn-12",
            ),
            (
                StatusKey::Topic {
                    topic: "orders".into(),
                    connector: "inv".into(),
                },
                "status-topic-orders:connector-inv",
            ),
        ];
        for (key, text) in cases {
            assert_eq!(key.encode(), text);
            assert_eq!(StatusKey::decode(text), Some(key));
        }
        assert_eq!(StatusKey::decode("status-task-nonumber"), None);
        assert_eq!(
            String::from_utf8(records::status(&status(State::Running, "10.0.0.5:8083", 7)))
                .unwrap(),
            r#"{"state":"RUNNING","trace":null,"worker_id":"10.0.0.5:8083","generation":7}"#
        );
        let failed = Status {
            trace: Some("boom\n\tat x".into()),
            ..status(State::Failed, "w:1", 2)
        };
        let bytes = records::status(&failed);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"state":"FAILED","trace":"boom\n\tat x","worker_id":"w:1","generation":2}"#
        );
        assert_eq!(records::parse_status(&bytes).unwrap(), failed);
        let topic = TopicStatus {
            topic: "orders".into(),
            connector: "inv".into(),
            task: 0,
            discover_timestamp: 1_700_000_000_000,
        };
        let bytes = records::topic(&topic);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            r#"{"topic":{"name":"orders","connector":"inv","task":0,"discoverTimestamp":1700000000000}}"#
        );
        assert_eq!(records::parse_topic(&bytes).unwrap(), topic);
    }

    #[test]
    fn stale_unassigned_task_records_are_ignored() {
        // (cached, incoming UNASSIGNED generation, expected state afterwards)
        let cases = [
            (Some(status(State::Running, "a", 5)), 4, State::Running),
            (Some(status(State::Running, "a", 5)), 5, State::Running),
            (Some(status(State::Running, "a", 5)), 6, State::Unassigned),
            (Some(status(State::Failed, "a", 5)), 4, State::Unassigned),
            (None, 1, State::Unassigned),
        ];
        for (cached, generation, expected) in cases {
            let mut cache = StatusCache::default();
            let key = "status-task-c-0";
            if let Some(c) = &cached {
                cache.apply(key, Some(&records::status(c))).unwrap();
            }
            cache
                .apply(
                    key,
                    Some(&records::status(&status(
                        State::Unassigned,
                        "b",
                        generation,
                    ))),
                )
                .unwrap();
            assert_eq!(
                cache.task(&task("c", 0)).unwrap().state,
                expected,
                "{cached:?} then gen {generation}"
            );
        }
    }

    #[test]
    fn safe_writes_yield_to_newer_generations_of_other_workers() {
        let mut cache = StatusCache::default();
        let key = StatusKey::Connector("c".into());
        cache
            .apply(
                &key.encode(),
                Some(&records::status(&status(State::Running, "b", 8))),
            )
            .unwrap();
        let cases = [
            (status(State::Unassigned, "a", 7), false),
            (status(State::Unassigned, "a", 8), true),
            (status(State::Unassigned, "b", 3), true),
        ];
        for (s, allowed) in cases {
            assert_eq!(cache.can_write_safely(&key, &s), allowed, "{s:?}");
        }
        assert!(cache.can_write_safely(
            &StatusKey::Connector("new".into()),
            &status(State::Unassigned, "a", 0)
        ));
    }

    #[test]
    fn tombstones_remove_and_bad_records_are_reported() {
        let mut cache = StatusCache::default();
        cache
            .apply(
                "status-connector-c",
                Some(&records::status(&status(State::Running, "a", 1))),
            )
            .unwrap();
        cache.apply("status-connector-c", None).unwrap();
        assert_eq!(cache.connector("c"), None);
        let topic = TopicStatus {
            topic: "t".into(),
            connector: "c".into(),
            task: 1,
            discover_timestamp: 2,
        };
        cache
            .apply("status-topic-t:connector-c", Some(&records::topic(&topic)))
            .unwrap();
        assert_eq!(cache.active_topics("c"), vec![&topic]);
        cache.apply("status-topic-t:connector-c", None).unwrap();
        assert!(cache.active_topics("c").is_empty());
        assert_eq!(
            cache.apply("status-connector-c", Some(br#"{"state":"DESTROYED","worker_id":"a","generation":1}"#)),
            Err(r#"status record "status-connector-c": unknown or missing `state` in {"state":"DESTROYED","worker_id":"a","generation":1}"#.to_owned())
        );
        assert_eq!(
            cache.apply("other", Some(b"{}")),
            Err(r#"unknown status key "other""#.to_owned())
        );
    }
}
