//! The sink's background writer: `put` plans its records into [`Batch`]es on the task's thread
//! and queues them here; one spawned job owns the connection and writes what is queued, so that
//! the worker polls and converts the next records while the database runs the last transaction.
//!
//! Each transaction takes every queued put up to `batch.size` rows (more puts per transaction,
//! larger statements). Progress is counted in puts: a put is *committed* once the transaction
//! that held it committed. `flush` (and with it the default `pre_commit`) waits until every put
//! so far is committed, so consumer offsets never cover a row that is not in the table.
//!
//! Failures that may pass are retried `max.retries` times `retry.backoff.ms` apart, reconnecting
//! as needed, inside the job. A write that still fails stops the job: nothing after it is
//! written, and the next `put` or `flush` returns the error (never retriable, since the records
//! at fault came from earlier puts the worker would not redeliver; the task fails and restarts
//! from the last committed offsets).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_api::{ConnectError, ErrorKind, Result, SinkRecord};
use tokio::sync::{mpsc, watch};

use super::writer::{Batch, Writer};
use crate::config::SinkSettings;
use crate::db::Db;

/// Puts that may wait in the queue while a transaction runs: enough to fill the next one at
/// `batch.size` with the worker's default 500-record polls, bounded so memory stays small.
const QUEUE_PUTS: usize = 8;

/// The Kafka positions of a group of records: (topic, partition) → (first offset, last offset).
#[derive(Debug, Default, Clone)]
pub(crate) struct Origin(BTreeMap<(String, i32), (i64, i64)>);

impl Origin {
    /// The positions of `records`.
    pub(crate) fn of(records: &[SinkRecord]) -> Origin {
        let mut o = Origin::default();
        for r in records {
            let at = r.kafka_offset();
            o.add(&r.record.topic, r.kafka_partition(), at, at);
        }
        o
    }

    fn add(&mut self, topic: &str, partition: i32, first: i64, last: i64) {
        self.0
            .entry((topic.to_owned(), partition))
            .and_modify(|(lo, hi)| {
                *lo = (*lo).min(first);
                *hi = (*hi).max(last);
            })
            .or_insert((first, last));
    }

    fn merge(&mut self, other: &Origin) {
        for ((t, p), (lo, hi)) in &other.0 {
            self.add(t, *p, *lo, *hi);
        }
    }
}

impl std::fmt::Display for Origin {
    /// `orders-0 offsets 10..509, orders-1 offsets 3..3`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, ((t, p), (lo, hi))) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{t}-{p} offsets {lo}..{hi}")?;
        }
        Ok(())
    }
}

/// One put's planned rows.
#[derive(Debug)]
struct Work {
    seq: u64,
    records: usize,
    origin: Origin,
    batches: Vec<Batch>,
}

/// What the job reports: the last committed put, and whether it stopped on an error.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    committed: u64,
    failed: bool,
}

/// The task's side of the background writer.
#[derive(Debug)]
pub(crate) struct Pipeline {
    queue: Option<mpsc::Sender<Work>>,
    progress: watch::Receiver<Progress>,
    /// The error the job stopped on, taken by the first `put`/`flush` that sees it.
    error: Arc<Mutex<Option<ConnectError>>>,
    /// Puts queued so far.
    sent: u64,
    job: Option<tokio::task::JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the job on `db`.
    pub(crate) fn start(settings: SinkSettings, db: Db) -> Pipeline {
        let (tx, rx) = mpsc::channel(QUEUE_PUTS);
        let (progress_tx, progress) = watch::channel(Progress::default());
        let error = Arc::new(Mutex::new(None));
        let job = Job {
            settings,
            db: Some(db),
            writer: Writer::default(),
            progress: progress_tx,
            error: Arc::clone(&error),
        };
        Pipeline {
            queue: Some(tx),
            progress,
            error,
            sent: 0,
            job: Some(tokio::spawn(job.run(rx))),
        }
    }

