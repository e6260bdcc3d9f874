//! Runs one sink task: consumer (group `connect-<name>`) → converters → transforms → `put`, with
//! consumer offsets committed only for what `pre_commit` says is durable (COMPAT §5.4).
//!
//! The loop runs on a blocking thread: librdkafka's consumer is polled synchronously and its
//! rebalance callbacks (which must flush, commit and `close` revoked partitions before they move)
//! run inside `poll` on the same thread. The task's async methods are driven with
//! `Handle::block_on`. The task and the offsets it has been given live in [`SinkShared`], which the
//! loop and the rebalance callbacks share; the callbacks only run while the loop is inside `poll`,
//! so the lock is never contended.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferry_api::{
    ConnectError, ConnectRecord, SinkRecord, SinkTask, SinkTaskContext, TimestampType,
    TopicPartition, TopicPartitionOffsets,
};
use ferry_transforms::TransformChain;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{BorrowedMessage, Headers as _};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::{ClientContext, Message, Timestamp};
use regex::Regex;
use tokio::runtime::Handle;

use crate::dlq::{DeadLetterQueue, ErrorOrigin};
use crate::errant_reporter::{Originals, SinkErrantReporter};
use crate::error_policy::ErrorPolicy;
use crate::herder::{State, TargetState, TaskId};
use crate::kafka::{create_client, sink_consumer_defaults};
use crate::metrics::TaskMetrics;
use crate::task_context::{
    next_backoff, report, report_failure, TaskControl, TaskSpec, WorkerContext,
};
use crate::task_converters::{RawRecord, TaskConverters};
use crate::worker_config::ClientRole;
use std::sync::atomic::Ordering;

/// State shared between the loop and the rebalance callbacks.
struct SinkShared {
    id: TaskId,
    task: Box<dyn SinkTask>,
    /// Next offset to read, per partition, of what was handed to `put`.
    current: TopicPartitionOffsets,
    /// Last committed positions.
    committed: TopicPartitionOffsets,
    context: SinkTaskContext,
    metrics: Arc<TaskMetrics>,
    dlq: Option<Arc<DeadLetterQueue>>,
    /// The first fatal error seen in a callback.
    failure: Option<ConnectError>,
    /// Set once the task is stopping: callbacks then do nothing.
    closing: bool,
}

struct SinkConsumerContext {
    shared: Arc<Mutex<SinkShared>>,
    handle: Handle,
}

impl ClientContext for SinkConsumerContext {
    /// librdkafka's periodic statistics (`statistics.interval.ms`) carry each partition's lag:
    /// read it there rather than asking the broker for watermarks on the commit path.
    fn stats(&self, statistics: rdkafka::Statistics) {
        let lag: i64 = statistics
            .topics
            .values()
            .flat_map(|t| t.partitions.values())
            .filter(|p| p.partition >= 0 && p.consumer_lag >= 0)
            .map(|p| p.consumer_lag)
            .sum();
        if let Ok(s) = self.shared.try_lock() {
            s.metrics.consumer_lag.store(lag, Ordering::Relaxed);
        }
    }
}

fn partitions_of(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

fn to_tpl(offsets: &TopicPartitionOffsets) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::with_capacity(offsets.len());
    for (tp, off) in offsets {
        // Offsets come from our own bookkeeping, never invalid: ignore the impossible error.
        let _ = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*off));
    }
    tpl
}

