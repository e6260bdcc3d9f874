//! Error handling end to end (COMPAT §8): with `errors.tolerance=all` malformed records go to the
//! dead letter queue with their original bytes and Connect's context headers while good records
//! reach the sink in order; with `errors.tolerance=none` the task is FAILED with a trace naming
//! the topic, partition and offset.

use std::fs;
use std::time::Duration;

use ferry_integration::{unique_name, wait_until, Ferry, Record, TestBroker};

const LONG: Duration = Duration::from_secs(120);

fn header<'a>(r: &'a ferry_integration::ConsumedRecord, name: &str) -> &'a str {
    std::str::from_utf8(
        r.header(name)
            .unwrap_or_else(|| panic!("header {name} missing")),
    )
    .unwrap()
}

#[test]
fn malformed_records_go_to_the_dlq_and_good_ones_arrive_in_order() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("mixed", 1);
    let dlq = unique_name("dlq");
    // Even offsets are good JSON, odd ones are not.
    let records: Vec<Record> = (0..20)
        .map(|i| {
            let value = if i % 2 == 0 {
                format!("{{\"n\":{i}}}")
            } else {
                format!("not json {i}")
            };
            Record::keyed(format!("k{i}"), value)
                .with_header("origin", format!("h{i}"))
                .with_timestamp(1_700_000_000_000 + i)
        })
        .collect();
    broker.produce(&topic, records);

    let builder = Ferry::builder(&broker)
        .worker("consumer.fetch.wait.max.ms", "20")
        .worker("offset.flush.interval.ms", "200")
        .worker(
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        )
        .worker("value.converter.schemas.enable", "false");
    let out = builder.dir().join("out.txt");
    let name = unique_name("tolerant");
    let ferry = builder
        .connector_properties(&[
            ("name", &name),
            ("connector.class", "FileStreamSink"),
            ("file", out.to_str().unwrap()),
            ("topics", &topic),
            ("errors.tolerance", "all"),
            ("errors.log.enable", "true"),
            ("errors.deadletterqueue.topic.name", &dlq),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ])
        .start();

    let dead = broker.wait_for_records(&dlq, 10, LONG);
    assert_eq!(dead.len(), 10);
    for (j, r) in dead.iter().enumerate() {
        let i = 2 * j + 1;
        assert_eq!(r.key_str(), format!("k{i}"));
        assert_eq!(r.value_str(), format!("not json {i}"), "original bytes");
        assert_eq!(
            header(r, "origin"),
            format!("h{i}"),
            "original headers kept"
        );
        assert_eq!(
            r.timestamp,
            ferry_integration::Timestamp::CreateTime(1_700_000_000_000 + i as i64)
        );
        assert_eq!(header(r, "__connect.errors.topic"), topic);
        assert_eq!(header(r, "__connect.errors.partition"), "0");
        assert_eq!(header(r, "__connect.errors.offset"), i.to_string());
        assert_eq!(header(r, "__connect.errors.connector.name"), name);
        assert_eq!(header(r, "__connect.errors.task.id"), "0");
        assert_eq!(header(r, "__connect.errors.stage"), "VALUE_CONVERTER");
        assert_eq!(
            header(r, "__connect.errors.class.name"),
            "org.apache.kafka.connect.json.JsonConverter"
        );
        assert_eq!(
            header(r, "__connect.errors.exception.class.name"),
            "org.apache.kafka.connect.errors.DataException"
        );
        assert!(!header(r, "__connect.errors.exception.message").is_empty());
        assert!(header(r, "__connect.errors.exception.stacktrace").contains("DataException"));
    }

    let lines = wait_until(LONG, "10 good lines in the sink file", || {
        let text = fs::read_to_string(&out).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        (lines.len() >= 10).then_some(lines)
    });
    let expected: Vec<String> = (0..20).step_by(2).map(|i| format!("{{n={i}}}")).collect();
    assert_eq!(lines, expected);

    let (code, status) = ferry.rest().get(&format!("/connectors/{name}/status"));
    assert_eq!(code, 200);
    assert_eq!(status["tasks"][0]["state"], "RUNNING");
    let (_, metrics) = ferry.rest().request("GET", "/metrics", None).unwrap();
    let text = metrics
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| metrics.to_string());
    assert!(
        text.contains(&format!(
            "ferry_task_dlq_records_total{{connector=\"{name}\",task=\"0\"}} 10"
        )),
        "{text}"
    );
}

