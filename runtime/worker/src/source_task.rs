//! Runs one source task: poll → transforms → converters → producer, with offsets committed only
//! for acknowledged prefixes (see [`crate::submitted`]) every `offset.flush.interval.ms`.
//!
//! Backpressure: the producer queue is bounded (`queue.buffering.max.*`); when it is full the loop
//! waits for deliveries before polling more, so memory stays flat when the broker stalls.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_api::{
    ConnectError, RecordMetadata, SourceMap, SourceRecord, SourceTask, SourceTaskContext,
};
use ferry_transforms::TransformChain;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

use crate::dlq::{DeadLetterQueue, ErrorOrigin};
use crate::error_policy::ErrorPolicy;
use crate::herder::{State, TargetState};
use crate::kafka::{
    create_client, is_idempotent, request_producer_id_now, source_producer_defaults,
};
use crate::metrics::TaskMetrics;
use crate::offset_store::{ConnectorOffsetReader, OffsetWrite};
use crate::submitted::{SubmissionId, SubmittedRecords};
use crate::task_context::{
    next_backoff, report, report_failure, TaskControl, TaskSpec, WorkerContext,
};
use crate::task_converters::RawRecord;
use crate::task_converters::TaskConverters;
use crate::topic_creation::TopicCreator;
use crate::worker_config::ClientRole;
use std::sync::atomic::Ordering;

/// Acknowledged (or dropped) records waiting for `SourceTask::commit_record`.
type AckedRecords = Arc<Mutex<Vec<(SourceMap, SourceMap, Option<RecordMetadata>)>>>;

/// Delivery reports land here, on librdkafka's thread.
struct DeliveryContext {
    submitted: Arc<Mutex<SubmittedRecords>>,
    failure: Arc<Mutex<Option<String>>>,
    /// Set when the task wants `commit_record` calls.
    acked: Option<AckedRecords>,
}

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, opaque: usize) {
        match result {
            Ok(msg) => {
                let id = SubmissionId::from_opaque(opaque);
                let mut submitted = self.submitted.lock().unwrap();
                if let Some(acked) = &self.acked {
                    use rdkafka::Message;
                    if let Some((p, o)) = submitted.get(id) {
                        let meta = RecordMetadata {
                            topic: msg.topic().to_owned(),
                            partition: msg.partition(),
                            offset: msg.offset(),
                            timestamp: msg.timestamp().to_millis(),
                        };
                        acked
                            .lock()
                            .unwrap()
                            .push((p.clone(), o.clone(), Some(meta)));
                    }
                }
                submitted.ack(id);
            }
            Err((e, msg)) => {
                use rdkafka::Message;
                let mut failure = self.failure.lock().unwrap();
                if failure.is_none() {
                    *failure = Some(format!(
                        "Unrecoverable exception from producer send callback: failed to send record to topic {}: {e}",
                        msg.topic()
                    ));
                }
            }
        }
    }
}

type TaskProducer = ThreadedProducer<DeliveryContext>;

/// What woke the loop.
enum Event {
    Polled(Result<Vec<SourceRecord>, ConnectError>),
    Control,
    FlushDue,
}

struct SourceRunner {
    ctx: WorkerContext,
    spec: TaskSpec,
    task: Box<dyn SourceTask>,
    converters: TaskConverters,
    chain: TransformChain,
    policy: ErrorPolicy,
    producer: Arc<TaskProducer>,
    submitted: Arc<Mutex<SubmittedRecords>>,
    failure: Arc<Mutex<Option<String>>>,
    topic_creator: Option<TopicCreator>,
    seen_topics: HashSet<String>,
    metrics: Arc<TaskMetrics>,
    acked: Option<AckedRecords>,
    /// Ferry extension: failed source records go here when `ferry.errors.deadletterqueue.source.enable`.
    dlq: Option<DeadLetterQueue>,
}

/// Runs a source task until it is stopped or fails. Reports its state to the status store.
pub async fn run_source_task(
    ctx: WorkerContext,
    spec: TaskSpec,
    task: Box<dyn SourceTask>,
    control: TaskControl,
) {
    let id = spec.id.clone();
    let mut runner = match SourceRunner::new(ctx.clone(), spec, task).await {
        Ok(r) => r,
        Err(e) => {
            report_failure(&ctx, &id, &e);
            return;
        }
    };
    let result = runner.run(control).await;
    runner.shutdown().await;
    match result {
        Ok(()) => {}
        Err(e) => report_failure(&ctx, &id, &e),
    }
}

