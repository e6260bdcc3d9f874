//! Distributed mode end to end: two `ferry distributed` workers sharing a group and internal
//! topics. A connector created through one worker is listed and its status visible on the
//! other, its records arrive, and after a SIGKILL of the worker running its task the other
//! worker takes the task over and the rest of the file arrives with no line lost (duplicates
//! allowed: offsets committed after the last flush are replayed). Also: lifecycle calls through
//! the worker not running the connector, a clean leave, sink tasks spread one per worker,
//! Ferry's automatic restart of a failed task, and a source with its own offsets topic
//! (KIP-618). Three- and four-worker clusters are in `distributed_cluster.rs`.
//!
//! Skipped when `FERRY_TEST_BOOTSTRAP` is unset, or when the `ferry` binary under test was built
//! without the `distributed` command.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ferry_integration::distributed::{
    assert_delivered, create_file_source, distributed_broker, numbered, wait_connector_state,
    ClusterProps, Worker, FAILOVER_TIMEOUT,
};
use ferry_integration::{
    append_lines, unique_name, wait_until_ok, write_lines, RestClient, TestBroker, DEFAULT_TIMEOUT,
};
use serde_json::json;

/// Waits until `rest` reports the connector and task 0 RUNNING; returns the task's worker id.
fn wait_running(rest: &RestClient, name: &str, timeout: Duration, on: Option<&str>) -> String {
    wait_connector_state(rest, name, "RUNNING", timeout, on)
}

#[test]
fn connector_created_on_one_worker_fails_over_to_the_other_without_losing_lines() {
    let Some(broker) = distributed_broker(
        "connector_created_on_one_worker_fails_over_to_the_other_without_losing_lines",
    ) else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-basic");
    let mut workers = [Worker::start(&cluster), Worker::start(&cluster)];
    let started = Instant::now();
    for w in &workers {
        w.wait_ready();
    }
    eprintln!("both workers ready after {:?}", started.elapsed());

    let input = workers[0].dir().join("in.txt");
    let first = numbered(0..100);
    write_lines(&input, &first);
    let name = &unique_name("dist-source");
    let created = Instant::now();
    let topic = create_file_source(&broker, workers[0].rest(), name, &input);

    // Worker 2 lists it and sees its status from the status topic; creating it again there is
    // Connect's 409 (whichever of the two leads, writes go through the leader).
    let (code, body) = workers[1].rest().post(
        "/connectors",
        &json!({"name": name, "config": {"connector.class": "FileStreamSource", "topic": "x"}}),
    );
    assert_eq!(
        (code, body["message"].clone()),
        (409, json!(format!("Connector {name} already exists")))
    );
    let (code, list) = workers[1].rest().get("/connectors");
    assert_eq!((code, list), (200, json!([name])));
    let owner = wait_running(workers[1].rest(), name, DEFAULT_TIMEOUT, None);
    eprintln!(
        "connector and task RUNNING on {owner} after {:?}",
        created.elapsed()
    );
    let (_, on_first) = workers[0].rest().get(&format!("/connectors/{name}/status"));
    let (_, on_second) = workers[1].rest().get(&format!("/connectors/{name}/status"));
    assert_eq!(on_first, on_second, "both workers answer the same status");
    let (_, tasks) = workers[1].rest().get(&format!("/connectors/{name}/tasks"));
    assert_eq!(tasks[0]["id"], json!({"connector": name, "task": 0}));
    assert_eq!(
        tasks[0]["config"]["task.class"],
        "org.apache.kafka.connect.file.FileStreamSourceTask"
    );

    let got: Vec<String> = broker
        .wait_for_records(&topic, 100, DEFAULT_TIMEOUT)
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap_or_default()).unwrap())
        .collect();
    assert_eq!(got, first);

    // SIGKILL the worker running the task; the survivor takes it over.
    let victim = workers
        .iter()
        .position(|w| w.id() == owner)
        .unwrap_or_else(|| panic!("task runs on {owner}, not one of our workers"));
    let survivor = 1 - victim;
    workers[victim].kill9();
    let killed = Instant::now();
    let second = numbered(100..200);
    append_lines(&input, &second);
    let survivor_id = workers[survivor].id().to_owned();
    wait_running(
        workers[survivor].rest(),
        name,
        FAILOVER_TIMEOUT,
        Some(&survivor_id),
    );
    eprintln!(
        "task RUNNING on the survivor {:?} after the kill",
        killed.elapsed()
    );

    assert_delivered(&broker, &topic, &numbered(0..200));
    eprintln!("all lines delivered {:?} after the kill", killed.elapsed());
}