#[test]
fn without_tolerance_the_task_fails_naming_the_record() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("bad", 1);
    broker.produce(
        &topic,
        vec![Record::value("{\"ok\":true}"), Record::value("{broken")],
    );
    let builder = Ferry::builder(&broker)
        .worker("consumer.fetch.wait.max.ms", "20")
        .worker("value.converter.schemas.enable", "false");
    let out = builder.dir().join("out.txt");
    let name = unique_name("strict");
    let ferry = builder
        .connector_properties(&[
            ("name", &name),
            ("connector.class", "FileStreamSink"),
            ("file", out.to_str().unwrap()),
            ("topics", &topic),
        ])
        .start();
    let trace = wait_until(LONG, "the task to fail", || {
        let (_, status) = ferry.rest().get(&format!("/connectors/{name}/status"));
        (status["tasks"][0]["state"] == "FAILED").then(|| {
            status["tasks"][0]["trace"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
    });
    assert!(
        trace.contains(&format!("topic '{topic}', partition 0, offset 1")),
        "{trace}"
    );
    assert!(trace.contains("VALUE_CONVERTER"), "{trace}");
}

#[test]
fn failed_tasks_restart_automatically_when_enabled() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("autorestart", 1);
    broker.produce_values(&topic, &["\"one\"", "\"two\""]);
    let builder = Ferry::builder(&broker)
        .worker("consumer.fetch.wait.max.ms", "20")
        .worker("offset.flush.interval.ms", "200")
        .worker("ferry.auto.restart.enable", "true")
        .worker("ferry.auto.restart.initial.delay.ms", "100")
        .worker("ferry.auto.restart.max.delay.ms", "400")
        .worker("value.converter.schemas.enable", "false");
    // The sink's directory does not exist yet: the task fails until it does.
    let dir = builder.dir().join("later");
    let out = dir.join("out.txt");
    let name = unique_name("phoenix");
    let ferry = builder
        .connector_properties(&[
            ("name", &name),
            ("connector.class", "FileStreamSink"),
            ("file", out.to_str().unwrap()),
            ("topics", &topic),
        ])
        .start();
    let trace = wait_until(LONG, "a FAILED task with a scheduled restart", || {
        let (_, status) = ferry.rest().get(&format!("/connectors/{name}/status"));
        let trace = status["tasks"][0]["trace"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        (status["tasks"][0]["state"] == "FAILED" && trace.contains("automatic restart"))
            .then_some(trace)
    });
    assert!(trace.contains("Ferry: automatic restart #"), "{trace}");
    fs::create_dir_all(&dir).unwrap();
    let lines = wait_until(LONG, "both records in the sink file", || {
        let text = fs::read_to_string(&out).unwrap_or_default();
        (text.lines().count() >= 2).then_some(text)
    });
    assert_eq!(lines, "one\ntwo\n");
    let (_, status) = ferry.rest().get(&format!("/connectors/{name}/status"));
    assert_eq!(status["tasks"][0]["state"], "RUNNING");
    let (_, metrics) = ferry.rest().request("GET", "/metrics", None).unwrap();
    let text = metrics.as_str().unwrap_or_default().to_owned();
    let restarts: u64 = text
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "ferry_task_auto_restarts_total{{connector=\"{name}\""
            ))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(restarts >= 1, "{text}");
}

#[test]
fn source_dead_letter_queue_is_opt_in_and_keeps_failed_records() {
    let broker = TestBroker::from_env();
    let topic = broker.unique_topic("numbers", 1);
    let dlq = unique_name("source-dlq");
    let builder = Ferry::builder(&broker).worker("value.converter.schemas.enable", "false");
    let input = builder.dir().join("in.txt");
    fs::write(&input, "1\nx\n2\n").unwrap();
    let _ferry = builder
        .connector_properties(&[
            ("name", &unique_name("numbers")),
            ("connector.class", "FileStreamSource"),
            ("file", input.to_str().unwrap()),
            ("topic", &topic),
            ("transforms", "toInt"),
            (
                "transforms.toInt.type",
                "org.apache.kafka.connect.transforms.Cast$Value",
            ),
            ("transforms.toInt.spec", "int32"),
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", &dlq),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
            ("ferry.errors.deadletterqueue.source.enable", "true"),
        ])
        .start();
    let good: Vec<String> = broker
        .wait_for_records(&topic, 2, LONG)
        .iter()
        .map(|r| r.value_str().to_owned())
        .collect();
    assert_eq!(good, ["1", "2"]);
    let dead = broker.wait_for_records(&dlq, 1, LONG);
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].value_str(),
        "\"x\"",
        "the untransformed record, converted"
    );
    assert_eq!(header(&dead[0], "__connect.errors.stage"), "TRANSFORMATION");
    assert_eq!(
        header(&dead[0], "__connect.errors.class.name"),
        "org.apache.kafka.connect.transforms.Cast$Value"
    );
    assert_eq!(header(&dead[0], "__connect.errors.topic"), topic);
}
