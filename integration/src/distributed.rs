//! `ferry distributed` workers under test: a cluster's shared settings ([`ClusterProps`]), one
//! worker process ([`Worker`]) with its REST client, kill -9 / SIGTERM and its `/metrics`
//! figures, and the waits and data checks the distributed tests share.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use tempfile::TempDir;

use crate::broker::TestBroker;
use crate::ferry::ferry_bin;
use crate::names::{free_port, unique_name};
use crate::rest::RestClient;
use crate::wait::{wait_until_ok, DEFAULT_TIMEOUT};

const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";

/// Failover waits for the coordinator to drop a killed member (session timeout, 6 s here),
/// one or two rounds and the tasks' start.
pub const FAILOVER_TIMEOUT: Duration = Duration::from_secs(60);

/// The broker, or None (with a message) when distributed tests cannot run here: no
/// `FERRY_TEST_BOOTSTRAP`, or a `ferry` binary without the `distributed` command.
pub fn distributed_broker(test: &str) -> Option<TestBroker> {
    let Ok(bootstrap) = std::env::var("FERRY_TEST_BOOTSTRAP") else {
        eprintln!("SKIPPED {test}: FERRY_TEST_BOOTSTRAP is not set");
        return None;
    };
    let probe = Command::new(ferry_bin())
        .arg("distributed")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", ferry_bin().display()));
    if String::from_utf8_lossy(&probe.stderr).contains("not available in this build") {
        eprintln!("SKIPPED {test}: this ferry binary has no `distributed` command yet");
        return None;
    }
    Some(TestBroker::new(bootstrap.trim()))
}

/// The settings every worker of one cluster shares: one group, three internal topics, quick
/// failure detection (6 s sessions, the workers' and their sink consumers') and, unless
/// changed, no held work
/// (`scheduled.rebalance.max.delay.ms=0`).
#[derive(Debug, Clone)]
pub struct ClusterProps(Vec<(String, String)>);

impl ClusterProps {
    /// The `group.id` (the internal topics are `{group}-configs`, `-offsets`, `-status`).
    pub fn group(&self) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == "group.id")
            .map_or("", |(_, v)| v.as_str())
    }

    /// A new cluster (unique group and topics) on `broker`.
    pub fn new(broker: &TestBroker, prefix: &str) -> Self {
        let group = unique_name(prefix);
        let props = [
            ("bootstrap.servers", broker.bootstrap().to_owned()),
            ("group.id", group.clone()),
            ("config.storage.topic", format!("{group}-configs")),
            ("offset.storage.topic", format!("{group}-offsets")),
            ("status.storage.topic", format!("{group}-status")),
            ("config.storage.replication.factor", "1".into()),
            ("offset.storage.replication.factor", "1".into()),
            ("status.storage.replication.factor", "1".into()),
            ("offset.storage.partitions", "3".into()),
            ("status.storage.partitions", "2".into()),
            ("key.converter", STRING_CONVERTER.into()),
            ("value.converter", STRING_CONVERTER.into()),
            ("offset.flush.interval.ms", "200".into()),
            ("scheduled.rebalance.max.delay.ms", "0".into()),
            ("session.timeout.ms", "6000".into()),
            ("heartbeat.interval.ms", "1000".into()),
            // A killed worker's sink consumers stay in their group until their own session
            // times out (45 s by default), and the group cannot rebalance before that.
            ("consumer.session.timeout.ms", "6000".into()),
            ("consumer.heartbeat.interval.ms", "1000".into()),
        ];
        ClusterProps(props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// Sets (or replaces) one worker setting.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_owned(), value.into()));
        self
    }

    /// Starts `n` workers and waits until each answers `/health` (joined the group once).
    pub fn start_workers(&self, n: usize) -> Vec<Worker> {
        let workers: Vec<Worker> = (0..n).map(|_| Worker::start(self)).collect();
        for w in &workers {
            w.wait_ready();
        }
        workers
    }
}

/// One `ferry distributed` process in its own temp dir; killed when dropped.
#[derive(Debug)]
pub struct Worker {
    dir: TempDir,
    rest: RestClient,
    id: String,
    child: Option<Child>,
}

