//! The config topic (`config.storage.topic`, COMPAT §3.2): connector configs, task configs
//! with their commit records, target states, restart requests, the session key, EOS task-count
//! records and cluster logger levels. Keys are raw UTF-8 strings, values schemaless JSON.
//!
//! [`ClusterConfigState`] is the pure reader (apply records in order); [`ConfigStore`] reads
//! the real topic to its end into it and writes records in the order Connect requires.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use base64::Engine as _;
use ferry_api::{ConnectError, Props};
use ferry_worker::herder::{TargetState, TaskId};
use serde_json::{json, Map, Value as Json};

use crate::store::log::{ensure_topic, TopicLog, TopicSpec};

/// A restart request (`restart-connector-<name>`, KIP-745).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartRequest {
    /// Connector.
    pub connector: String,
    /// `include-tasks`.
    pub include_tasks: bool,
    /// `only-failed`.
    pub only_failed: bool,
}

/// The leader's HMAC key for signing internal requests (`session-key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey {
    /// Raw key bytes (base64 in the record).
    pub key: Vec<u8>,
    /// e.g. `HmacSHA256`.
    pub algorithm: String,
    /// Creation time, ms since the epoch.
    pub creation_timestamp: i64,
}

/// What changed in one read of the topic, for the herder to act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigUpdates {
    /// Connectors whose config was written or deleted.
    pub connectors: BTreeSet<String>,
    /// Connectors whose task configs were committed (consistently or not).
    pub tasks: BTreeSet<String>,
    /// Connectors whose target state record was read.
    pub target_states: BTreeSet<String>,
    /// Restart requests read, in order.
    pub restarts: Vec<RestartRequest>,
    /// Whether a new session key was read.
    pub session_key: bool,
}

/// A record the reader could not use; logged and skipped as Connect does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config topic record {key:?} at offset {offset}: {problem}")]
pub struct SkippedRecord {
    /// The record key.
    pub key: String,
    /// Its offset.
    pub offset: i64,
    /// Why it was skipped.
    pub problem: String,
}

/// The cluster's configuration as read from the config topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfigState {
    offset: i64,
    connectors: BTreeMap<String, Props>,
    target_states: BTreeMap<String, TargetState>,
    task_counts: BTreeMap<String, u32>,
    task_configs: BTreeMap<TaskId, Props>,
    /// Task configs read but not yet committed, per connector.
    deferred: BTreeMap<String, BTreeMap<u32, Props>>,
    inconsistent: BTreeSet<String>,
    session_key: Option<SessionKey>,
    fencing_counts: BTreeMap<String, u32>,
    logger_levels: BTreeMap<String, String>,
}

impl Default for ClusterConfigState {
    fn default() -> Self {
        ClusterConfigState {
            offset: -1,
            connectors: BTreeMap::new(),
            target_states: BTreeMap::new(),
            task_counts: BTreeMap::new(),
            task_configs: BTreeMap::new(),
            deferred: BTreeMap::new(),
            inconsistent: BTreeSet::new(),
            session_key: None,
            fencing_counts: BTreeMap::new(),
            logger_levels: BTreeMap::new(),
        }
    }
}

const CONNECTOR: &str = "connector-";
const TASK: &str = "task-";
const COMMIT: &str = "commit-";
const TARGET_STATE: &str = "target-state-";
const RESTART: &str = "restart-connector-";
const FENCING: &str = "tasks-fencing-";
const SESSION_KEY: &str = "session-key";
const LOGGER: &str = "logger-cluster-";

/// Splits `task-<connector>-<n>` on the last dash.
fn parse_task_key(rest: &str) -> Option<(&str, u32)> {
    let (connector, n) = rest.rsplit_once('-')?;
    Some((connector, n.parse().ok()?))
}

impl ClusterConfigState {
    /// The config offset: the offset after the last record read (−1 before any record), as
    /// sent in the group protocol.
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// Connector names.
    pub fn connector_names(&self) -> impl Iterator<Item = &str> {
        self.connectors.keys().map(String::as_str)
    }

    /// A connector's raw config (placeholders unexpanded).
    pub fn connector_config(&self, connector: &str) -> Option<&Props> {
        self.connectors.get(connector)
    }

    /// A connector's target state: STARTED unless a record says otherwise (`None` if the
    /// connector does not exist).
    pub fn target_state(&self, connector: &str) -> Option<TargetState> {
        self.connectors.contains_key(connector).then(|| {
            self.target_states
                .get(connector)
                .copied()
                .unwrap_or(TargetState::Started)
        })
    }

