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

    async fn put(&mut self, records: &[SinkRecord]) -> Result<()> {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        for record in records {
            write_java_text(&mut text, &record.record.value);
            text.push(b'\n');
        }
        tracing::trace!(
            file = self.log_name(),
            records = records.len(),
            "writing lines"
        );
        // Each batch reaches the file at once (one write), as Kafka's sink's PrintStream does;
        // `flush` adds the fsync that makes it durable before offsets are committed.
        let writer = self.writer()?;
        let mut written = writer.write_all(&text).await;
        if written.is_ok() {
            written = writer.flush().await;
        }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ferry_api::{ConnectRecord, Schema, SchemaBuilder, Struct, Value};

    use super::*;

    fn record(offset: i64, value: Value) -> SinkRecord {
        let mut record = ConnectRecord::new("in", None, value);
        record.kafka_offset = Some(offset);
        SinkRecord {
            record,
            original_topic: "in".into(),
            original_kafka_partition: 0,
            original_kafka_offset: offset,
        }
    }

    async fn started(path: &Path) -> FileStreamSinkTask {
        let props = Props::from([("file".to_owned(), path.display().to_string())]);
        let mut task = FileStreamSinkTask::new();
        task.start(&props, SinkTaskContext::new(0, None))
            .await
            .unwrap();
        task
    }

    #[tokio::test]
    async fn writes_each_value_as_a_line_per_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, b"existing\n").unwrap();
        let mut task = started(&path).await;

        let schema = SchemaBuilder::struct_()
            .field("id", Schema::int32())
            .field("name", Schema::optional_string())
            .build();
        let mut row = Struct::new(schema);
        row.put("id", 1i32).unwrap();
        row.put("name", "x").unwrap();
        let batch = vec![
            record(0, "first line".into()),
            record(1, Value::Null),
            record(2, 42i64.into()),
            record(3, row.into()),
        ];
        task.put(&batch).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "existing\nfirst line\nnull\n42\nStruct{id=1,name=x}\n",
            "each batch is written at once"
        );
        task.flush(&TopicPartitionOffsets::new()).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "existing\nfirst line\nnull\n42\nStruct{id=1,name=x}\n"
        );
        task.put(&[record(4, "after".into())]).await.unwrap();
        task.stop().await.unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .ends_with("Struct{id=1,name=x}\nafter\n"));
    }

    #[tokio::test]
    async fn tasks_append_to_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let mut a = started(&path).await;
        let mut b = started(&path).await;
        a.put(&[record(0, "a0".into()), record(1, "a1".into())])
            .await
            .unwrap();
        a.flush(&TopicPartitionOffsets::new()).await.unwrap();
        b.put(&[record(0, "b0".into())]).await.unwrap();
        b.flush(&TopicPartitionOffsets::new()).await.unwrap();
        a.put(&[record(2, "a2".into())]).await.unwrap();
        a.stop().await.unwrap();
        b.stop().await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a0\na1\nb0\na2\n");
    }

    #[tokio::test]
    async fn an_unwritable_file_fails_start_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("out.txt");
        let props = Props::from([("file".to_owned(), path.display().to_string())]);
        let err = FileStreamSinkTask::new()
            .start(&props, SinkTaskContext::new(0, None))
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            format!(
                "Couldn't find or create file '{}' for FileStreamSinkTask: {}",
                path.display(),
                "No such file or directory (os error 2)"
            )
        );
    }
}
