//! The `ErrantRecordReporter` sink tasks get through their context (KIP-610): a task hands back a
//! record it cannot write; under `errors.tolerance=all` it goes the same way as a record that
//! failed conversion (log, dead letter queue with its original bytes), otherwise the task fails.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use ferry_api::{ConnectError, ErrantRecordReporter, SinkRecord};

use crate::dlq::{DeadLetterQueue, ErrorOrigin};
use crate::error_policy::ErrorPolicy;
use crate::metrics::TaskMetrics;
use crate::task_converters::RawRecord;

/// The original bytes of the records in the current batch, by (topic, partition, offset), kept
/// only when there is a dead letter queue to send them to.
pub type Originals = Arc<Mutex<HashMap<(String, i32, i64), (RawRecord, Option<i64>)>>>;

/// The reporter of one sink task.
#[derive(Debug)]
pub struct SinkErrantReporter {
    /// Error handling settings.
    pub policy: ErrorPolicy,
    /// The task's DLQ.
    pub dlq: Option<Arc<DeadLetterQueue>>,
    /// Original bytes of the current batch.
    pub originals: Originals,
    /// Metrics.
    pub metrics: Arc<TaskMetrics>,
    /// The task class, for `__connect.errors.class.name`.
    pub task_class: String,
}

impl ErrantRecordReporter for SinkErrantReporter {
    fn report(&self, record: &SinkRecord, error: &ConnectError) -> Result<(), ConnectError> {
        self.metrics.records_errored.fetch_add(1, Ordering::Relaxed);
        let at = format!(
            "topic '{}', partition {}, offset {}",
            record.original_topic, record.original_kafka_partition, record.original_kafka_offset
        );
        if !self.policy.tolerate_all {
            return Err(ConnectError::data(format!(
                "Tolerance exceeded in error handler: the task reported the record at {at}: {error}"
            )));
        }
        if self.policy.log_errors {
            tracing::error!(
                "task reported an errant record at {at} (errors.tolerance=all): {}",
                error.trace()
            );
        }
        let Some(dlq) = &self.dlq else { return Ok(()) };
        let key = (
            record.original_topic.clone(),
            record.original_kafka_partition,
            record.original_kafka_offset,
        );
        let Some((raw, timestamp)) = self.originals.lock().unwrap().get(&key).cloned() else {
            tracing::warn!("errant record at {at} is no longer in the current batch; not sent to the dead letter queue");
            return Ok(());
        };
        let origin = ErrorOrigin {
            topic: &record.original_topic,
            partition: Some(record.original_kafka_partition),
            offset: Some(record.original_kafka_offset),
            timestamp,
        };
        dlq.report(&raw, &origin, "TASK_PUT", &self.task_class, error)?;
        self.metrics.records_dlq.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
