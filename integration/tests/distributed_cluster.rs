//! Distributed mode with three (and four) `ferry distributed` workers in one cluster, on the
//! real broker: work spreads over every worker; writes through a worker that does not lead
//! are served (forwarded to the leader) and visible through every worker; a connector owned by
//! a worker that does not lead gets its tasks (task configs go through the leader); kill -9 of
//! a worker loses no line of a running file → Kafka pipeline; a joining worker takes tasks
//! without the tasks that stay being restarted (per-task start counts on `/metrics`); a killed
//! leader is replaced and writes keep working; a whole cluster restarted on the same topics
//! resumes from the stored offsets; a lost worker's task is held for
//! `scheduled.rebalance.max.delay.ms` and then given to a replacement.
//!
//! Skipped when `FERRY_TEST_BOOTSTRAP` is unset, or when the `ferry` binary under test was built
//! without the `distributed` command.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ferry_integration::distributed::{
    assert_delivered, create_file_sink, create_file_source, distributed_broker, numbered,
    wait_all_running, wait_leader, ClusterProps, Worker, FAILOVER_TIMEOUT,
};
use ferry_integration::{
    append_lines, read_lines, unique_name, wait_until_ok, write_lines, Record, RestClient,
    TestBroker, DEFAULT_TIMEOUT,
};
use serde_json::json;

/// One sink connector under test: its input topic (one partition per task) and output file.
struct Sink {
    name: String,
    topic: String,
    tasks: usize,
}

impl Sink {
    /// Creates the topic with `tasks` partitions, `per_partition` records in each
    /// (`{topic}-p{p}-{i}`), and the connector through `rest`, writing to `dir/{name}.txt`.
    fn create(
        broker: &TestBroker,
        rest: &RestClient,
        dir: &Path,
        prefix: &str,
        tasks: usize,
    ) -> Sink {
        let name = unique_name(prefix);
        let topic = unique_name(&format!("{prefix}-in"));
        broker.create_topic(&topic, tasks as i32);
        let sink = Sink { name, topic, tasks };
        sink.produce(broker, 0..10);
        create_file_sink(rest, &sink.name, &sink.topic, &sink.output(dir), tasks);
        sink
    }

    fn output(&self, dir: &Path) -> std::path::PathBuf {
        dir.join(format!("{}.txt", self.name))
    }

    fn line(&self, partition: usize, i: usize) -> String {
        format!("{}-p{partition}-{i}", self.topic)
    }

    fn produce(&self, broker: &TestBroker, range: std::ops::Range<usize>) {
        let records = (0..self.tasks).flat_map(|p| {
            range
                .clone()
                .map(move |i| Record::value(self.line(p, i)).with_partition(p as i32))
        });
        broker.produce(&self.topic, records);
    }

    /// Waits until the output file holds records `0..n` of every partition, then checks that
    /// it holds nothing else and, duplicates removed, each partition's records in order
    /// (tasks append to one file concurrently, so partitions interleave).
    fn assert_output(&self, dir: &Path, n: usize) {
        let expected: Vec<Vec<String>> = (0..self.tasks)
            .map(|p| (0..n).map(|i| self.line(p, i)).collect())
            .collect();
        let lines = wait_until_ok(DEFAULT_TIMEOUT, &format!("{} output", self.name), || {
            let lines = read_lines(&self.output(dir));
            let seen: BTreeSet<&String> = lines.iter().collect();
            match expected
                .iter()
                .flatten()
                .filter(|l| !seen.contains(l))
                .count()
            {
                0 => Ok(lines),
                missing => Err(format!("{missing} lines missing")),
            }
        });
        for (p, want) in expected.iter().enumerate() {
            let prefix = format!("{}-p{p}-", self.topic);
            let mut seen = BTreeSet::new();
            let got: Vec<&String> = lines
                .iter()
                .filter(|l| l.starts_with(&prefix) && seen.insert(*l))
                .collect();
            assert_eq!(
                got,
                want.iter().collect::<Vec<_>>(),
                "{} partition {p}",
                self.name
            );
        }
        let all: BTreeSet<&String> = expected.iter().flatten().collect();
        let stray: Vec<&String> = lines.iter().filter(|l| !all.contains(l)).collect();
        assert!(
            stray.is_empty(),
            "{}: unexpected lines {stray:?}",
            self.name
        );
    }
}