impl SourceRunner {
    async fn new(
        ctx: WorkerContext,
        spec: TaskSpec,
        mut task: Box<dyn SourceTask>,
    ) -> Result<Self, ConnectError> {
        let converters = TaskConverters::build(&ctx.plugins, &ctx.config, &spec.connector_props)?;
        let chain = TransformChain::from_config(&spec.connector_props, ctx.plugins.as_ref())?;
        let policy = ErrorPolicy::from_connector_config(&spec.connector_props);
        let mut settings = ctx
            .config
            .client_settings(ClientRole::Producer, &spec.connector_props)?;
        source_producer_defaults(
            &mut settings,
            &format!("connector-producer-{}-{}", spec.id.connector, spec.id.task),
        );
        let submitted = Arc::new(Mutex::new(SubmittedRecords::new()));
        let failure = Arc::new(Mutex::new(None));
        let acked: Option<AckedRecords> = task.wants_commit_record().then(Arc::default);
        let delivery = DeliveryContext {
            submitted: submitted.clone(),
            failure: failure.clone(),
            acked: acked.clone(),
        };
        let producer: TaskProducer =
            create_client(&format!("task {}", spec.id), &settings, move |c| {
                c.create_with_context(DeliveryContext {
                    submitted: delivery.submitted.clone(),
                    failure: delivery.failure.clone(),
                    acked: delivery.acked.clone(),
                })
            })?;
        let producer = Arc::new(producer);
        if is_idempotent(&settings) {
            request_producer_id_now(producer.clone());
        }
        let admin_settings = ctx
            .config
            .client_settings(ClientRole::Admin, &spec.connector_props)?;
        let topic_creator = TopicCreator::for_connector(
            ctx.config.topic_creation_enabled(),
            &spec.connector_props,
            &admin_settings,
        )?;
        let reader = ConnectorOffsetReader {
            store: ctx.offsets.clone(),
            connector: spec.id.connector.clone(),
        };
        task.start(
            &spec.task_props,
            SourceTaskContext {
                offsets: Arc::new(reader),
                task_id: spec.id.task,
            },
        )
        .await?;
        let metrics = ctx.metrics.task(&spec.id);
        let dlq = if policy.source_dlq {
            DeadLetterQueue::for_task(&ctx, &spec.id, &spec.connector_props).await?
        } else {
            None
        };
        Ok(SourceRunner {
            acked,
            dlq,
            metrics,
            ctx,
            spec,
            task,
            converters,
            chain,
            policy,
            producer,
            submitted,
            failure,
            topic_creator,
            seen_topics: HashSet::new(),
        })
    }

    async fn run(&mut self, mut control: TaskControl) -> Result<(), ConnectError> {
        let interval = self
            .ctx
            .config
            .offset_flush_interval()
            .max(Duration::from_millis(1));
        let mut next_flush = Instant::now() + interval;
        let mut backoff = Duration::ZERO;
        loop {
            let target = *control.borrow_and_update();
            match target {
                TargetState::Stopped => return Ok(()),
                TargetState::Paused => report(&self.ctx, &self.spec.id, State::Paused, None),
                TargetState::Started => report(&self.ctx, &self.spec.id, State::Running, None),
            }
            loop {
                self.check_delivery_failure()?;
                let flush_at = tokio::time::Instant::from_std(next_flush);
                let event = if target == TargetState::Started {
                    tokio::select! {
                        r = self.task.poll() => Event::Polled(r),
                        _ = control.changed() => Event::Control,
                        _ = tokio::time::sleep_until(flush_at) => Event::FlushDue,
                    }
                } else {
                    tokio::select! {
                        _ = control.changed() => Event::Control,
                        _ = tokio::time::sleep_until(flush_at) => Event::FlushDue,
                    }
                };
                match event {
                    Event::Control => break,
                    Event::FlushDue => {}
                    Event::Polled(Ok(records)) => {
                        backoff = Duration::ZERO;
                        self.send_batch(records).await?;
                    }
                    Event::Polled(Err(e)) if e.is_retriable() => {
                        backoff = next_backoff(backoff);
                        tracing::warn!(task = %self.spec.id, "retriable error from poll, retrying in {backoff:?}: {e}");
                        tokio::time::sleep(backoff).await;
                    }
                    Event::Polled(Err(e)) => return Err(e),
                }
                self.deliver_commit_records();
                if Instant::now() >= next_flush {
                    self.commit_offsets().await;
                    next_flush = Instant::now() + interval;
                }
            }
        }
    }

    fn check_delivery_failure(&self) -> Result<(), ConnectError> {
        match self.failure.lock().unwrap().take() {
            Some(msg) => Err(ConnectError::external(msg)),
            None => Ok(()),
        }
    }