impl SinkShared {
    /// pre_commit → commit, for `partitions` (None = all). Returns the error to fail with.
    fn commit(
        &mut self,
        handle: &Handle,
        consumer: &BaseConsumer<SinkConsumerContext>,
        partitions: Option<&[TopicPartition]>,
        mode: CommitMode,
    ) -> Result<(), ConnectError> {
        let offsets: TopicPartitionOffsets = self
            .current
            .iter()
            .filter(|(tp, _)| partitions.is_none_or(|ps| ps.contains(tp)))
            .map(|(tp, o)| (tp.clone(), *o))
            .collect();
        if offsets.is_empty() {
            return Ok(());
        }
        if let Some(dlq) = &self.dlq {
            // DLQ copies must be durable before the offsets of the records they replace.
            dlq.flush(Duration::from_secs(30))?;
        }
        let started = Instant::now();
        let to_commit = handle.block_on(self.task.pre_commit(&offsets))?;
        let changed: TopicPartitionOffsets = to_commit
            .into_iter()
            .filter(|(tp, o)| self.committed.get(tp) != Some(o))
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        match consumer.commit(&to_tpl(&changed), mode) {
            Ok(()) => {
                self.metrics.commit(true, started.elapsed());
                self.committed.extend(changed);
                Ok(())
            }
            Err(e) => {
                self.metrics.commit(false, started.elapsed());
                // A failed commit is not fatal: the next one carries the same positions.
                tracing::warn!(task = %self.id, "offset commit failed: {e}");
                Ok(())
            }
        }
    }
}

impl ConsumerContext for SinkConsumerContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else {
            return;
        };
        let mut s = self.shared.lock().unwrap();
        if s.closing || s.failure.is_some() {
            return;
        }
        let parts = partitions_of(tpl);
        let result = s
            .commit(&self.handle, consumer, Some(&parts), CommitMode::Sync)
            .and_then(|()| self.handle.block_on(s.task.close(&parts)));
        if let Err(e) = result {
            s.failure = Some(e);
        }
        for p in &parts {
            s.current.remove(p);
            s.committed.remove(p);
        }
        let remaining: Vec<TopicPartition> = s
            .context
            .assignment()
            .into_iter()
            .filter(|p| !parts.contains(p))
            .collect();
        s.context.set_assignment(remaining);
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Assign(tpl) = rebalance else {
            return;
        };
        let mut s = self.shared.lock().unwrap();
        if s.closing || s.failure.is_some() {
            return;
        }
        let parts = partitions_of(tpl);
        let assignment = consumer
            .assignment()
            .map(|a| partitions_of(&a))
            .unwrap_or_else(|_| parts.clone());
        s.context.set_assignment(assignment);
        if let Err(e) = self.handle.block_on(s.task.open(&parts)) {
            s.failure = Some(e);
        }
    }
}

/// Runs a sink task on the current (blocking) thread until stopped or failed.
pub fn run_sink_task(
    ctx: WorkerContext,
    spec: TaskSpec,
    task: Box<dyn SinkTask>,
    control: TaskControl,
    handle: Handle,
) {
    let id = spec.id.clone();
    match SinkRunner::new(ctx.clone(), spec, task, handle) {
        Ok(mut runner) => {
            let result = runner.run(control);
            let result = runner.shutdown(result);
            if let Err(e) = result {
                report_failure(&ctx, &id, &e);
            }
        }
        Err(e) => report_failure(&ctx, &id, &e),
    }
}

/// The next offset to read per partition, for the records of one polled batch.
type Positions = Vec<(TopicPartition, i64)>;

/// A consumed message copied out of librdkafka's buffer.
struct Consumed {
    topic: String,
    partition: i32,
    offset: i64,
    timestamp: Option<i64>,
    timestamp_type: TimestampType,
    raw: RawRecord,
}

impl Consumed {
    fn copy_from(msg: &BorrowedMessage<'_>) -> Self {
        let (timestamp, timestamp_type) = match msg.timestamp() {
            Timestamp::NotAvailable => (None, TimestampType::NoTimestampType),
            Timestamp::CreateTime(t) => (Some(t), TimestampType::CreateTime),
            Timestamp::LogAppendTime(t) => (Some(t), TimestampType::LogAppendTime),
        };
        Consumed {
            topic: msg.topic().to_owned(),
            partition: msg.partition(),
            offset: msg.offset(),
            timestamp,
            timestamp_type,
            raw: RawRecord {
                key: msg.key().map(Bytes::copy_from_slice),
                value: msg.payload().map(Bytes::copy_from_slice),
                headers: msg
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| (h.key.to_owned(), h.value.map(Bytes::copy_from_slice)))
                            .collect()
                    })
                    .unwrap_or_default(),
            },
        }
    }
}