/// Task counts per connector, as `wait_all_running` takes them.
fn task_counts(sinks: &[&Sink]) -> BTreeMap<String, usize> {
    sinks.iter().map(|s| (s.name.clone(), s.tasks)).collect()
}

/// How many tasks each worker runs, for every worker id given (0 for idle ones).
fn load(
    placement: &BTreeMap<(String, u32), String>,
    workers: &[&Worker],
) -> BTreeMap<String, usize> {
    let mut load: BTreeMap<String, usize> =
        workers.iter().map(|w| (w.id().to_owned(), 0)).collect();
    for worker in placement.values() {
        *load.entry(worker.clone()).or_default() += 1;
    }
    load
}

/// One file → Kafka pipeline under test: a FileStreamSource connector, its input file and the
/// topic it writes.
struct Pipe {
    name: String,
    input: PathBuf,
    topic: String,
}

/// Creates `n` pipelines `{prefix}-{i}` through `rest`, input `i` in `dir` holding `lines(i)`.
fn create_pipes(
    broker: &TestBroker,
    rest: &RestClient,
    dir: &Path,
    prefix: &str,
    n: usize,
    lines: impl Fn(usize) -> Vec<String>,
) -> Vec<Pipe> {
    (0..n)
        .map(|i| {
            let input = dir.join(format!("{prefix}-{i}.txt"));
            write_lines(&input, &lines(i));
            let name = unique_name(&format!("{prefix}-{i}"));
            let topic = create_file_source(broker, rest, &name, &input);
            Pipe { name, input, topic }
        })
        .collect()
}

/// One task per pipeline, as `wait_all_running` takes them.
fn pipe_counts(pipes: &[Pipe]) -> BTreeMap<String, usize> {
    pipes.iter().map(|p| (p.name.clone(), 1)).collect()
}

/// Waits until `rest` reports every task RUNNING and each of `workers` running exactly one;
/// returns the placement.
fn wait_one_task_per_worker(
    rest: &RestClient,
    counts: &BTreeMap<String, usize>,
    workers: &[&Worker],
    timeout: std::time::Duration,
) -> BTreeMap<(String, u32), String> {
    wait_until_ok(timeout, "one task per worker", || {
        let placement = wait_all_running(rest, counts, timeout);
        let load = load(&placement, workers);
        load.values()
            .all(|n| *n == 1)
            .then_some(placement)
            .ok_or(format!("{load:?}"))
    })
}

/// Where each connector's Connector instance runs, as `rest` reports it.
fn connector_owners(rest: &RestClient, names: &[&str]) -> BTreeMap<String, String> {
    names
        .iter()
        .map(|n| {
            let (_, status) = rest.get(&format!("/connectors/{n}/status"));
            let worker = status["connector"]["worker_id"]
                .as_str()
                .unwrap_or_default();
            ((*n).to_owned(), worker.to_owned())
        })
        .collect()
}