    /// The committed task count of a connector.
    pub fn task_count(&self, connector: &str) -> u32 {
        self.task_counts.get(connector).copied().unwrap_or(0)
    }

    /// Every connector's committed task count (what the assignor distributes).
    pub fn task_counts(&self) -> BTreeMap<String, u32> {
        self.connectors
            .keys()
            .map(|c| (c.clone(), self.task_count(c)))
            .collect()
    }

    /// A committed task config.
    pub fn task_config(&self, task: &TaskId) -> Option<&Props> {
        (task.task < self.task_count(&task.connector))
            .then(|| self.task_configs.get(task))
            .flatten()
    }

    /// The committed task configs of a connector, by task number.
    pub fn task_configs(&self, connector: &str) -> Vec<Props> {
        (0..self.task_count(connector))
            .filter_map(|task| {
                self.task_configs
                    .get(&TaskId {
                        connector: connector.to_owned(),
                        task,
                    })
                    .cloned()
            })
            .collect()
    }

    /// Connectors whose last commit did not match the task records read (the leader must
    /// regenerate their task configs).
    pub fn inconsistent(&self) -> &BTreeSet<String> {
        &self.inconsistent
    }

    /// The current session key.
    pub fn session_key(&self) -> Option<&SessionKey> {
        self.session_key.as_ref()
    }

    /// The EOS task-count record of a connector (`tasks-fencing-<name>`).
    pub fn fencing_count(&self, connector: &str) -> Option<u32> {
        self.fencing_counts.get(connector).copied()
    }

    /// Cluster-scoped logger levels (`logger-cluster-<namespace>`).
    pub fn logger_levels(&self) -> &BTreeMap<String, String> {
        &self.logger_levels
    }

