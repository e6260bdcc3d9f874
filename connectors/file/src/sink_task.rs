//! `FileStreamSinkTask`: appends each record's value as a line (Java `println(record.value())`).
//!
//! `put` formats a batch into one reused byte buffer and hands it to a large `BufWriter` over a
//! `tokio::fs::File` (writes run on tokio's blocking pool, never on the reactor). `flush` writes the
//! buffer out and `fsync`s the data, so the consumer offsets committed after it are durable.

use async_trait::async_trait;
use ferry_api::{
    ConnectError, Props, Result, SinkRecord, SinkTask, SinkTaskContext, TopicPartitionOffsets,
};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

use crate::config::SinkSettings;
use crate::java_text::write_java_text;

/// Capacity of the write buffer.
const WRITE_BUFFER: usize = 1 << 20;

/// Where lines go.
#[derive(Debug)]
enum Output {
    File(BufWriter<tokio::fs::File>),
    Stdout(BufWriter<tokio::io::Stdout>),
}

/// Kafka's `org.apache.kafka.connect.file.FileStreamSinkTask`.
#[derive(Debug, Default)]
pub struct FileStreamSinkTask {
    filename: Option<String>,
    output: Option<Output>,
    /// The current batch's text, reused across `put`s.
    scratch: Vec<u8>,
}

impl FileStreamSinkTask {
    /// A task; configured by `start`.
    pub fn new() -> Self {
        FileStreamSinkTask::default()
    }

    fn log_name(&self) -> &str {
        self.filename.as_deref().unwrap_or("stdout")
    }

    fn io_error(&self, action: &str, e: std::io::Error) -> ConnectError {
        ConnectError::from(e).context(format!("Couldn't {action} {}", self.log_name()))
    }

    fn writer(&mut self) -> Result<&mut (dyn AsyncWrite + Send + Unpin)> {
        match self.output.as_mut() {
            Some(Output::File(w)) => Ok(w),
            Some(Output::Stdout(w)) => Ok(w),
            None => Err(ConnectError::internal(
                "FileStreamSinkTask used before start or after stop",
            )),
        }
    }

    /// Writes out the buffer and, for a file, makes its data durable.
    async fn flush_durably(&mut self) -> Result<()> {
        let result = match self.output.as_mut() {
            Some(Output::File(w)) => match w.flush().await {
                Ok(()) => w.get_ref().sync_data().await,
                Err(e) => Err(e),
            },
            Some(Output::Stdout(w)) => w.flush().await,
            None => Ok(()),
        };
        result.map_err(|e| self.io_error("flush", e))
    }
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    async fn start(&mut self, props: &Props, _context: SinkTaskContext) -> Result<()> {
        let settings = SinkSettings::parse(props)?;
        self.output = Some(match &settings.file {
            None => Output::Stdout(BufWriter::with_capacity(WRITE_BUFFER, tokio::io::stdout())),
            Some(path) => {
                let file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .map_err(|e| {
                        ConnectError::from(e).context(format!(
                            "Couldn't find or create file '{path}' for FileStreamSinkTask"
                        ))
                    })?;
                Output::File(BufWriter::with_capacity(WRITE_BUFFER, file))
            }
        });
        self.filename = settings.file;
        Ok(())
    }

    async fn put(&mut self, records: Vec<SinkRecord>) -> Result<()> {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        for record in &records {
            write_java_text(&mut text, &record.record.value);
            text.push(b'\n');
        }
        tracing::trace!(
            file = self.log_name(),
            records = records.len(),
            "writing lines"
        );
        let written = self.writer()?.write_all(&text).await;
        self.scratch = text;
        written.map_err(|e| self.io_error("write to", e))
    }

    async fn flush(&mut self, _offsets: &TopicPartitionOffsets) -> Result<()> {
        tracing::trace!(file = self.log_name(), "flushing output stream");
        self.flush_durably().await
    }

    async fn stop(&mut self) -> Result<()> {
        let flushed = self.flush_durably().await;
        self.output = None;
        flushed
    }
}