#[test]
fn three_workers_share_the_work_and_serve_writes_through_any_worker_even_without_the_leader() {
    let Some(broker) = distributed_broker(
        "three_workers_share_the_work_and_serve_writes_through_any_worker_even_without_the_leader",
    ) else {
        return;
    };
    let mut workers = ClusterProps::new(&broker, "dist-spread").start_workers(3);
    let leader = wait_leader(&workers, DEFAULT_TIMEOUT);
    let follower = (leader + 1) % 3;
    let out = tempfile::tempdir().expect("temp dir");

    // (a) Three sink connectors, 4 + 3 + 2 tasks, created through a worker that does not lead.
    let rest = workers[follower].rest().clone();
    let sinks = [
        Sink::create(&broker, &rest, out.path(), "spread-a", 4),
        Sink::create(&broker, &rest, out.path(), "spread-b", 3),
        Sink::create(&broker, &rest, out.path(), "spread-c", 2),
    ];
    let all: Vec<&Sink> = sinks.iter().collect();
    let names: Vec<&str> = sinks.iter().map(|s| s.name.as_str()).collect();
    let placement = wait_until_ok(DEFAULT_TIMEOUT, "9 tasks, 3 on each worker", || {
        let placement = wait_all_running(&rest, &task_counts(&all), DEFAULT_TIMEOUT);
        let load = load(&placement, &workers.iter().collect::<Vec<_>>());
        if load.values().all(|n| *n == 3) {
            Ok(placement)
        } else {
            Err(format!("{load:?}"))
        }
    });
    // One Connector instance on each worker (balanced separately from tasks).
    let owners = connector_owners(&rest, &names);
    let owner_set: BTreeSet<&String> = owners.values().collect();
    assert_eq!(owner_set.len(), 3, "connector owners {owners:?}");
    // Every worker answers the same statuses and task configs.
    for w in &workers {
        assert_eq!(
            wait_all_running(w.rest(), &task_counts(&all), DEFAULT_TIMEOUT),
            placement,
            "placement seen through {}",
            w.id()
        );
        for s in &sinks {
            let (code, tasks) = w.rest().get(&format!("/connectors/{}/tasks", s.name));
            assert_eq!(code, 200);
            let ids: Vec<_> = tasks
                .as_array()
                .expect("task list")
                .iter()
                .map(|t| t["id"].clone())
                .collect();
            let want: Vec<_> = (0..s.tasks)
                .map(|t| json!({"connector": s.name, "task": t}))
                .collect();
            assert_eq!(ids, want, "tasks of {} through {}", s.name, w.id());
            assert_eq!(tasks[0]["config"]["topics"], s.topic.as_str());
        }
    }
    // Task configs of connectors owned by workers that do not lead reached the config topic
    // (through the leader): two of the three connectors are owned by followers.
    let leader_id = workers[leader].id().to_owned();
    assert_eq!(
        owners.values().filter(|w| **w != leader_id).count(),
        2,
        "owners {owners:?}, leader {leader_id}"
    );
    for s in &sinks {
        s.assert_output(out.path(), 10);
    }

    // A follower serves a write marked as already forwarded once by sending it on; one marked
    // as forwarded twice (`forward=false`) it refuses, as Connect does (COMPAT §1.5).
    let (code, body) = rest.delete(&format!("/connectors/{}?forward=false", sinks[1].name));
    assert_eq!(
        (code, body["message"].as_str()),
        (
            409,
            Some("Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
        )
    );
    let (code, body) = rest.post(
        "/connectors?forward=true",
        &json!({"name": sinks[0].name, "config": {"connector.class": "FileStreamSink", "topics": "x"}}),
    );
    assert_eq!(
        (code, body["message"].as_str()),
        (
            409,
            Some(format!("Connector {} already exists", sinks[0].name).as_str())
        )
    );

    // (b) Update and delete through a follower; every worker sees the change.
    let [a, b, c] = &sinks;
    let shrunk = json!({
        "connector.class": "FileStreamSink",
        "file": c.output(out.path()).display().to_string(),
        "topics": c.topic,
        "tasks.max": "1",
    });
    let (code, body) = rest.put(&format!("/connectors/{}/config", c.name), &shrunk);
    assert_eq!(code, 200, "update through a follower: {body}");
    let (code, body) = rest.delete(&format!("/connectors/{}", b.name));
    assert_eq!(code, 204, "delete through a follower: {body}");
    for w in &workers {
        wait_until_ok(DEFAULT_TIMEOUT, "the update and delete everywhere", || {
            let (_, list) = w.rest().get("/connectors");
            let mut list: Vec<String> = serde_json::from_value(list).unwrap_or_default();
            list.sort();
            let mut want = vec![a.name.clone(), c.name.clone()];
            want.sort();
            let (_, tasks) = w.rest().get(&format!("/connectors/{}/tasks", c.name));
            let (gone, _) = w.rest().get(&format!("/connectors/{}/status", b.name));
            let ok = list == want
                && tasks.as_array().map(Vec::len) == Some(1)
                && tasks[0]["config"]["tasks.max"] == "1"
                && gone == 404;
            ok.then_some(())
                .ok_or(format!("{} {list:?} {tasks} {gone}", w.id()))
        });
    }
    let c1 = Sink {
        name: c.name.clone(),
        topic: c.topic.clone(),
        tasks: 1,
    };
    wait_all_running(&rest, &task_counts(&[a, &c1]), DEFAULT_TIMEOUT);

    // (e) The leader killed: the survivors elect another and writes keep working through both.
    let old_leader = workers[leader].id().to_owned();
    workers[leader].kill9();
    let killed = Instant::now();
    let new_leader = wait_leader(&workers, FAILOVER_TIMEOUT);
    assert_ne!(workers[new_leader].id(), old_leader);
    eprintln!(
        "new leader {} after {:?}",
        workers[new_leader].id(),
        killed.elapsed()
    );
    let survivors: Vec<&Worker> = workers.iter().filter(|w| w.is_running()).collect();
    let remaining = task_counts(&[a, &c1]);
    wait_until_ok(FAILOVER_TIMEOUT, "5 tasks on the survivors (3 + 2)", || {
        let placement = wait_all_running(survivors[0].rest(), &remaining, FAILOVER_TIMEOUT);
        let mut load: Vec<usize> = load(&placement, &survivors).into_values().collect();
        load.sort();
        (load == [2, 3])
            .then_some(())
            .ok_or(format!("{load:?} {placement:?}"))
    });
    eprintln!(
        "tasks balanced on the survivors after {:?}",
        killed.elapsed()
    );
    // A create through the survivor that does not lead (forwarded to the new leader), a delete
    // through the new leader; both seen through the other survivor.
    let new_leader_id = workers[new_leader].id();
    let (via_follower, via_leader) = match survivors.iter().position(|w| w.id() == new_leader_id) {
        Some(0) => (survivors[1], survivors[0]),
        _ => (survivors[0], survivors[1]),
    };
    let sink = Sink::create(&broker, via_follower.rest(), out.path(), "after", 2);
    wait_all_running(via_leader.rest(), &task_counts(&[&sink]), DEFAULT_TIMEOUT);
    sink.assert_output(out.path(), 10);
    let (code, _) = via_leader
        .rest()
        .delete(&format!("/connectors/{}", sink.name));
    assert_eq!(code, 204);
    let (code, _) = via_follower
        .rest()
        .get(&format!("/connectors/{}/status", sink.name));
    assert_eq!(code, 404);
    a.produce(&broker, 10..20);
    a.assert_output(out.path(), 20);
}

/// Three file → Kafka pipelines, one per worker: (c) kill -9 of one worker while lines keep
/// arriving: its task runs on a survivor and every line reaches its topic (duplicates only
/// from the uncommitted window, order kept); (f) the whole cluster stopped (SIGTERM) and
/// three new workers started on the same topics: connectors and tasks come back and resume
/// from the stored offsets — nothing lost, and nothing read twice (a clean stop commits).
#[test]
fn file_pipelines_survive_a_killed_worker_and_a_whole_cluster_restart() {
    let Some(broker) =
        distributed_broker("file_pipelines_survive_a_killed_worker_and_a_whole_cluster_restart")
    else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-pipe");
    let mut workers = cluster.start_workers(3);
    let files = tempfile::tempdir().expect("temp dir");
    let rest = workers[0].rest().clone();
    let pipes = create_pipes(&broker, &rest, files.path(), "pipe", 3, |_| {
        numbered(0..100)
    });
    let counts = pipe_counts(&pipes);
    let placement = wait_one_task_per_worker(
        &rest,
        &counts,
        &workers.iter().collect::<Vec<_>>(),
        DEFAULT_TIMEOUT,
    );
    for Pipe { topic, .. } in &pipes {
        assert_delivered(&broker, topic, &numbered(0..100));
    }

    // (c) kill -9 the worker running pipe 0's task, with lines still being appended.
    let victim_id = placement[&(pipes[0].name.clone(), 0)].clone();
    let victim = workers
        .iter()
        .position(|w| w.id() == victim_id)
        .expect("owner");
    for Pipe { input, .. } in &pipes {
        append_lines(input, &numbered(100..150));
    }
    workers[victim].kill9();
    let killed = Instant::now();
    for Pipe { input, .. } in &pipes {
        append_lines(input, &numbered(150..200));
    }
    let survivor = workers.iter().find(|w| w.is_running()).expect("survivors");
    wait_until_ok(FAILOVER_TIMEOUT, "pipe 0 on a survivor", || {
        let placement = wait_all_running(survivor.rest(), &counts, FAILOVER_TIMEOUT);
        let on_dead = placement.values().filter(|w| **w == victim_id).count();
        (on_dead == 0).then_some(()).ok_or(format!("{placement:?}"))
    });
    eprintln!(
        "killed worker's task RUNNING elsewhere after {:?}",
        killed.elapsed()
    );
    for Pipe { topic, .. } in &pipes {
        assert_delivered(&broker, topic, &numbered(0..200));
    }

    // (f) Stop the whole cluster cleanly; lines appended while it is down arrive after a
    // restart of three new workers on the same topics, and nothing is read twice.
    let before: Vec<usize> = pipes.iter().map(|p| topic_len(&broker, &p.topic)).collect();
    for w in workers.iter_mut().filter(|w| w.is_running()) {
        w.terminate();
    }
    for Pipe { input, .. } in &pipes {
        append_lines(input, &numbered(200..300));
    }
    let restarted = Instant::now();
    let workers = cluster.start_workers(3);
    let placement = wait_all_running(workers[2].rest(), &counts, FAILOVER_TIMEOUT);
    eprintln!(
        "cluster restarted and RUNNING after {:?}",
        restarted.elapsed()
    );
    let ids: BTreeSet<&str> = workers.iter().map(Worker::id).collect();
    assert!(
        placement.values().all(|w| ids.contains(w.as_str())),
        "tasks on the new workers: {placement:?}"
    );
    for (Pipe { topic, .. }, before) in pipes.iter().zip(before) {
        let values = assert_delivered(&broker, topic, &numbered(0..300));
        assert_eq!(
            values[before..],
            numbered(200..300)[..],
            "{topic}: after the restart, exactly the lines appended while stopped"
        );
    }
}

/// Records in a one-partition topic.
fn topic_len(broker: &TestBroker, topic: &str) -> usize {
    ferry_integration::distributed::topic_values(broker, topic).len()
}

/// (d) A fourth worker joins a cluster of three running 8 sink tasks: some tasks move to it
/// (two per worker after), and every task that stays where it was is never stopped — its
/// worker's start count for it is still 1; moved tasks start once on the new worker. The
/// records produced after the join all arrive.
#[test]
fn a_joining_worker_takes_tasks_and_the_tasks_that_stay_are_never_restarted() {
    let Some(broker) = distributed_broker(
        "a_joining_worker_takes_tasks_and_the_tasks_that_stay_are_never_restarted",
    ) else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-join");
    let mut workers = cluster.start_workers(3);
    let out = tempfile::tempdir().expect("temp dir");
    let rest = workers[0].rest().clone();
    let sinks = [
        Sink::create(&broker, &rest, out.path(), "join-a", 4),
        Sink::create(&broker, &rest, out.path(), "join-b", 4),
    ];
    let all: Vec<&Sink> = sinks.iter().collect();
    let before = wait_until_ok(DEFAULT_TIMEOUT, "8 tasks over 3 workers (3, 3, 2)", || {
        let placement = wait_all_running(&rest, &task_counts(&all), DEFAULT_TIMEOUT);
        let mut load: Vec<usize> = load(&placement, &workers.iter().collect::<Vec<_>>())
            .into_values()
            .collect();
        load.sort();
        (load == [2, 3, 3])
            .then_some(placement)
            .ok_or(format!("{load:?}"))
    });
    for s in &sinks {
        s.assert_output(out.path(), 10);
    }
    let starts_before: Vec<BTreeMap<(String, u32), u64>> =
        workers.iter().map(Worker::task_starts).collect();
    for (task, worker) in &before {
        let w = workers
            .iter()
            .position(|w| w.id() == worker)
            .expect("worker");
        assert_eq!(starts_before[w].get(task), Some(&1), "{task:?} on {worker}");
    }

    workers.push(Worker::start(&cluster));
    workers[3].wait_ready();
    let joined = Instant::now();
    let after = wait_until_ok(FAILOVER_TIMEOUT, "8 tasks over 4 workers (2 each)", || {
        let placement = wait_all_running(&rest, &task_counts(&all), DEFAULT_TIMEOUT);
        let load = load(&placement, &workers.iter().collect::<Vec<_>>());
        load.values()
            .all(|n| *n == 2)
            .then_some(placement)
            .ok_or(format!("{load:?}"))
    });
    eprintln!("rebalanced onto 4 workers after {:?}", joined.elapsed());
    let new_id = workers[3].id().to_owned();
    let moved: Vec<&(String, u32)> = after
        .iter()
        .filter(|(task, w)| before[*task] != **w)
        .map(|(task, _)| task)
        .collect();
    assert_eq!(moved.len(), 2, "moved {moved:?}");
    let starts_after: Vec<BTreeMap<(String, u32), u64>> =
        workers.iter().map(Worker::task_starts).collect();
    for (task, worker) in &after {
        let w = workers
            .iter()
            .position(|w| w.id() == worker)
            .expect("worker");
        assert_eq!(
            starts_after[w].get(task),
            Some(&1),
            "{task:?} started once on {worker} (moved: {})",
            moved.contains(&task)
        );
        if moved.contains(&task) {
            assert_eq!(*worker, new_id, "{task:?} moved to the new worker");
        }
    }
    for s in &sinks {
        s.produce(&broker, 10..20);
        s.assert_output(out.path(), 20);
    }
}

/// A lost worker's work is held for `scheduled.rebalance.max.delay.ms` (it may come back, e.g.
/// a rolling restart): once the survivors completed the round that noticed the loss, the
/// killed worker's task is still not running anywhere else; a replacement worker that joins
/// meanwhile gets it when the delay ends, the survivors' tasks are never restarted, and no
/// line is lost.
#[test]
fn a_lost_workers_task_is_held_for_the_delay_and_then_given_to_the_replacement() {
    let Some(broker) = distributed_broker(
        "a_lost_workers_task_is_held_for_the_delay_and_then_given_to_the_replacement",
    ) else {
        return;
    };
    let cluster =
        ClusterProps::new(&broker, "dist-held").with("scheduled.rebalance.max.delay.ms", "10000");
    let mut workers = cluster.start_workers(3);
    let files = tempfile::tempdir().expect("temp dir");
    let rest = workers[0].rest().clone();
    let pipes = create_pipes(&broker, &rest, files.path(), "held", 3, |_| numbered(0..50));
    let counts = pipe_counts(&pipes);
    let before = wait_one_task_per_worker(
        &rest,
        &counts,
        &workers.iter().collect::<Vec<_>>(),
        DEFAULT_TIMEOUT,
    );
    // The victim must not lead: the previous assignment lives in the leader's memory (as in
    // Connect's assignor), so a new leader cannot tell lost work from new work and assigns it
    // at once.
    let leader = wait_leader(&workers, DEFAULT_TIMEOUT);
    let victim = (leader + 1) % 3;
    let pipe = pipes
        .iter()
        .find(|p| before[&(p.name.clone(), 0)] == workers[victim].id())
        .expect("a pipe on every worker");
    let held = (pipe.name.clone(), 0);
    let survivors: Vec<usize> = (0..3).filter(|i| *i != victim).collect();
    let epochs: Vec<f64> = survivors
        .iter()
        .map(|i| {
            workers[*i].metrics("ferry_worker_rebalance_epoch ")["ferry_worker_rebalance_epoch"]
        })
        .collect();

    workers[victim].kill9();
    append_lines(&pipe.input, &numbered(50..100));
    // The survivors complete the round that drops the killed worker…
    for (i, epoch) in survivors.iter().zip(&epochs) {
        wait_until_ok(
            FAILOVER_TIMEOUT,
            "a round without the killed worker",
            || {
                let now = workers[*i].metrics("ferry_worker_rebalance_epoch ")
                    ["ferry_worker_rebalance_epoch"];
                (now > *epoch).then_some(()).ok_or(format!("epoch {now}"))
            },
        );
    }
    // …and the killed worker's task is held, not started on them.
    for i in &survivors {
        let starts = workers[*i].task_starts();
        assert_eq!(
            starts.get(&held),
            None,
            "held task started on {}",
            workers[*i].id()
        );
    }

    workers.push(Worker::start(&cluster));
    workers[3].wait_ready();
    let replacement = workers[3].id().to_owned();
    let survivor = workers[survivors[0]].rest();
    let after = wait_until_ok(FAILOVER_TIMEOUT, "the held task on the replacement", || {
        let placement = wait_all_running(survivor, &counts, FAILOVER_TIMEOUT);
        if placement[&held] == replacement {
            Ok(placement)
        } else {
            Err(format!("{placement:?}"))
        }
    });
    for i in &survivors {
        let starts = workers[*i].task_starts();
        let theirs: Vec<_> = after
            .iter()
            .filter(|(_, w)| **w == workers[*i].id())
            .collect();
        assert_eq!(theirs.len(), 1, "{after:?}");
        assert_eq!(
            starts.get(theirs[0].0),
            Some(&1),
            "{} restarted",
            workers[*i].id()
        );
    }
    assert_delivered(&broker, &pipe.topic, &numbered(0..100));
}

/// `connect.protocol=eager` (v0 `default`): every worker stops all its work before each join
/// and the leader hands out a fresh round-robin share. A third worker joining two ends with one
/// connector and one task per worker, every task restarted on the way (eager rebalancing stops
/// the world, unlike the incremental protocols), and after kill -9 of a worker that does not
/// lead, its pipeline resumes on the survivors with no line lost.
///
/// The test broker settles a group on its first member's first protocol instead of the one all
/// members support, so a mixed eager/sessioned group cannot form on it (a Kafka broker picks
/// `default` there); that case is not tested here.
#[test]
fn an_eager_cluster_rebalances_by_stopping_everything_and_loses_no_line() {
    let Some(broker) =
        distributed_broker("an_eager_cluster_rebalances_by_stopping_everything_and_loses_no_line")
    else {
        return;
    };
    let cluster = ClusterProps::new(&broker, "dist-eager").with("connect.protocol", "eager");
    let mut workers = cluster.start_workers(2);
    let dir = tempfile::tempdir().unwrap();
    let lines = |i: usize| numbered(i * 1000..i * 1000 + 50);
    let pipes = create_pipes(&broker, workers[0].rest(), dir.path(), "eager", 3, lines);
    let counts = pipe_counts(&pipes);
    wait_all_running(workers[1].rest(), &counts, FAILOVER_TIMEOUT);
    let starts = |workers: &[Worker]| -> u64 {
        workers
            .iter()
            .filter(|w| w.is_running())
            .map(|w| w.task_starts().values().sum::<u64>())
            .sum()
    };
    let before = starts(&workers);

    workers.push(Worker::start(&cluster));
    workers[2].wait_ready();
    wait_one_task_per_worker(
        workers[2].rest(),
        &counts,
        &workers.iter().collect::<Vec<_>>(),
        FAILOVER_TIMEOUT,
    );
    let restarted = starts(&workers) - before;
    assert!(
        restarted >= 3,
        "eager rebalancing restarts every task, not only the one that moved: {restarted} starts"
    );
    for (i, pipe) in pipes.iter().enumerate() {
        assert_delivered(&broker, &pipe.topic, &lines(i));
    }

    // Kill a worker that does not lead while more lines are written.
    let leader = wait_leader(&workers, FAILOVER_TIMEOUT);
    let victim = (0..workers.len()).find(|i| *i != leader).unwrap();
    workers[victim].kill9();
    let mut expected = Vec::new();
    for (i, pipe) in pipes.iter().enumerate() {
        let more = numbered(i * 1000 + 50..i * 1000 + 80);
        append_lines(&pipe.input, &more);
        expected.push(lines(i).into_iter().chain(more).collect::<Vec<_>>());
    }
    let victim_id = workers[victim].id().to_owned();
    wait_until_ok(FAILOVER_TIMEOUT, "every task on a survivor", || {
        let placement = wait_all_running(workers[leader].rest(), &counts, FAILOVER_TIMEOUT);
        placement
            .values()
            .all(|w| *w != victim_id)
            .then_some(())
            .ok_or(format!("{placement:?}"))
    });
    for (pipe, lines) in pipes.iter().zip(&expected) {
        assert_delivered(&broker, &pipe.topic, lines);
    }
}