    /// Queues one put's batches; waits only while the queue is full. Fails with the job's error
    /// if it stopped.
    pub(crate) async fn submit(
        &mut self,
        records: usize,
        origin: Origin,
        batches: Vec<Batch>,
    ) -> Result<()> {
        self.check()?;
        let work = Work {
            seq: self.sent + 1,
            records,
            origin,
            batches,
        };
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| ConnectError::internal("JDBC sink put after stop"))?;
        if queue.send(work).await.is_err() {
            // The job ended (it stopped on an error after `check`).
            self.check()?;
            return Err(ConnectError::internal(
                "JDBC sink writer ended unexpectedly",
            ));
        }
        self.sent += 1;
        Ok(())
    }

    /// Waits until every queued put is committed.
    pub(crate) async fn drain(&mut self) -> Result<()> {
        let sent = self.sent;
        let seen = self
            .progress
            .wait_for(|p| p.failed || p.committed >= sent)
            .await
            .map(|p| *p);
        match seen {
            Ok(p) if !p.failed => Ok(()),
            _ => {
                self.check()?;
                Err(ConnectError::internal(
                    "JDBC sink writer ended before committing what was put",
                ))
            }
        }
    }

    /// The job's error, if it stopped on one (once; later calls get a short reminder).
    fn check(&self) -> Result<()> {
        if !self.progress.borrow().failed {
            return Ok(());
        }
        match self.error.lock().expect("error slot").take() {
            Some(e) => Err(e),
            None => Err(ConnectError::external(
                "the JDBC sink writer stopped on an earlier error (reported before)",
            )),
        }
    }

    /// Lets the job write what is queued, then ends it and closes the connection.
    pub(crate) async fn stop(&mut self) {
        self.queue = None;
        if let Some(job) = self.job.take() {
            if let Err(e) = job.await {
                tracing::warn!("JDBC sink writer ended abnormally: {e}");
            }
        }
    }
}

/// The job's side: owns the connection.
struct Job {
    settings: SinkSettings,
    db: Option<Db>,
    writer: Writer,
    progress: watch::Sender<Progress>,
    error: Arc<Mutex<Option<ConnectError>>>,
}

impl Job {
    async fn run(mut self, mut queue: mpsc::Receiver<Work>) {
        while let Some(first) = queue.recv().await {
            let mut works = vec![first];
            let mut rows = works[0].records;
            while rows < self.settings.batch_size {
                match queue.try_recv() {
                    Ok(w) => {
                        rows += w.records;
                        works.push(w);
                    }
                    Err(_) => break,
                }
            }
            let last = works.last().map_or(0, |w| w.seq);
            let mut origin = Origin::default();
            let mut batches = Vec::new();
            for w in works {
                origin.merge(&w.origin);
                append(&mut batches, w.batches);
            }
            match self.write(&batches).await {
                Ok(()) => self.progress.send_modify(|p| p.committed = last),
                Err(e) => {
                    let e = ConnectError::new(
                        e.kind(),
                        format!("writing {rows} records ({origin}) to the database failed"),
                    )
                    .with_source(e);
                    *self.error.lock().expect("error slot") = Some(e);
                    self.progress.send_modify(|p| p.failed = true);
                    return;
                }
            }
        }
    }

    /// Writes `batches` in one transaction, retrying what may pass.
    async fn write(&mut self, batches: &[Batch]) -> Result<()> {
        let Job {
            settings: s,
            db: conn,
            writer,
            ..
        } = self;
        let mut attempt = 0;
        loop {
            let result = async {
                if conn.is_none() {
                    *conn = Some(Db::connect(&s.connection).await?);
                }
                let db = conn.as_mut().expect("connected above");
                writer.write(db, s, batches).await
            }
            .await;
            let e = match result {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if matches!(e.kind(), ErrorKind::Data | ErrorKind::Config) || attempt >= s.max_retries {
                return Err(if attempt > 0 {
                    e.context(format!("after {attempt} retries"))
                } else {
                    e
                });
            }
            attempt += 1;
            tracing::warn!(
                "writing to the database failed (attempt {attempt} of {}), retrying in {} ms: {e}",
                s.max_retries + 1,
                s.retry_backoff_ms
            );
            writer.forget();
            if let Some(db) = conn.as_mut() {
                if !db.is_alive().await {
                    *conn = None;
                }
            }
            tokio::time::sleep(Duration::from_millis(s.retry_backoff_ms)).await;
        }
    }
}

/// Appends `more` to `batches`, joining a batch onto the last one when they go to the same table
/// with the same columns and operation (one larger statement instead of two).
fn append(batches: &mut Vec<Batch>, more: Vec<Batch>) {
    for b in more {
        match batches.last_mut() {
            Some(last)
                if last.table == b.table
                    && last.op == b.op
                    && Arc::ptr_eq(&last.fields, &b.fields) =>
            {
                last.rows.extend(b.rows)
            }
            _ => batches.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_names_each_partition_range() {
        let mut a = Origin::default();
        a.add("orders", 0, 10, 12);
        a.add("orders", 1, 3, 3);
        let mut b = Origin::default();
        b.add("orders", 0, 13, 509);
        b.add("audit", 0, 7, 7);
        a.merge(&b);
        assert_eq!(
            a.to_string(),
            "audit-0 offsets 7..7, orders-0 offsets 10..509, orders-1 offsets 3..3"
        );
    }
}