struct SinkRunner {
    ctx: WorkerContext,
    id: TaskId,
    consumer: BaseConsumer<SinkConsumerContext>,
    shared: Arc<Mutex<SinkShared>>,
    converters: TaskConverters,
    chain: TransformChain,
    policy: ErrorPolicy,
    handle: Handle,
    max_batch: usize,
    seen_topics: HashSet<String>,
    metrics: Arc<TaskMetrics>,
    dlq: Option<Arc<DeadLetterQueue>>,
    originals: Originals,
}

/// Reads `topics` / `topics.regex` (exactly one must be set, COMPAT §5.1) into a subscription.
pub fn subscription(props: &ferry_api::Props) -> Result<Vec<String>, ConnectError> {
    let topics =
        ferry_api::config::split_list(props.get("topics").map(String::as_str).unwrap_or(""));
    let regex = props.get("topics.regex").map(|s| s.trim()).unwrap_or("");
    match (topics.is_empty(), regex.is_empty()) {
        (false, true) => Ok(topics),
        (true, false) => {
            Regex::new(regex).map_err(|e| {
                ConnectError::config(format!(
                    "Invalid value {regex} for configuration topics.regex: {e}"
                ))
            })?;
            // librdkafka treats a subscription starting with ^ as a regex (full match needs $).
            let anchored = format!(
                "^(?:{})$",
                regex.trim_start_matches('^').trim_end_matches('$')
            );
            Ok(vec![anchored])
        }
        (false, false) => Err(ConnectError::config(
            "topics and topics.regex are mutually exclusive options, but both are set.",
        )),
        (true, true) => Err(ConnectError::config(
            "Must configure one of topics or topics.regex",
        )),
    }
}