#[test]
fn pause_stop_resume_and_delete_through_the_other_worker_and_a_clean_leave_hands_work_over() {
    let Some(broker) = distributed_broker(
        "pause_stop_resume_and_delete_through_the_other_worker_and_a_clean_leave_hands_work_over",
    ) else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-life");
    let mut workers = [Worker::start(&cluster), Worker::start(&cluster)];
    for w in &workers {
        w.wait_ready();
    }
    let input = workers[0].dir().join("in.txt");
    write_lines(&input, &numbered(0..50));
    let name = &unique_name("dist-life-source");
    let topic = create_file_source(&broker, workers[0].rest(), name, &input);
    let owner = wait_running(workers[1].rest(), name, DEFAULT_TIMEOUT, None);

    // Pause and resume through worker 2; both workers see the states.
    let (code, _) = workers[1]
        .rest()
        .put_empty(&format!("/connectors/{name}/pause"));
    assert_eq!(code, 202);
    wait_connector_state(
        workers[0].rest(),
        name,
        "PAUSED",
        DEFAULT_TIMEOUT,
        Some(&owner),
    );
    let (code, _) = workers[1]
        .rest()
        .put_empty(&format!("/connectors/{name}/resume"));
    assert_eq!(code, 202);
    wait_running(workers[0].rest(), name, DEFAULT_TIMEOUT, Some(&owner));
    assert_delivered(&broker, &topic, &numbered(0..50));

    // A task restart sent to the worker not running the task reaches its owner.
    let other = workers
        .iter()
        .find(|w| w.id() != owner)
        .expect("two workers");
    let (code, body) = other
        .rest()
        .post(&format!("/connectors/{name}/tasks/0/restart"), &json!({}));
    assert_eq!(code, 204, "restart through {}: {body}", other.id());
    wait_running(workers[0].rest(), name, DEFAULT_TIMEOUT, Some(&owner));

    // Stop (no tasks at all) and resume through worker 2; lines written meanwhile arrive after.
    let (code, _) = workers[1]
        .rest()
        .put_empty(&format!("/connectors/{name}/stop"));
    assert_eq!(code, 204);
    wait_until_ok(DEFAULT_TIMEOUT, "STOPPED with no tasks", || {
        let (_, status) = workers[0].rest().get(&format!("/connectors/{name}/status"));
        let (_, tasks) = workers[0].rest().get(&format!("/connectors/{name}/tasks"));
        let stopped = status["connector"]["state"] == "STOPPED"
            && status["tasks"] == json!([])
            && tasks == json!([]);
        stopped.then_some(()).ok_or(format!("{status} {tasks}"))
    });
    append_lines(&input, &numbered(50..60));
    let (code, _) = workers[1]
        .rest()
        .put_empty(&format!("/connectors/{name}/resume"));
    assert_eq!(code, 202);
    let owner = wait_running(workers[0].rest(), name, DEFAULT_TIMEOUT, None);
    assert_delivered(&broker, &topic, &numbered(0..60));

    // SIGTERM of the owner: it leaves the group, so the other worker takes over at once
    // (no session timeout) and resumes from the committed offsets.
    let victim = workers.iter().position(|w| w.id() == owner).expect("owner");
    let survivor = 1 - victim;
    let left = Instant::now();
    workers[victim].terminate();
    append_lines(&input, &numbered(60..100));
    let survivor_id = workers[survivor].id().to_owned();
    wait_running(
        workers[survivor].rest(),
        name,
        DEFAULT_TIMEOUT,
        Some(&survivor_id),
    );
    eprintln!(
        "task RUNNING on the survivor {:?} after SIGTERM",
        left.elapsed()
    );
    assert_delivered(&broker, &topic, &numbered(0..100));

    // Delete through the survivor: gone, status included.
    let rest = workers[survivor].rest();
    let (code, _) = rest.delete(&format!("/connectors/{name}"));
    assert_eq!(code, 204);
    assert_eq!(rest.get("/connectors"), (200, json!([])));
    let (code, _) = rest.get(&format!("/connectors/{name}/status"));
    assert_eq!(code, 404);
}