impl Worker {
    /// Spawns a worker of the cluster on a free REST port (does not wait for it).
    pub fn start(cluster: &ClusterProps) -> Worker {
        // FERRY_KEEP_STATE=1 keeps the dir (and its ferry.log) after the test.
        let keep = std::env::var_os("FERRY_KEEP_STATE").is_some_and(|v| v == "1");
        let dir = tempfile::Builder::new()
            .prefix("ferry-dist-")
            .disable_cleanup(keep)
            .tempdir()
            .expect("temp dir");
        if keep {
            eprintln!("worker dir {}", dir.path().display());
        }
        let port = free_port();
        let mut text = String::new();
        for (k, v) in &cluster.0 {
            text.push_str(&format!("{k}={v}\n"));
        }
        text.push_str(&format!("listeners=http://127.0.0.1:{port}\n"));
        let file = dir.path().join("worker.properties");
        fs::write(&file, text).expect("write worker.properties");
        let log = fs::File::create(dir.path().join("ferry.log")).expect("ferry.log");
        let child = Command::new(ferry_bin())
            .arg("distributed")
            .arg(&file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", ferry_bin().display()));
        Worker {
            dir,
            rest: RestClient::new(format!("http://127.0.0.1:{port}")),
            id: format!("127.0.0.1:{port}"),
            child: Some(child),
        }
    }

    /// The worker id (`host:port`), as statuses name it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its REST client.
    pub fn rest(&self) -> &RestClient {
        &self.rest
    }

    /// Its temp dir (worker.properties, ferry.log; tests may put files here).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// True until killed or terminated.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Polls `GET /health` until 200 (the worker completed its first group round); panics
    /// with the log if the process exited (another process answering on its port must not
    /// pass for it).
    pub fn wait_ready(&self) {
        wait_until_ok(
            DEFAULT_TIMEOUT,
            &format!("worker {} ready", self.id),
            || {
                if self.child.as_ref().is_some_and(|c| has_exited(c.id())) {
                    panic!("worker {} exited; log:\n{}", self.id, self.log());
                }
                match self.rest.request("GET", "/health", None) {
                    Ok((200, _)) => Ok(()),
                    other => Err(format!("{other:?}; log:\n{}", self.log())),
                }
            },
        );
    }

    /// Everything the process wrote.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("ferry.log")).unwrap_or_default()
    }

    /// SIGKILL: a crash, no offsets flushed, no LeaveGroup.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            child.wait().expect("reap killed ferry");
        }
    }

    /// SIGTERM, then waits for a clean exit (the worker stops its tasks and leaves the group).
    pub fn terminate(&mut self) {
        let mut child = self.child.take().expect("worker is running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(sent.success(), "kill -TERM failed");
        let status = wait_until_ok(DEFAULT_TIMEOUT, "the worker to exit after SIGTERM", || {
            child.try_wait().expect("wait for ferry").ok_or("running")
        });
        assert!(status.success(), "exit {status}; log:\n{}", self.log());
    }

    /// `GET /metrics` as (metric name with labels → value) for the samples whose name starts
    /// with `prefix`.
    pub fn metrics(&self, prefix: &str) -> BTreeMap<String, f64> {
        let (code, body) = self.rest.get("/metrics");
        assert_eq!(code, 200, "GET /metrics on {}", self.id);
        let text = body.as_str().unwrap_or_default();
        text.lines()
            .filter(|l| l.starts_with(prefix))
            .filter_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect()
    }

    /// How many times this worker started each task (`ferry_task_starts_total`), by
    /// (connector, task).
    pub fn task_starts(&self) -> BTreeMap<(String, u32), u64> {
        self.metrics("ferry_task_starts_total{")
            .into_iter()
            .filter_map(|(name, v)| {
                let labels = name.strip_prefix("ferry_task_starts_total{")?;
                let connector = labels.split("connector=\"").nth(1)?.split('"').next()?;
                let task = labels.split("task=\"").nth(1)?.split('"').next()?;
                Some(((connector.to_owned(), task.parse().ok()?), v as u64))
            })
            .collect()
    }

    /// Whether this worker leads the group's current generation (`ferry_worker_rebalance_leader`).
    pub fn is_leader(&self) -> bool {
        self.metrics("ferry_worker_rebalance_leader ")
            .values()
            .any(|v| *v == 1.0)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The index of the one worker that reports leading the group, once exactly one running
/// worker does.
pub fn wait_leader(workers: &[Worker], timeout: Duration) -> usize {
    wait_until_ok(timeout, "exactly one worker leading the group", || {
        let leaders: Vec<usize> = workers
            .iter()
            .enumerate()
            .filter(|(_, w)| w.is_running() && w.is_leader())
            .map(|(i, _)| i)
            .collect();
        match leaders[..] {
            [one] => Ok(one),
            _ => Err(format!("leaders: {leaders:?}")),
        }
    })
}

/// Waits until `rest` reports the connector and task 0 in `state` (and task 0 on `on` when
/// given); returns task 0's worker id.
pub fn wait_connector_state(
    rest: &RestClient,
    name: &str,
    state: &str,
    timeout: Duration,
    on: Option<&str>,
) -> String {
    wait_until_ok(timeout, &format!("{name} {state} (task on {on:?})"), || {
        let (code, status) = rest.get(&format!("/connectors/{name}/status"));
        let task = &status["tasks"][0];
        let ok = code == 200
            && status["connector"]["state"] == state
            && task["state"] == state
            && on.is_none_or(|w| task["worker_id"] == w);
        if ok {
            Ok(task["worker_id"].as_str().unwrap_or_default().to_owned())
        } else {
            Err(format!("{code} {status}"))
        }
    })
}

/// Where each task of every listed connector runs, once `rest` reports all of them (and the
/// connectors) RUNNING with `tasks[name]` tasks each: (connector, task) → worker id.
pub fn wait_all_running(
    rest: &RestClient,
    tasks: &BTreeMap<String, usize>,
    timeout: Duration,
) -> BTreeMap<(String, u32), String> {
    wait_until_ok(timeout, "every connector and task RUNNING", || {
        let mut placement = BTreeMap::new();
        for (name, count) in tasks {
            let (code, status) = rest.get(&format!("/connectors/{name}/status"));
            let list = status["tasks"].as_array().cloned().unwrap_or_default();
            let running = list.iter().filter(|t| t["state"] == "RUNNING").count();
            if code != 200
                || status["connector"]["state"] != "RUNNING"
                || list.len() != *count
                || running != *count
            {
                return Err(format!("{name}: {code} {status}"));
            }
            for t in list {
                let id = t["id"].as_u64().unwrap_or_default() as u32;
                let worker = t["worker_id"].as_str().unwrap_or_default().to_owned();
                placement.insert((name.clone(), id), worker);
            }
        }
        Ok(placement)
    })
}

/// `line-0000`, `line-0001`, … for the range.
pub fn numbered(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("line-{i:04}")).collect()
}

/// The topic's values as strings (every record, duplicates included).
pub fn topic_values(broker: &TestBroker, topic: &str) -> Vec<String> {
    broker
        .consume_all(topic, DEFAULT_TIMEOUT)
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap_or_default()).expect("UTF-8 value"))
        .collect()
}