impl SinkRunner {
    fn new(
        ctx: WorkerContext,
        spec: TaskSpec,
        mut task: Box<dyn SinkTask>,
        handle: Handle,
    ) -> Result<Self, ConnectError> {
        let id = spec.id.clone();
        let converters = TaskConverters::build(&ctx.plugins, &ctx.config, &spec.connector_props)?;
        let chain = TransformChain::from_config(&spec.connector_props, ctx.plugins.as_ref())?;
        let policy = ErrorPolicy::from_connector_config(&spec.connector_props);
        let topics = subscription(&spec.connector_props)?;
        let mut settings = ctx
            .config
            .client_settings(ClientRole::Consumer, &spec.connector_props)?;
        sink_consumer_defaults(
            &mut settings,
            &format!("connect-{}", id.connector),
            &format!("connector-consumer-{}-{}", id.connector, id.task),
        );
        let max_batch = settings
            .get("max.poll.records")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(500usize)
            .max(1);
        let dlq = handle
            .block_on(DeadLetterQueue::for_task(&ctx, &id, &spec.connector_props))?
            .map(Arc::new);
        let originals: Originals = Arc::default();
        let reporter = SinkErrantReporter {
            policy: policy.clone(),
            dlq: dlq.clone(),
            originals: originals.clone(),
            metrics: ctx.metrics.task(&id),
            task_class: spec
                .task_props
                .get("task.class")
                .cloned()
                .unwrap_or_default(),
        };
        let context = SinkTaskContext::new(id.task, Some(Arc::new(reporter)));
        handle.block_on(task.start(&spec.task_props, context.clone()))?;
        let shared = Arc::new(Mutex::new(SinkShared {
            id: id.clone(),
            task,
            current: TopicPartitionOffsets::new(),
            committed: TopicPartitionOffsets::new(),
            context,
            metrics: ctx.metrics.task(&id),
            dlq: dlq.clone(),
            failure: None,
            closing: false,
        }));
        let consumer: BaseConsumer<SinkConsumerContext> =
            create_client(&format!("task {id}"), &settings, |c| {
                c.create_with_context(SinkConsumerContext {
                    shared: shared.clone(),
                    handle: handle.clone(),
                })
            })?;
        let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topic_refs)
            .map_err(|e| ConnectError::config(format!("cannot subscribe to {topics:?}: {e}")))?;
        let metrics = ctx.metrics.task(&id);
        Ok(SinkRunner {
            ctx,
            id,
            consumer,
            shared,
            converters,
            chain,
            policy,
            handle,
            max_batch,
            seen_topics: HashSet::new(),
            metrics,
            dlq,
            originals,
        })
    }

    fn set_paused(&self, paused: bool) {
        if let Ok(assignment) = self.consumer.assignment() {
            let r = if paused {
                self.consumer.pause(&assignment)
            } else {
                self.consumer.resume(&assignment)
            };
            if let Err(e) = r {
                tracing::warn!(task = %self.id, "could not {} partitions: {e}", if paused { "pause" } else { "resume" });
            }
        }
    }

    fn run(&mut self, mut control: TaskControl) -> Result<(), ConnectError> {
        let interval = self.ctx.config.offset_flush_interval();
        let mut next_commit = Instant::now() + interval;
        let mut target = TargetState::Started;
        report(&self.ctx, &self.id, State::Running, None);
        loop {
            if control.has_changed().unwrap_or(true) {
                let next = *control.borrow_and_update();
                if next == TargetState::Stopped {
                    return Ok(());
                }
                if next != target {
                    target = next;
                    let paused = target == TargetState::Paused;
                    self.set_paused(paused);
                    report(
                        &self.ctx,
                        &self.id,
                        if paused {
                            State::Paused
                        } else {
                            State::Running
                        },
                        None,
                    );
                }
            }
            if let Some(e) = self.shared.lock().unwrap().failure.take() {
                return Err(e);
            }
            let (batch, positions) = self.poll_batch()?;
            if !batch.is_empty() {
                self.deliver(batch, &control)?;
            }
            // Positions become committable only once their records were handed to `put`, so a
            // commit (periodic or on revocation) never covers a record the task has not seen.
            if !positions.is_empty() {
                let mut shared = self.shared.lock().unwrap();
                let assignment = shared.context.assignment();
                for (tp, next) in positions {
                    // A partition revoked during this poll is not ours to commit any more.
                    if assignment.contains(&tp) {
                        shared.current.insert(tp, next);
                    }
                }
            }
            let commit_requested = self.apply_context_requests();
            if commit_requested || Instant::now() >= next_commit {
                let mut s = self.shared.lock().unwrap();
                s.commit(&self.handle, &self.consumer, None, CommitMode::Async)?;
                next_commit = Instant::now() + interval;
            }
        }
    }

    /// Polls up to `max.poll.records` messages: waits up to 100 ms for the first (so control
    /// changes are seen promptly), then takes what is already fetched.
    /// Polls a batch; returns it with the next position per partition it covers.
    fn poll_batch(&mut self) -> Result<(Vec<SinkRecord>, Positions), ConnectError> {
        // Sized up front: growing it copies the records polled so far, again and again.
        let mut batch = Vec::with_capacity(self.max_batch.min(4096));
        let mut positions = Positions::new();
        if self.dlq.is_some() {
            self.originals.lock().unwrap().clear();
        }
        let mut wait = Duration::from_millis(100);
        while batch.len() < self.max_batch {
            let Some(msg) = self.consumer.poll(wait) else {
                break;
            };
            wait = Duration::ZERO;
            let msg = match msg {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(task = %self.id, "consumer error: {e}");
                    break;
                }
            };
            self.metrics.records_read.fetch_add(1, Ordering::Relaxed);
            let input = Consumed::copy_from(&msg);
            let (partition, next_offset) = (input.partition, input.offset + 1);
            // Skipped (filtered or tolerated) records still move the position forward.
            match positions
                .iter_mut()
                .find(|(tp, _)| tp.partition == partition && tp.topic == input.topic)
            {
                Some(slot) => slot.1 = next_offset,
                None => positions.push((
                    TopicPartition::new(input.topic.clone(), partition),
                    next_offset,
                )),
            }
            if let Some(record) = self.convert(input)? {
                batch.push(record);
            }
        }
        Ok((batch, positions))
    }

    fn convert(&mut self, input: Consumed) -> Result<Option<SinkRecord>, ConnectError> {
        let Consumed {
            topic,
            partition,
            offset,
            timestamp,
            timestamp_type,
            raw,
        } = input;
        if !self.seen_topics.contains(&topic) {
            self.ctx.status.add_active_topic(&self.id.connector, &topic);
            self.seen_topics.insert(topic.clone());
        }
        let locate = || format!("topic '{topic}', partition {partition}, offset {offset}");
        // The DLQ takes the original bytes: keep a (cheap, reference-counted) copy when there is one.
        let raw_copy = self.dlq.as_ref().map(|_| raw.clone());
        if self.dlq.is_some() {
            let key = (topic.clone(), partition, offset);
            self.originals
                .lock()
                .unwrap()
                .insert(key, (raw.clone(), timestamp));
        }
        let origin = ErrorOrigin {
            topic: &topic,
            partition: Some(partition),
            offset: Some(offset),
            timestamp,
        };
        let mut retries = None;
        let converted = loop {
            match self.converters.to_connect(&topic, &raw) {
                Err(e) if e.error.is_retriable() => {
                    match retries
                        .get_or_insert_with(|| self.policy.retries())
                        .next_delay()
                    {
                        Some(delay) => std::thread::sleep(delay),
                        None => break Err(e),
                    }
                }
                other => break other,
            }
        };
        let (key, value, headers) = match converted {
            Ok(parts) => parts,
            Err(e) => {
                self.metrics.records_errored.fetch_add(1, Ordering::Relaxed);
                let err = ConnectError::data(format!(
                    "Tolerance exceeded in error handler: {} stage ({}) failed for record at {}: {}",
                    e.stage.as_str(),
                    e.class,
                    locate(),
                    e.error
                ));
                self.tolerate_or_fail(err)?;
                self.send_to_dlq(
                    raw_copy.as_ref(),
                    &origin,
                    e.stage.as_str(),
                    &e.class,
                    &e.error,
                )?;
                return Ok(None);
            }
        };
        let record = ConnectRecord {
            topic: topic.clone(),
            kafka_partition: Some(partition),
            key_schema: key.schema,
            key: key.value,
            value_schema: value.schema,
            value: value.value,
            timestamp,
            headers,
            kafka_offset: Some(offset),
            timestamp_type,
        };
        let transformed = match self.chain.apply(record) {
            Ok(Some(r)) => r,
            Ok(None) => {
                self.metrics
                    .records_filtered
                    .fetch_add(1, Ordering::Relaxed);
                return Ok(None);
            }
            Err(e) => {
                self.metrics.records_errored.fetch_add(1, Ordering::Relaxed);
                let err = ConnectError::data(format!(
                    "Tolerance exceeded in error handler: TRANSFORMATION stage ({}) failed for record at {}: {}",
                    e.class,
                    locate(),
                    e.error
                ));
                self.tolerate_or_fail(err)?;
                self.send_to_dlq(
                    raw_copy.as_ref(),
                    &origin,
                    "TRANSFORMATION",
                    &e.class,
                    &e.error,
                )?;
                return Ok(None);
            }
        };
        Ok(Some(SinkRecord {
            record: transformed,
            original_topic: topic,
            original_kafka_partition: partition,
            original_kafka_offset: offset,
        }))
    }

    /// Sends a tolerated record's original bytes to the DLQ, when there is one.
    fn send_to_dlq(
        &self,
        raw: Option<&RawRecord>,
        origin: &ErrorOrigin<'_>,
        stage: &str,
        class: &str,
        error: &ConnectError,
    ) -> Result<(), ConnectError> {
        if let (Some(dlq), Some(raw)) = (&self.dlq, raw) {
            dlq.report(raw, origin, stage, class, error)?;
            self.metrics.records_dlq.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn tolerate_or_fail(&self, err: ConnectError) -> Result<(), ConnectError> {
        if !self.policy.tolerate_all {
            return Err(err);
        }
        if self.policy.log_errors {
            tracing::error!(task = %self.id, "error tolerated (errors.tolerance=all): {}", err.trace());
        }
        Ok(())
    }

    /// Hands a batch to `put`, redelivering it after a backoff while `put` fails retriably (the
    /// consumer is paused meanwhile and keeps serving the group).
    fn deliver(
        &mut self,
        batch: Vec<SinkRecord>,
        control: &TaskControl,
    ) -> Result<(), ConnectError> {
        let mut backoff = Duration::ZERO;
        loop {
            let result = {
                let mut s = self.shared.lock().unwrap();
                self.handle.block_on(s.task.put(&batch))
            };
            match result {
                Ok(()) => {
                    if backoff > Duration::ZERO {
                        self.set_paused(false);
                    }
                    self.metrics.batch(batch.len());
                    self.metrics
                        .records_written
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) if e.is_retriable() => {
                    if backoff == Duration::ZERO {
                        self.set_paused(true);
                    }
                    backoff = next_backoff(backoff);
                    tracing::warn!(task = %self.id, "retriable error from put, redelivering in {backoff:?}: {e}");
                    let until = Instant::now() + backoff;
                    while Instant::now() < until {
                        // Keep group membership alive; nothing is fetched while paused.
                        if let Some(Ok(m)) = self.consumer.poll(Duration::from_millis(50)) {
                            tracing::debug!(task = %self.id, "unexpected message while paused at offset {}", m.offset());
                        }
                        if *control.borrow() == TargetState::Stopped {
                            return Err(e);
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Applies rewinds, pauses and resumes the task asked for; returns whether it asked to commit.
    fn apply_context_requests(&mut self) -> bool {
        let requests = self.shared.lock().unwrap().context.take_requests();
        for (tp, offset) in &requests.rewind {
            if let Err(e) = self.consumer.seek(
                &tp.topic,
                tp.partition,
                Offset::Offset(*offset),
                Duration::from_secs(10),
            ) {
                tracing::warn!(task = %self.id, "seek of {tp} to {offset} failed: {e}");
            } else {
                self.shared
                    .lock()
                    .unwrap()
                    .current
                    .insert(tp.clone(), *offset);
            }
        }
        let tpl = |ps: &[TopicPartition]| {
            let mut t = TopicPartitionList::new();
            for p in ps {
                t.add_partition(&p.topic, p.partition);
            }
            t
        };
        if !requests.pause.is_empty() {
            let _ = self.consumer.pause(&tpl(&requests.pause));
        }
        if !requests.resume.is_empty() {
            let _ = self.consumer.resume(&tpl(&requests.resume));
        }
        requests.commit_requested
    }

    /// Final commit, close and stop. Keeps the first error.
    fn shutdown(&mut self, result: Result<(), ConnectError>) -> Result<(), ConnectError> {
        let mut s = self.shared.lock().unwrap();
        let mut outcome = result;
        if outcome.is_ok() {
            outcome = s.commit(&self.handle, &self.consumer, None, CommitMode::Sync);
        }
        let assignment = s.context.assignment();
        if let Err(e) = self.handle.block_on(s.task.close(&assignment)) {
            tracing::warn!(task = %self.id, "error closing partitions: {e}");
        }
        s.closing = true;
        if let Err(e) = self.handle.block_on(s.task.stop()) {
            tracing::warn!(task = %self.id, "error stopping task: {e}");
        }
        outcome
    }
}