    /// Applies one record read at `offset`, noting what changed in `updates`. A record that
    /// cannot be used is skipped (and returned, for the caller to log), as Connect does.
    pub fn apply(
        &mut self,
        offset: i64,
        key: &str,
        value: Option<&[u8]>,
        updates: &mut ConfigUpdates,
    ) -> Result<(), SkippedRecord> {
        self.offset = offset + 1;
        let skip = |problem: String| SkippedRecord {
            key: key.to_owned(),
            offset,
            problem,
        };
        let json: Option<Map<String, Json>> = match value {
            None => None,
            Some(bytes) => match serde_json::from_slice(bytes) {
                Ok(Json::Object(o)) => Some(o),
                Ok(other) => return Err(skip(format!("value is not a JSON object: {other}"))),
                Err(e) => return Err(skip(format!("value is not JSON: {e}"))),
            },
        };
        // Prefix order matters: `connector-` would not match `target-state-…`, but keep
        // Connect's order anyway.
        if let Some(name) = key.strip_prefix(TARGET_STATE) {
            updates.target_states.insert(name.to_owned());
            match json {
                None => {
                    self.target_states.remove(name);
                }
                Some(o) => {
                    let state = o
                        .get("state.v2")
                        .and_then(Json::as_str)
                        .or_else(|| o.get("state").and_then(Json::as_str))
                        .ok_or_else(|| skip("has neither `state.v2` nor `state`".into()))?;
                    let state = match state {
                        "STARTED" => TargetState::Started,
                        "PAUSED" => TargetState::Paused,
                        "STOPPED" => TargetState::Stopped,
                        other => return Err(skip(format!("unknown target state {other:?}"))),
                    };
                    self.target_states.insert(name.to_owned(), state);
                }
            }
        } else if let Some(name) = key.strip_prefix(CONNECTOR) {
            updates.connectors.insert(name.to_owned());
            match json {
                None => {
                    self.connectors.remove(name);
                    self.target_states.remove(name);
                    self.task_counts.remove(name);
                    self.deferred.remove(name);
                    self.inconsistent.remove(name);
                    self.task_configs.retain(|t, _| t.connector != name);
                }
                Some(o) => {
                    let props = properties(&o).map_err(skip)?;
                    self.connectors.insert(name.to_owned(), props);
                }
            }
        } else if let Some(rest) = key.strip_prefix(TASK) {
            let (connector, task) =
                parse_task_key(rest).ok_or_else(|| skip("is not task-<connector>-<n>".into()))?;
            let o = json.ok_or_else(|| skip("task config tombstone ignored".into()))?;
            let props = properties(&o).map_err(skip)?;
            self.deferred
                .entry(connector.to_owned())
                .or_default()
                .insert(task, props);
        } else if let Some(connector) = key.strip_prefix(COMMIT) {
            let o = json.ok_or_else(|| skip("commit tombstone ignored".into()))?;
            let count = count(&o, "tasks").map_err(skip)?;
            updates.tasks.insert(connector.to_owned());
            let deferred = self.deferred.remove(connector).unwrap_or_default();
            // Compaction can remove earlier task records: the commit is only applied when
            // every task 0..count was read since the previous commit.
            if (0..count).all(|t| deferred.contains_key(&t)) {
                self.task_configs
                    .retain(|t, _| t.connector != connector || t.task < count);
                for (task, props) in deferred.into_iter().filter(|(t, _)| *t < count) {
                    self.task_configs.insert(
                        TaskId {
                            connector: connector.to_owned(),
                            task,
                        },
                        props,
                    );
                }
                self.inconsistent.remove(connector);
            } else {
                self.inconsistent.insert(connector.to_owned());
            }
            self.task_counts.insert(connector.to_owned(), count);
        } else if let Some(connector) = key.strip_prefix(RESTART) {
            let o = json.ok_or_else(|| skip("restart request tombstone ignored".into()))?;
            let flag = |k: &str| o.get(k).and_then(Json::as_bool).unwrap_or(false);
            updates.restarts.push(RestartRequest {
                connector: connector.to_owned(),
                include_tasks: flag("include-tasks"),
                only_failed: flag("only-failed"),
            });
        } else if let Some(connector) = key.strip_prefix(FENCING) {
            match json {
                None => {
                    self.fencing_counts.remove(connector);
                }
                Some(o) => {
                    let n = count(&o, "task-count").map_err(skip)?;
                    self.fencing_counts.insert(connector.to_owned(), n);
                }
            }
        } else if key == SESSION_KEY {
            let o = json.ok_or_else(|| skip("session key tombstone ignored".into()))?;
            let text = |k: &str| {
                o.get(k)
                    .and_then(Json::as_str)
                    .ok_or_else(|| skip(format!("`{k}` is missing or not a string")))
            };
            let key_bytes = base64::engine::general_purpose::STANDARD
                .decode(text("key")?)
                .map_err(|e| skip(format!("`key` is not base64: {e}")))?;
            let creation_timestamp = o
                .get("creation-timestamp")
                .and_then(Json::as_i64)
                .ok_or_else(|| skip("`creation-timestamp` is missing or not a number".into()))?;
            self.session_key = Some(SessionKey {
                key: key_bytes,
                algorithm: text("algorithm")?.to_owned(),
                creation_timestamp,
            });
            updates.session_key = true;
        } else if let Some(namespace) = key.strip_prefix(LOGGER) {
            match json
                .as_ref()
                .and_then(|o| o.get("level"))
                .and_then(Json::as_str)
            {
                Some(level) => {
                    self.logger_levels
                        .insert(namespace.to_owned(), level.to_owned());
                }
                None => {
                    self.logger_levels.remove(namespace);
                }
            }
        } else {
            return Err(skip("unknown key".into()));
        }
        Ok(())
    }
}

/// `{"properties":{…}}` → string map (non-string values are kept as their JSON text).
fn properties(o: &Map<String, Json>) -> Result<Props, String> {
    let Some(Json::Object(props)) = o.get("properties") else {
        return Err("`properties` is missing or not an object".into());
    };
    Ok(props
        .iter()
        .filter_map(|(k, v)| {
            let v = match v {
                Json::String(s) => s.clone(),
                Json::Null => return None,
                other => other.to_string(),
            };
            Some((k.clone(), v))
        })
        .collect())
}

fn count(o: &Map<String, Json>, field: &str) -> Result<u32, String> {
    o.get(field)
        .and_then(Json::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("`{field}` is missing or not a task count"))
}

/// The record values Connect writes, byte for byte (Jackson, schemaless, struct field order).
pub mod records {
    use super::*;

    /// `{"properties":{…}}` for `connector-<name>` and `task-<name>-<n>`.
    pub fn properties(props: &Props) -> Vec<u8> {
        json!({ "properties": props }).to_string().into_bytes()
    }