/// Creates a FileStreamSource of `input` into a new one-partition topic through `rest`;
/// returns the topic.
pub fn create_file_source(
    broker: &TestBroker,
    rest: &RestClient,
    name: &str,
    input: &Path,
) -> String {
    let topic = unique_name(&format!("{name}-out"));
    broker.create_topic(&topic, 1);
    let (code, body) = rest.post(
        "/connectors",
        &json!({"name": name, "config": {
            "connector.class": "FileStreamSource",
            "file": input.display().to_string(),
            "topic": topic,
            "tasks.max": "1",
        }}),
    );
    assert_eq!(code, 201, "create {name}: {body}");
    topic
}

/// Creates a FileStreamSink of `topics` into `output` with `tasks_max` tasks through `rest`.
pub fn create_file_sink(
    rest: &RestClient,
    name: &str,
    topics: &str,
    output: &Path,
    tasks_max: usize,
) {
    let (code, body) = rest.post(
        "/connectors",
        &json!({"name": name, "config": {
            "connector.class": "FileStreamSink",
            "file": output.display().to_string(),
            "topics": topics,
            "tasks.max": tasks_max.to_string(),
        }}),
    );
    assert_eq!(code, 201, "create {name}: {body}");
}

/// Waits until the topic holds every line of `expected` and checks that, duplicates removed
/// (first occurrence kept), it holds exactly them in order. Duplicates are allowed: a crash
/// replays what was sent after the last offset commit. Returns every value read.
pub fn assert_delivered(broker: &TestBroker, topic: &str, expected: &[String]) -> Vec<String> {
    let values = wait_until_ok(FAILOVER_TIMEOUT, "every line in the topic", || {
        let values = topic_values(broker, topic);
        let seen: BTreeSet<&String> = values.iter().collect();
        match expected.iter().filter(|l| !seen.contains(l)).count() {
            0 => Ok(values),
            missing => Err(format!(
                "{topic}: {missing} lines missing, from {:?}",
                expected.iter().find(|l| !seen.contains(l))
            )),
        }
    });
    let mut seen = BTreeSet::new();
    let deduplicated: Vec<String> = values
        .iter()
        .filter(|v| seen.insert((*v).clone()))
        .cloned()
        .collect();
    assert_eq!(deduplicated, expected, "{topic}: lines, duplicates removed");
    values
}

/// Whether process `pid` (a child not reaped yet) has exited: it is a zombie or gone.
fn has_exited(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (comm) state …": the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}