    async fn send_batch(&mut self, records: Vec<SourceRecord>) -> Result<(), ConnectError> {
        if records.is_empty() {
            return Ok(());
        }
        self.metrics
            .records_read
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        self.metrics.batch(records.len());
        let mut written = 0u64;
        for SourceRecord {
            source_partition,
            source_offset,
            record,
        } in records
        {
            // Only the source DLQ needs the untransformed record after a failure.
            let original = self.dlq.as_ref().map(|_| record.clone());
            let topic_before = if self.chain.is_empty() {
                String::new()
            } else {
                record.topic.clone()
            };
            let applied = if self.chain.is_empty() {
                Ok(Some(record))
            } else {
                self.chain.apply(record)
            };
            let transformed = match applied {
                Ok(Some(r)) => r,
                Ok(None) => {
                    self.record_dropped(&source_partition, source_offset);
                    continue;
                }
                Err(e) => {
                    let err = ConnectError::data(format!("{e}"))
                        .context(format!("TRANSFORMATION stage, topic {topic_before}"));
                    self.tolerate_or_fail(err)?;
                    if let Some(original) = &original {
                        self.send_to_dlq(original, "TRANSFORMATION", &e.class, &e.error)?;
                    }
                    self.record_dropped(&source_partition, source_offset);
                    continue;
                }
            };
            let mut retries = None;
            let converted = loop {
                match self.converters.from_connect(&transformed) {
                    Err(e) if e.error.is_retriable() => {
                        match retries
                            .get_or_insert_with(|| self.policy.retries())
                            .next_delay()
                        {
                            Some(delay) => tokio::time::sleep(delay).await,
                            None => break Err(e),
                        }
                    }
                    other => break other,
                }
            };
            let raw = match converted {
                Ok(raw) => raw,
                Err(e) => {
                    self.metrics.records_errored.fetch_add(1, Ordering::Relaxed);
                    let stage = e.stage.as_str();
                    let err = e.error.context(format!(
                        "{stage} stage ({}), topic {}",
                        e.class, transformed.topic
                    ));
                    if self.dlq.is_some() && self.policy.tolerate_all {
                        self.send_to_dlq(&transformed, stage, &e.class, &err)?;
                    }
                    self.tolerate_or_fail(err)?;
                    self.record_dropped(&source_partition, source_offset);
                    continue;
                }
            };
            if let Some(creator) = &mut self.topic_creator {
                creator.ensure(&transformed.topic).await?;
            }
            if !self.seen_topics.contains(&transformed.topic) {
                self.ctx
                    .status
                    .add_active_topic(&self.spec.id.connector, &transformed.topic);
                self.seen_topics.insert(transformed.topic.clone());
            }
            let opaque = self
                .submitted
                .lock()
                .unwrap()
                .submit(&source_partition, source_offset, self.acked.is_some())
                .to_opaque();
            let mut rec: BaseRecord<'_, [u8], [u8], usize> =
                BaseRecord::with_opaque_to(&transformed.topic, opaque);
            if let Some(k) = raw.key.as_deref() {
                rec = rec.key(k);
            }
            if let Some(v) = raw.value.as_deref() {
                rec = rec.payload(v);
            }
            if !raw.headers.is_empty() {
                // Built only when there are headers: librdkafka allocates even an empty set.
                let mut headers = OwnedHeaders::new_with_capacity(raw.headers.len());
                for (k, v) in &raw.headers {
                    headers = headers.insert(Header {
                        key: k,
                        value: v.as_deref(),
                    });
                }
                rec = rec.headers(headers);
            }
            if let Some(p) = transformed.kafka_partition {
                rec = rec.partition(p);
            }
            if let Some(ts) = transformed.timestamp {
                rec = rec.timestamp(ts);
            }
            let mut pending = rec;
            let mut waited = Duration::ZERO;
            loop {
                match self.producer.send(pending) {
                    Ok(()) => {
                        written += 1;
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        // The producer queue is full: wait for deliveries (bounded memory).
                        pending = back;
                        self.check_delivery_failure()?;
                        let pause = Duration::from_millis(1);
                        tokio::time::sleep(pause).await;
                        waited += pause;
                        if waited >= Duration::from_secs(30)
                            && waited.as_millis().is_multiple_of(30_000)
                        {
                            tracing::warn!(task = %self.spec.id, "producer queue full for {waited:?}; is the broker reachable?");
                        }
                    }
                    Err((e, _)) => {
                        return Err(ConnectError::external(format!(
                            "failed to send record to topic {}: {e}",
                            transformed.topic
                        )))
                    }
                }
            }
        }
        self.metrics
            .records_written
            .fetch_add(written, Ordering::Relaxed);
        self.submitted.lock().unwrap().close_batch();
        Ok(())
    }