    /// `{"tasks":N}` for `commit-<name>`.
    pub fn commit(tasks: u32) -> Vec<u8> {
        json!({ "tasks": tasks }).to_string().into_bytes()
    }

    /// `{"state":…,"state.v2":…}`; STOPPED is written as PAUSED in `state` for old readers.
    pub fn target_state(state: TargetState) -> Vec<u8> {
        let (v1, v2) = match state {
            TargetState::Started => ("STARTED", "STARTED"),
            TargetState::Paused => ("PAUSED", "PAUSED"),
            TargetState::Stopped => ("PAUSED", "STOPPED"),
        };
        format!(r#"{{"state":"{v1}","state.v2":"{v2}"}}"#).into_bytes()
    }

    /// `{"include-tasks":…,"only-failed":…}` for `restart-connector-<name>`.
    pub fn restart(include_tasks: bool, only_failed: bool) -> Vec<u8> {
        format!(r#"{{"include-tasks":{include_tasks},"only-failed":{only_failed}}}"#).into_bytes()
    }

    /// `{"key":…,"algorithm":…,"creation-timestamp":…}` for `session-key`.
    pub fn session_key(key: &SessionKey) -> Vec<u8> {
        let mut o = Map::new();
        o.insert(
            "key".into(),
            base64::engine::general_purpose::STANDARD
                .encode(&key.key)
                .into(),
        );
        o.insert("algorithm".into(), key.algorithm.clone().into());
        o.insert("creation-timestamp".into(), key.creation_timestamp.into());
        Json::Object(o).to_string().into_bytes()
    }

    /// `{"task-count":N}` for `tasks-fencing-<name>`.
    pub fn fencing_count(count: u32) -> Vec<u8> {
        format!(r#"{{"task-count":{count}}}"#).into_bytes()
    }
}

/// The config topic: read to its end into a [`ClusterConfigState`], written in Connect's order.
/// Blocking (see [`TopicLog`]).
#[derive(Debug)]
pub struct ConfigStore {
    log: TopicLog,
    state: ClusterConfigState,
}

impl ConfigStore {
    /// Creates the topic if missing (compacted, 1 partition, `replication_factor`), opens it and
    /// reads it to the end. Fails if the topic has more than one partition (as Connect does).
    pub fn open(
        client: &Props,
        topic: &str,
        replication_factor: i16,
        topic_configs: &Props,
        timeout: Duration,
    ) -> Result<Self, ConnectError> {
        ensure_topic(
            client,
            &TopicSpec {
                name: topic.to_owned(),
                partitions: 1,
                replication_factor,
                configs: topic_configs.clone(),
            },
            timeout,
        )?;
        let log = TopicLog::open(client, topic, timeout)?;
        if log.partitions() != 1 {
            return Err(ConnectError::config(format!(
                "Topic '{topic}' supplied via the 'config.storage.topic' property is required to have a \
                 single partition in order to guarantee consistency of connector configurations, but \
                 found {} partitions.",
                log.partitions()
            )));
        }
        let mut store = ConfigStore {
            log,
            state: ClusterConfigState::default(),
        };
        store.refresh()?;
        Ok(store)
    }

    /// The state as last read.
    pub fn state(&self) -> &ClusterConfigState {
        &self.state
    }

    /// Reads the topic to its end and reports what changed.
    pub fn refresh(&mut self) -> Result<ConfigUpdates, ConnectError> {
        let mut updates = ConfigUpdates::default();
        for record in self.log.read_to_end()? {
            let Some(key) = record.key.as_deref() else {
                tracing::warn!(
                    "config topic {}: skipping record at offset {} without a key",
                    self.log.topic(),
                    record.offset
                );
                continue;
            };
            let key = String::from_utf8_lossy(key);
            if let Err(skipped) =
                self.state
                    .apply(record.offset, &key, record.value.as_deref(), &mut updates)
            {
                tracing::warn!("{skipped}; skipped");
            }
        }
        Ok(updates)
    }

    fn write(&mut self, records: &[(String, Option<Vec<u8>>)]) -> Result<(), ConnectError> {
        let refs: Vec<(&[u8], Option<&[u8]>)> = records
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_deref()))
            .collect();
        self.log.send(&refs)
    }

    /// Writes a connector config; with `initial_state`, its target-state record goes first
    /// (in the same batch), as Connect does.
    pub fn put_connector_config(
        &mut self,
        connector: &str,
        config: &Props,
        initial_state: Option<TargetState>,
    ) -> Result<(), ConnectError> {
        let mut records = Vec::new();
        if let Some(state) = initial_state {
            records.push((
                format!("{TARGET_STATE}{connector}"),
                Some(records::target_state(state)),
            ));
        }
        records.push((
            format!("{CONNECTOR}{connector}"),
            Some(records::properties(config)),
        ));
        self.write(&records)?;
        self.refresh().map(drop)
    }

    /// Writes a connector's task configs then, once they are acknowledged, the commit record.
    pub fn put_task_configs(
        &mut self,
        connector: &str,
        tasks: &[Props],
    ) -> Result<(), ConnectError> {
        let records: Vec<(String, Option<Vec<u8>>)> = tasks
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    format!("{TASK}{connector}-{i}"),
                    Some(records::properties(p)),
                )
            })
            .collect();
        self.write(&records)?;
        self.refresh()?;
        self.write(&[(
            format!("{COMMIT}{connector}"),
            Some(records::commit(tasks.len() as u32)),
        )])?;
        self.refresh().map(drop)
    }

    /// Writes a target state. STOPPED first commits an empty task set, as Connect does.
    pub fn put_target_state(
        &mut self,
        connector: &str,
        state: TargetState,
    ) -> Result<(), ConnectError> {
        if state == TargetState::Stopped {
            self.put_task_configs(connector, &[])?;
        }
        self.write(&[(
            format!("{TARGET_STATE}{connector}"),
            Some(records::target_state(state)),
        )])?;
        self.refresh().map(drop)
    }

    /// Deletes a connector: tombstones for `connector-<name>` and `target-state-<name>` only.
    pub fn remove_connector(&mut self, connector: &str) -> Result<(), ConnectError> {
        self.write(&[
            (format!("{CONNECTOR}{connector}"), None),
            (format!("{TARGET_STATE}{connector}"), None),
        ])?;
        self.refresh().map(drop)
    }

    /// Writes a restart request.
    pub fn put_restart_request(&mut self, request: &RestartRequest) -> Result<(), ConnectError> {
        self.write(&[(
            format!("{RESTART}{}", request.connector),
            Some(records::restart(request.include_tasks, request.only_failed)),
        )])?;
        self.refresh().map(drop)
    }

    /// Writes a new session key.
    pub fn put_session_key(&mut self, key: &SessionKey) -> Result<(), ConnectError> {
        self.write(&[(SESSION_KEY.to_owned(), Some(records::session_key(key)))])?;
        self.refresh().map(drop)
    }

    /// Writes raw records (tests and migrations: what another worker would have written).
    pub fn put_raw(
        &mut self,
        records: &[(String, Option<Vec<u8>>)],
    ) -> Result<ConfigUpdates, ConnectError> {
        self.write(records)?;
        self.refresh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    /// Applies `(key, value)` records from offset 0; returns the state and all updates.
    fn read(records: &[(&str, Option<&str>)]) -> (ClusterConfigState, ConfigUpdates) {
        let mut state = ClusterConfigState::default();
        let mut updates = ConfigUpdates::default();
        for (i, (k, v)) in records.iter().enumerate() {
            state
                .apply(i as i64, k, v.map(str::as_bytes), &mut updates)
                .unwrap();
        }
        (state, updates)
    }

    fn task(c: &str, n: u32) -> TaskId {
        TaskId {
            connector: c.into(),
            task: n,
        }
    }

    #[test]
    fn value_encodings_match_connect_byte_for_byte() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                records::properties(&props(&[
                    ("connector.class", "FileStreamSource"),
                    ("name", "f"),
                ])),
                r#"{"properties":{"connector.class":"FileStreamSource","name":"f"}}"#,
            ),
            (records::commit(3), r#"{"tasks":3}"#),
            (records::commit(0), r#"{"tasks":0}"#),
            (
                records::target_state(TargetState::Started),
                r#"{"state":"STARTED","state.v2":"STARTED"}"#,
            ),
            (
                records::target_state(TargetState::Paused),
                r#"{"state":"PAUSED","state.v2":"PAUSED"}"#,
            ),
            (
                records::target_state(TargetState::Stopped),
                r#"{"state":"PAUSED","state.v2":"STOPPED"}"#,
            ),
            (
                records::restart(true, false),
                r#"{"include-tasks":true,"only-failed":false}"#,
            ),
            (
                records::session_key(&SessionKey {
                    key: b"0123456789abcdef".to_vec(),
                    algorithm: "HmacSHA256".into(),
                    creation_timestamp: 1_700_000_000_000,
                }),
                r#"{"key":"MDEyMzQ1Njc4OWFiY2RlZg==","algorithm":"HmacSHA256","creation-timestamp":1700000000000}"#,
            ),
            (records::fencing_count(3), r#"{"task-count":3}"#),
        ];
        for (bytes, expected) in cases {
            assert_eq!(String::from_utf8(bytes).unwrap(), expected);
        }
    }

    #[test]
    fn reads_the_documented_records() {
        let (state, updates) = read(&[
            (
                "target-state-inv-db",
                Some(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#),
            ),
            (
                "connector-inv-db",
                Some(
                    r#"{"properties":{"connector.class":"io.debezium.connector.mysql.MySqlConnector","name":"inv-db","tasks.max":"2"}}"#,
                ),
            ),
            (
                "task-inv-db-0",
                Some(r#"{"properties":{"task.class":"T","n":"0"}}"#),
            ),
            (
                "task-inv-db-1",
                Some(r#"{"properties":{"task.class":"T","n":"1"}}"#),
            ),
            ("commit-inv-db", Some(r#"{"tasks":2}"#)),
            (
                "session-key",
                Some(
                    r#"{"key":"MDEyMzQ1Njc4OWFiY2RlZg==","algorithm":"HmacSHA256","creation-timestamp":1700000000000}"#,
                ),
            ),
            (
                "restart-connector-inv-db",
                Some(r#"{"include-tasks":true,"only-failed":false}"#),
            ),
            ("tasks-fencing-inv-db", Some(r#"{"task-count":2}"#)),
            (
                "logger-cluster-org.apache.kafka",
                Some(r#"{"level":"DEBUG"}"#),
            ),
        ]);
        assert_eq!(state.offset(), 9);
        assert_eq!(state.connector_names().collect::<Vec<_>>(), vec!["inv-db"]);
        assert_eq!(state.connector_config("inv-db").unwrap()["tasks.max"], "2");
        assert_eq!(state.target_state("inv-db"), Some(TargetState::Stopped));
        assert_eq!(state.task_count("inv-db"), 2);
        assert_eq!(
            state.task_configs("inv-db"),
            vec![
                props(&[("task.class", "T"), ("n", "0")]),
                props(&[("task.class", "T"), ("n", "1")])
            ]
        );
        assert!(state.inconsistent().is_empty());
        assert_eq!(
            state.session_key(),
            Some(&SessionKey {
                key: b"0123456789abcdef".to_vec(),
                algorithm: "HmacSHA256".into(),
                creation_timestamp: 1_700_000_000_000
            })
        );
        assert_eq!(state.fencing_count("inv-db"), Some(2));
        assert_eq!(state.logger_levels()["org.apache.kafka"], "DEBUG");
        assert_eq!(
            updates,
            ConfigUpdates {
                connectors: ["inv-db".to_owned()].into(),
                tasks: ["inv-db".to_owned()].into(),
                target_states: ["inv-db".to_owned()].into(),
                restarts: vec![RestartRequest {
                    connector: "inv-db".into(),
                    include_tasks: true,
                    only_failed: false
                }],
                session_key: true,
            }
        );
    }

    /// Records, expected task count, expected committed task numbers, inconsistent?
    type CommitCase<'a> = (&'a [(&'a str, Option<&'a str>)], u32, &'a [u32], bool);

    #[test]
    fn task_configs_apply_only_at_a_matching_commit() {
        // (records, expected task count, expected committed task numbers, inconsistent?)
        let cases: &[CommitCase<'_>] = &[
            // Buffered, not committed.
            (
                &[
                    ("connector-a", Some(r#"{"properties":{}}"#)),
                    ("task-a-0", Some(r#"{"properties":{"x":"0"}}"#)),
                ],
                0,
                &[],
                false,
            ),
            // Commit count larger than what was read (compaction removed task-a-1).
            (
                &[
                    ("connector-a", Some(r#"{"properties":{}}"#)),
                    ("task-a-0", Some(r#"{"properties":{"x":"0"}}"#)),
                    ("commit-a", Some(r#"{"tasks":2}"#)),
                ],
                2,
                &[],
                true,
            ),
            // Later complete commit heals the inconsistency and shrinks to 1 task.
            (
                &[
                    ("connector-a", Some(r#"{"properties":{}}"#)),
                    ("task-a-0", Some(r#"{"properties":{"x":"0"}}"#)),
                    ("task-a-1", Some(r#"{"properties":{"x":"1"}}"#)),
                    ("commit-a", Some(r#"{"tasks":2}"#)),
                    ("task-a-0", Some(r#"{"properties":{"x":"0b"}}"#)),
                    ("commit-a", Some(r#"{"tasks":1}"#)),
                ],
                1,
                &[0],
                false,
            ),
            // STOP: empty task set.
            (
                &[
                    ("connector-a", Some(r#"{"properties":{}}"#)),
                    ("task-a-0", Some(r#"{"properties":{"x":"0"}}"#)),
                    ("commit-a", Some(r#"{"tasks":1}"#)),
                    ("commit-a", Some(r#"{"tasks":0}"#)),
                ],
                0,
                &[],
                false,
            ),
        ];
        for (records, count, committed, inconsistent) in cases {
            let (state, _) = read(records);
            assert_eq!(state.task_count("a"), *count, "{records:?}");
            let have: Vec<u32> = (0..*count)
                .filter(|t| state.task_config(&task("a", *t)).is_some())
                .collect();
            assert_eq!(have, *committed, "{records:?}");
            assert_eq!(
                state.inconsistent().contains("a"),
                *inconsistent,
                "{records:?}"
            );
        }
        let (state, _) = read(cases[2].0);
        assert_eq!(state.task_config(&task("a", 0)).unwrap()["x"], "0b");
    }

    #[test]
    fn task_keys_split_on_the_last_dash_and_tombstones_delete() {
        let (state, _) = read(&[
            (
                "connector-my-db-src",
                Some(r#"{"properties":{"name":"my-db-src"}}"#),
            ),
            ("task-my-db-src-10", Some(r#"{"properties":{}}"#)),
            ("target-state-my-db-src", Some(r#"{"state":"PAUSED"}"#)),
        ]);
        assert_eq!(state.target_state("my-db-src"), Some(TargetState::Paused));
        assert_eq!(
            state.deferred["my-db-src"].keys().collect::<Vec<_>>(),
            vec![&10]
        );

        let (state, _) = read(&[
            ("connector-c", Some(r#"{"properties":{}}"#)),
            (
                "target-state-c",
                Some(r#"{"state":"PAUSED","state.v2":"PAUSED"}"#),
            ),
            ("target-state-c", None),
        ]);
        assert_eq!(
            state.target_state("c"),
            Some(TargetState::Started),
            "tombstone = STARTED"
        );

        let (state, _) = read(&[
            ("connector-c", Some(r#"{"properties":{}}"#)),
            ("task-c-0", Some(r#"{"properties":{}}"#)),
            ("commit-c", Some(r#"{"tasks":1}"#)),
            ("connector-c", None),
            ("target-state-c", None),
        ]);
        assert_eq!(state.target_state("c"), None);
        assert_eq!(state.connector_names().count(), 0);
        assert_eq!(state.task_count("c"), 0);
        assert_eq!(state.offset(), 5);
    }

    #[test]
    fn unusable_records_are_skipped_with_their_key() {
        let mut state = ClusterConfigState::default();
        let mut updates = ConfigUpdates::default();
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("surprise", Some("{}"), "unknown key"),
            (
                "task-nodash",
                Some(r#"{"properties":{}}"#),
                "is not task-<connector>-<n>",
            ),
            (
                "commit-a",
                Some(r#"{"tasks":"x"}"#),
                "`tasks` is missing or not a task count",
            ),
            (
                "target-state-a",
                Some(r#"{"state":"RUNNING"}"#),
                "unknown target state \"RUNNING\"",
            ),
            (
                "connector-a",
                Some("[1]"),
                "value is not a JSON object: [1]",
            ),
        ];
        for (i, (key, value, problem)) in cases.iter().enumerate() {
            let err = state
                .apply(i as i64, key, value.map(str::as_bytes), &mut updates)
                .unwrap_err();
            assert_eq!(err.problem, *problem, "{key}");
            assert_eq!(err.key, *key);
        }
        assert_eq!(
            state.offset(),
            cases.len() as i64,
            "skipped records still advance the offset"
        );
    }
}