#[test]
fn sink_tasks_are_spread_over_the_workers_and_each_commits_its_partition() {
    let Some(broker) =
        distributed_broker("sink_tasks_are_spread_over_the_workers_and_each_commits_its_partition")
    else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-sink");
    let workers = [Worker::start(&cluster), Worker::start(&cluster)];
    for w in &workers {
        w.wait_ready();
    }
    let topic = unique_name("dist-sink-in");
    broker.create_topic(&topic, 2);
    for partition in 0..2 {
        broker.produce(
            &topic,
            (0..10).map(|i| {
                ferry_integration::Record::value(format!("p{partition}-{i}"))
                    .with_partition(partition)
            }),
        );
    }
    let name = &unique_name("dist-sink");
    let (code, body) = workers[0].rest().post(
        "/connectors",
        &json!({"name": name, "config": {
            "connector.class": "FileStreamSink",
            "file": workers[0].dir().join("out.txt").display().to_string(),
            "topics": topic,
            "tasks.max": "2",
        }}),
    );
    assert_eq!(code, 201, "create: {body}");

    // One task per worker: connectors and tasks are balanced separately.
    let owners = wait_until_ok(DEFAULT_TIMEOUT, "two RUNNING sink tasks", || {
        let (_, status) = workers[1].rest().get(&format!("/connectors/{name}/status"));
        let tasks = status["tasks"].as_array().cloned().unwrap_or_default();
        let running: BTreeSet<String> = tasks
            .iter()
            .filter(|t| t["state"] == "RUNNING")
            .map(|t| t["worker_id"].as_str().unwrap_or_default().to_owned())
            .collect();
        (tasks.len() == 2 && running.len() == 2)
            .then_some(running)
            .ok_or(status.to_string())
    });
    let ids: BTreeSet<String> = workers.iter().map(|w| w.id().to_owned()).collect();
    assert_eq!(owners, ids);

    // Both partitions' records are consumed and committed (by the task owning each).
    let expected = json!({"offsets": [
        {"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 10}},
        {"partition": {"kafka_topic": topic, "kafka_partition": 1}, "offset": {"kafka_offset": 10}},
    ]});
    wait_until_ok(DEFAULT_TIMEOUT, "both partitions committed", || {
        let (_, offsets) = workers[0]
            .rest()
            .get(&format!("/connectors/{name}/offsets"));
        let mut got = offsets.clone();
        if let Some(list) = got["offsets"].as_array_mut() {
            list.sort_by_key(|o| o["partition"]["kafka_partition"].as_i64());
        }
        (got == expected).then_some(()).ok_or(offsets.to_string())
    });
}

/// Ferry's `ferry.auto.restart.*` in distributed mode: a sink task that fails (its output
/// directory does not exist) is restarted in place by the worker running it, with the pending
/// restart in its FAILED trace, until it runs; then the records arrive and the restarts are
/// counted on `/metrics`.
#[test]
fn a_failed_task_is_restarted_automatically_where_it_runs() {
    let Some(broker) = distributed_broker("a_failed_task_is_restarted_automatically_where_it_runs")
    else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-auto").with("ferry.auto.restart.enable", "true");
    let workers = cluster.start_workers(2);
    let topic = unique_name("dist-auto-in");
    broker.create_topic(&topic, 1);
    broker.produce_values(&topic, &numbered(0..20));
    let missing = workers[0].dir().join("not-yet");
    let output = missing.join("out.txt");
    let name = &unique_name("dist-auto-sink");
    let (code, body) = workers[0].rest().post(
        "/connectors",
        &json!({"name": name, "config": {
            "connector.class": "FileStreamSink",
            "file": output.display().to_string(),
            "topics": topic,
            "ferry.auto.restart.initial.delay.ms": "300",
            "ferry.auto.restart.max.delay.ms": "300",
        }}),
    );
    assert_eq!(code, 201, "create: {body}");
    let owner = wait_until_ok(
        DEFAULT_TIMEOUT,
        "a FAILED task with a pending restart",
        || {
            let (_, status) = workers[1].rest().get(&format!("/connectors/{name}/status"));
            let task = &status["tasks"][0];
            let trace = task["trace"].as_str().unwrap_or_default();
            (task["state"] == "FAILED" && trace.contains("Ferry: automatic restart #"))
                .then(|| task["worker_id"].as_str().unwrap_or_default().to_owned())
                .ok_or(status.to_string())
        },
    );
    std::fs::create_dir(&missing).expect("create the output dir");
    wait_running(workers[1].rest(), name, DEFAULT_TIMEOUT, Some(&owner));
    wait_until_ok(DEFAULT_TIMEOUT, "every record in the file", || {
        let lines = ferry_integration::read_lines(&output);
        (lines == numbered(0..20))
            .then_some(())
            .ok_or(format!("{lines:?}"))
    });
    let w = workers.iter().find(|w| w.id() == owner).expect("owner");
    let restarts = w.metrics("ferry_task_auto_restarts_total{");
    let starts = w.task_starts()[&(name.clone(), 0)];
    let restarted = restarts
        .iter()
        .find(|(k, _)| k.contains(name.as_str()))
        .map(|(_, v)| *v as u64)
        .expect("the task's restart counter");
    assert!(restarted >= 1, "restarts {restarts:?}");
    assert_eq!(
        starts,
        restarted + 1,
        "one start plus one per automatic restart"
    );
}

/// The last value stored under `key` in an offsets topic (None when absent).
fn last_offset(broker: &TestBroker, topic: &str, key: &str) -> Option<String> {
    broker
        .consume_all(topic, DEFAULT_TIMEOUT)
        .into_iter()
        .rfind(|r| r.key.as_deref() == Some(key.as_bytes()))
        .map(|r| String::from_utf8(r.value.unwrap_or_default()).expect("UTF-8 offset"))
}

/// KIP-618 per-connector offsets topic (`offsets.storage.topic`): a source connector's offsets
/// land in its own topic (created on demand) and in the worker's, are read back through the
/// other worker, and an offsets PATCH through the other worker is what the resumed task
/// starts from.
#[test]
fn a_source_with_its_own_offsets_topic_commits_reads_and_alters_offsets_there() {
    let Some(broker) = distributed_broker(
        "a_source_with_its_own_offsets_topic_commits_reads_and_alters_offsets_there",
    ) else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-own-offsets");
    let workers = cluster.start_workers(2);
    let input = workers[0].dir().join("in.txt");
    write_lines(&input, &numbered(0..50));
    let name = &unique_name("dist-own-offsets");
    let topic = unique_name("dist-own-offsets-out");
    let offsets_topic = unique_name("dist-own-offsets-topic");
    broker.create_topic(&topic, 1);
    let (code, body) = workers[0].rest().post(
        "/connectors",
        &json!({"name": name, "config": {
            "connector.class": "FileStreamSource",
            "file": input.display().to_string(),
            "topic": topic,
            "offsets.storage.topic": offsets_topic,
        }}),
    );
    assert_eq!(code, 201, "create: {body}");
    assert_delivered(&broker, &topic, &numbered(0..50));

    // Each line is 10 bytes: after 50 lines the position is 500, in both topics.
    let key = format!(r#"["{name}",{{"filename":"{}"}}]"#, input.display());
    for t in [&offsets_topic, &format!("{}-offsets", cluster.group())] {
        wait_until_ok(DEFAULT_TIMEOUT, &format!("the offset in {t}"), || {
            let last = last_offset(&broker, t, &key);
            (last.as_deref() == Some(r#"{"position":500}"#))
                .then_some(())
                .ok_or(format!("{last:?}"))
        });
    }
    let partition = json!({"filename": input.display().to_string()});
    let (code, offsets) = workers[1]
        .rest()
        .get(&format!("/connectors/{name}/offsets"));
    assert_eq!(
        (code, offsets),
        (
            200,
            json!({"offsets": [{"partition": partition, "offset": {"position": 500}}]})
        )
    );

    // Stop, move the offset back to line 25 through the other worker, resume: lines 25..50
    // are read again from there.
    let (code, _) = workers[1]
        .rest()
        .put_empty(&format!("/connectors/{name}/stop"));
    assert_eq!(code, 204);
    wait_connector_stopped(workers[1].rest(), name);
    let (code, body) = workers[1]
        .rest()
        .request(
            "PATCH",
            &format!("/connectors/{name}/offsets"),
            Some(&json!({"offsets": [{"partition": partition, "offset": {"position": 250}}]})),
        )
        .expect("PATCH offsets");
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        last_offset(&broker, &offsets_topic, &key).as_deref(),
        Some(r#"{"position":250}"#)
    );
    let (code, _) = workers[1]
        .rest()
        .put_empty(&format!("/connectors/{name}/resume"));
    assert_eq!(code, 202);
    let mut expected = numbered(0..50);
    expected.extend(numbered(25..50));
    wait_until_ok(DEFAULT_TIMEOUT, "lines 25..50 read again", || {
        let values = ferry_integration::distributed::topic_values(&broker, &topic);
        (values == expected)
            .then_some(())
            .ok_or(format!("{} values", values.len()))
    });
}

/// Waits until `rest` reports the connector STOPPED with no tasks.
fn wait_connector_stopped(rest: &RestClient, name: &str) {
    wait_until_ok(DEFAULT_TIMEOUT, "STOPPED with no tasks", || {
        let (_, status) = rest.get(&format!("/connectors/{name}/status"));
        (status["connector"]["state"] == "STOPPED" && status["tasks"] == json!([]))
            .then_some(())
            .ok_or(status.to_string())
    });
}

/// POSTs task configs to the internal endpoint with the given signature headers.
fn post_task_configs(
    worker: &Worker,
    name: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let url = format!("{}/connectors/{name}/tasks", worker.rest().base_url());
    let mut request = ureq::post(&url).set("Content-Type", "application/json");
    for (h, v) in headers {
        request = request.set(h, v);
    }
    match request.send_string(body) {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("POST {url}: {e}"),
    }
}

/// `connect.protocol=sessioned` (the default): the leader publishes a session key on the config
/// topic in Connect's format, and the internal task-configs endpoint takes only requests
/// signed with it — unsigned 400, another algorithm 400, a wrong signature 403, a right one 204
/// and the configs written.
#[test]
fn internal_requests_must_be_signed_with_the_session_key() {
    use base64::Engine;
    use hmac::{KeyInit, Mac};

    let Some(broker) = distributed_broker("internal_requests_must_be_signed_with_the_session_key")
    else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-signed");
    let workers = cluster.start_workers(1);
    let worker = &workers[0];
    let name = &unique_name("signed");
    let input = worker.dir().join("in.txt");
    write_lines(&input, &numbered(0..3));
    create_file_source(&broker, worker.rest(), name, &input);
    wait_running(worker.rest(), name, DEFAULT_TIMEOUT, None);

    // The key record, as Connect writes it.
    let configs_topic = format!("{}-configs", cluster.group());
    let record = wait_until_ok(DEFAULT_TIMEOUT, "a session-key record", || {
        broker
            .consume_all(&configs_topic, DEFAULT_TIMEOUT)
            .into_iter()
            .rfind(|r| r.key.as_deref() == Some(b"session-key".as_slice()))
            .ok_or("none yet")
    });
    let raw = String::from_utf8(record.value.expect("a key, not a tombstone")).unwrap();
    // Connect's field order: {"key":…,"algorithm":…,"creation-timestamp":…}.
    assert!(raw.starts_with(r#"{"key":""#), "{raw}");
    assert!(
        raw.contains(r#""algorithm":"HmacSHA256","creation-timestamp":"#),
        "{raw}"
    );
    let value: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert!(
        value["creation-timestamp"].as_i64().unwrap() > 1_700_000_000_000,
        "{value}"
    );
    let key = base64::engine::general_purpose::STANDARD
        .decode(value["key"].as_str().unwrap())
        .unwrap();
    assert_eq!(key.len(), 32, "a 256-bit key");

    let (_, tasks) = worker.rest().get(&format!("/connectors/{name}/tasks"));
    let mut config = tasks[0]["config"].clone();
    config["ferry.test.marker"] = json!("signed");
    let body = json!([config]).to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(body.as_bytes());
    let good = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let sig = "X-Connect-Authorization";
    let alg = "X-Connect-Request-Signature-Algorithm";

    let (code, answer) = post_task_configs(worker, name, &body, &[]);
    assert_eq!(code, 400, "{answer}");
    assert!(
        answer.contains("Internal request missing required signature"),
        "{answer}"
    );
    let (code, answer) = post_task_configs(worker, name, &body, &[(sig, &good), (alg, "HmacMD5")]);
    assert_eq!(code, 400, "{answer}");
    assert!(
        answer.contains("'HmacMD5' key signing algorithm"),
        "{answer}"
    );
    let tampered = body.replace("signed", "forged");
    let (code, answer) = post_task_configs(
        worker,
        name,
        &tampered,
        &[(sig, &good), (alg, "HmacSHA256")],
    );
    assert_eq!(code, 403, "{answer}");
    assert!(
        answer.contains("Internal request contained invalid signature."),
        "{answer}"
    );
    let (_, unchanged) = worker.rest().get(&format!("/connectors/{name}/tasks"));
    assert_eq!(unchanged, tasks, "refused requests write nothing");

    let (code, answer) =
        post_task_configs(worker, name, &body, &[(sig, &good), (alg, "HmacSHA256")]);
    assert_eq!(code, 204, "{answer}");
    wait_until_ok(DEFAULT_TIMEOUT, "the signed task config written", || {
        let (_, tasks) = worker.rest().get(&format!("/connectors/{name}/tasks"));
        (tasks[0]["config"]["ferry.test.marker"] == "signed")
            .then_some(())
            .ok_or(tasks.to_string())
    });
}