    /// Writes a failed source record to the DLQ: converted with the task's converters when that
    /// works, else key and value as their Java text (UTF-8), with the context headers.
    fn send_to_dlq(
        &mut self,
        record: &ferry_api::ConnectRecord,
        stage: &str,
        class: &str,
        error: &ConnectError,
    ) -> Result<(), ConnectError> {
        let raw = match self.converters.from_connect(record) {
            Ok(raw) => raw,
            Err(_) => {
                let text = |v: &ferry_api::Value| {
                    (!v.is_null()).then(|| {
                        bytes::Bytes::from(ferry_converters::java_string::java_to_string(v))
                    })
                };
                RawRecord {
                    key: text(&record.key),
                    value: text(&record.value),
                    headers: Vec::new(),
                }
            }
        };
        let origin = ErrorOrigin {
            topic: &record.topic,
            partition: record.kafka_partition,
            offset: None,
            timestamp: record.timestamp,
        };
        if let Some(dlq) = &self.dlq {
            dlq.report(&raw, &origin, stage, class, error)?;
            self.metrics.records_dlq.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// A record dropped by a transform or tolerated error: its offset is committable once the
    /// records before it are, and the task hears of it through `commit_record` (metadata None).
    fn record_dropped(&mut self, partition: &SourceMap, offset: SourceMap) {
        if let Some(acked) = &self.acked {
            acked
                .lock()
                .unwrap()
                .push((partition.clone(), offset.clone(), None));
        }
        self.submitted
            .lock()
            .unwrap()
            .submit_dropped(partition, offset);
    }

    /// Hands acknowledged records to the task's `commit_record`.
    fn deliver_commit_records(&mut self) {
        let Some(acked) = &self.acked else { return };
        let done = std::mem::take(&mut *acked.lock().unwrap());
        for (p, o, meta) in &done {
            self.task.commit_record(p, o, meta.as_ref());
        }
    }

    fn tolerate_or_fail(&self, err: ConnectError) -> Result<(), ConnectError> {
        if !self.policy.tolerate_all {
            return Err(err);
        }
        if self.policy.log_errors {
            tracing::error!(task = %self.spec.id, "error tolerated (errors.tolerance=all): {}", err.trace());
        }
        Ok(())
    }

    /// Writes the committable offsets, then calls the task's `commit`. A failed write keeps the
    /// offsets for the next attempt.
    async fn commit_offsets(&mut self) {
        let offsets = {
            let mut submitted = self.submitted.lock().unwrap();
            // Commits run between batches; a batch cut short by an error is closed here.
            submitted.close_batch();
            submitted.take_committable()
        };
        if offsets.is_empty() {
            return;
        }
        if let Some(dlq) = &self.dlq {
            // Offsets of records sent to the DLQ are committed only once the DLQ has them.
            if let Err(e) = dlq.flush(std::time::Duration::from_secs(30)) {
                tracing::error!(task = %self.spec.id, "dead letter queue flush failed; offsets kept for the next commit: {e}");
                self.submitted.lock().unwrap().restore_committable(offsets);
                return;
            }
        }
        let writes: Vec<OffsetWrite> = offsets
            .iter()
            .map(|(p, o)| (p.clone(), Some(o.clone())))
            .collect();
        let store = self.ctx.offsets.clone();
        let connector = self.spec.id.connector.clone();
        let started = Instant::now();
        let result = tokio::task::spawn_blocking(move || store.put(&connector, &writes)).await;
        self.metrics
            .commit(matches!(result, Ok(Ok(()))), started.elapsed());
        match result {
            Ok(Ok(())) => {
                if let Err(e) = self.task.commit().await {
                    tracing::warn!(task = %self.spec.id, "task commit failed: {e}");
                }
            }
            Ok(Err(e)) => {
                tracing::error!(task = %self.spec.id, "failed to flush offsets: {e}");
                self.submitted.lock().unwrap().restore_committable(offsets);
            }
            Err(e) => {
                tracing::error!(task = %self.spec.id, "offset flush panicked: {e}");
                self.submitted.lock().unwrap().restore_committable(offsets);
            }
        }
    }

    /// Waits (up to `offset.flush.timeout.ms`) for outstanding records, commits what was
    /// acknowledged and stops the task.
    async fn shutdown(&mut self) {
        let producer = self.producer.clone();
        let timeout = self.ctx.config.offset_flush_timeout();
        let flushed = tokio::task::spawn_blocking(move || producer.flush(timeout)).await;
        if let Ok(Err(e)) = flushed {
            tracing::warn!(task = %self.spec.id, "not every record was delivered before shutdown: {e}");
        }
        self.deliver_commit_records();
        self.commit_offsets().await;
        if let Err(e) = self.task.stop().await {
            tracing::warn!(task = %self.spec.id, "error stopping task: {e}");
        }
    }
}
