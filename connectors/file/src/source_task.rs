//! `FileStreamSourceTask`: reads lines from a file (or stdin) and returns each as a record.
//!
//! Record shape (Kafka's): no key; value schema STRING (required, as `Schema.STRING_SCHEMA`); value
//! the line without its terminator; timestamp the poll's wall clock; source partition
//! `{"filename": <file>}` and source offset `{"position": <byte offset after the line>}`. For stdin
//! both values are null, as Kafka tracks no position there.
//!
//! Beyond Kafka: the file may be truncated (shorter than the position → warn and restart at 0) or
//! rotated (another inode behind the name → info and read the new file from 0). Kafka measures the
//! position in UTF-16 chars, which equals bytes only for ASCII; Ferry counts bytes, so a resumed
//! task seeks exactly to the end of the last committed line. A file truncated and regrown past the
//! old position between two looks is not noticed (as with `tail -F`).
//!
//! Cancel safety: lines are taken from the buffer and the position advanced without awaiting,
//! right before `poll` returns; every await (`tokio::fs` reads keep an interrupted read's bytes for
//! the next call, opens run whole in `spawn_blocking`) leaves the task's state as it was.

use std::io::{self, Seek, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use ferry_api::{
    ConnectError, ConnectRecord, OffsetStorageReader, OffsetValue, Props, Result, Schema,
    SchemaRef, SourceMap, SourceRecord, SourceTask, SourceTaskContext, Value,
};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use crate::config::SourceSettings;
use crate::lines::{LineBuffer, CHUNK};

/// Source partition key.
pub const FILENAME_FIELD: &str = "filename";
/// Source offset key.
pub const POSITION_FIELD: &str = "position";

/// How long `poll` waits for new data before returning an empty batch.
const IDLE_WAIT: Duration = Duration::from_millis(200);
/// How often the file is looked at again while waiting.
const RECHECK: Duration = Duration::from_millis(25);

/// Where lines come from.
#[derive(Debug)]
enum Input {
    Stdin(tokio::io::Stdin),
    File {
        file: tokio::fs::File,
        /// Device and inode at open, to notice the name now pointing to another file.
        id: Option<FileId>,
    },
}

type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<FileId> {
    None
}

/// Kafka's `org.apache.kafka.connect.file.FileStreamSourceTask`.
#[derive(Debug, Default)]
pub struct FileStreamSourceTask {
    settings: Option<SourceSettings>,
    offsets: Option<Arc<dyn OffsetStorageReader>>,
    /// `{"filename": ...}`, built once and cloned into each record.
    partition: SourceMap,
    schema: Option<SchemaRef>,
    input: Option<Input>,
    lines: LineBuffer,
    /// File offset of the first unconsumed buffered byte.
    position: i64,
    /// Whether the file was opened before (the committed offset applies to the first open only).
    opened_before: bool,
    /// The last open failure logged, so a missing file warns once rather than every poll.
    last_open_error: Option<io::ErrorKind>,
}

impl FileStreamSourceTask {
    /// A task; configured by `start`.
    pub fn new() -> Self {
        FileStreamSourceTask::default()
    }

    fn settings(&self) -> Result<&SourceSettings> {
        self.settings
            .as_ref()
            .ok_or_else(|| ConnectError::internal("FileStreamSourceTask polled before start"))
    }

    fn log_name(&self) -> &str {
        match self.settings.as_ref().and_then(|s| s.file.as_deref()) {
            Some(f) => f,
            None => "stdin",
        }
    }

    /// The committed position of the file, validated as Kafka does.
    fn committed_position(&self, file: &str) -> Result<i64> {
        let Some(reader) = &self.offsets else {
            return Ok(0);
        };
        let Some(offset) = reader.offset(&self.partition) else {
            return Ok(0);
        };
        match offset.get(POSITION_FIELD) {
            None | Some(OffsetValue::Null) => Ok(0),
            Some(OffsetValue::Int(p)) if *p >= 0 => {
                tracing::debug!(file, position = p, "found previous offset, skipping to it");
                Ok(*p)
            }
            Some(other) => Err(ConnectError::data(format!(
                "Offset position is the incorrect type: {other:?} for file {file}"
            ))),
        }
    }

    /// Opens the input if it is not open. `Ok(false)` when the file cannot be opened yet (it may
    /// not exist yet); Kafka waits and retries in that case, and so do we.
    async fn ensure_open(&mut self) -> Result<bool> {
        if self.input.is_some() {
            return Ok(true);
        }
        let Some(path) = self.settings()?.file.clone() else {
            self.input = Some(Input::Stdin(tokio::io::stdin()));
            return Ok(true);
        };
        let start_at = if self.opened_before {
            0
        } else {
            self.committed_position(&path)?
        };
        match open_at(path.clone(), start_at).await {
            Ok((file, id, position)) => {
                tracing::debug!(file = %path, position, "opened file for reading");
                self.input = Some(Input::File { file, id });
                self.lines.clear();
                self.position = position;
                self.opened_before = true;
                self.last_open_error = None;
                Ok(true)
            }
            Err(e) => {
                if self.last_open_error != Some(e.kind()) {
                    tracing::warn!(
                        file = %path,
                        error = %e,
                        "Couldn't open file for FileStreamSourceTask, waiting for it to be created"
                    );
                    self.last_open_error = Some(e.kind());
                }
                Ok(false)
            }
        }
    }

    /// Reads the next chunk into the buffer; 0 at end of input.
    async fn fill(&mut self) -> Result<usize> {
        let buf = self.lines.spare();
        let n = match self.input.as_mut() {
            Some(Input::File { file, .. }) => file.read_buf(buf).await,
            Some(Input::Stdin(stdin)) => stdin.read_buf(buf).await,
            None => Ok(0),
        };
        n.map_err(|e| {
            ConnectError::from(e).context(format!("Couldn't read from {}", self.log_name()))
        })
    }

    /// At end of file: checks whether the file was truncated or replaced, and if so reopens it
    /// from the start. Returns whether it did.
    async fn follow_file(&mut self) -> Result<bool> {
        let Some(Input::File { id, .. }) = &self.input else {
            return Ok(false);
        };
        let open_id = *id;
        let path = self.settings()?.file.clone().unwrap_or_default();
        let meta = match tokio::fs::metadata(&path).await {
            Ok(meta) => meta,
            // Renamed away and not recreated yet: keep reading the open file.
            Err(_) => return Ok(false),
        };
        let read_up_to = self.position + self.lines.pending() as i64;
        let rotated = open_id.is_some() && file_id(&meta) != open_id;
        if rotated {
            // A writer may have appended to the old file right before renaming it: drain it first.
            if self.fill().await? > 0 {
                return Ok(true);
            }
            tracing::info!(file = %path, "file was rotated, reading the new file from the start");
        } else if (meta.len() as i64) < read_up_to {
            tracing::warn!(
                file = %path,
                size = meta.len(),
                position = read_up_to,
                "file was truncated, reading it again from the start"
            );
        } else {
            return Ok(false);
        }
        if self.lines.pending() > 0 {
            tracing::warn!(
                file = %path,
                bytes = self.lines.pending(),
                "dropping an unterminated last line of the previous file"
            );
        }
        let (file, id, position) = open_at(path, 0)
            .await
            .map_err(|e| ConnectError::from(e).context("Couldn't reopen file"))?;
        self.input = Some(Input::File { file, id });
        self.lines.clear();
        self.position = position;
        Ok(true)
    }

    /// Takes up to `batch.size` complete lines as records. Does not await.
    fn take_batch(&mut self) -> Vec<SourceRecord> {
        let Some(settings) = &self.settings else {
            return Vec::new();
        };
        let schema = self.schema.get_or_insert_with(Schema::string);
        let tracks_position = settings.file.is_some();
        let timestamp = now_millis();
        let mut records = Vec::new();
        let mut position = self.position;
        self.lines
            .take_lines(settings.batch_size, |line, consumed| {
                position += consumed as i64;
                let offset = if tracks_position {
                    OffsetValue::Int(position)
                } else {
                    OffsetValue::Null
                };
                // Java decodes with UTF-8 and replaces malformed bytes; valid lines cost one copy.
                let value = String::from_utf8_lossy(line).into_owned();
                records.push(SourceRecord {
                    source_partition: self.partition.clone(),
                    source_offset: SourceMap::from([(POSITION_FIELD.to_owned(), offset)]),
                    record: ConnectRecord {
                        timestamp: Some(timestamp),
                        ..ConnectRecord::new(
                            settings.topic.clone(),
                            Some(schema.clone()),
                            Value::String(value),
                        )
                    },
                });
            });
        self.position = position;
        records
    }
}

/// Opens `path` and seeks to `position` in one blocking call (so cancelling leaves nothing half
/// done). A position past the end means the file was truncated while we were away: start at 0.
async fn open_at(
    path: String,
    position: i64,
) -> io::Result<(tokio::fs::File, Option<FileId>, i64)> {
    let (file, id, position) = tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path)?;
        let meta = file.metadata()?;
        let mut position = position;
        if position as u64 > meta.len() {
            tracing::warn!(
                file = %path,
                size = meta.len(),
                position,
                "file is shorter than the committed position (truncated?), reading from the start"
            );
            position = 0;
        }
        file.seek(SeekFrom::Start(position as u64))?;
        Ok::<_, io::Error>((file, file_id(&meta), position))
    })
    .await
    .map_err(io::Error::other)??;
    let mut file = tokio::fs::File::from_std(file);
    file.set_max_buf_size(CHUNK);
    Ok((file, id, position))
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[async_trait]
impl SourceTask for FileStreamSourceTask {
    async fn start(&mut self, props: &Props, context: SourceTaskContext) -> Result<()> {
        let settings = SourceSettings::parse(props)?;
        let filename = match &settings.file {
            Some(f) => OffsetValue::String(f.clone()),
            None => OffsetValue::Null,
        };
        self.partition = SourceMap::from([(FILENAME_FIELD.to_owned(), filename)]);
        self.offsets = Some(context.offsets);
        self.settings = Some(settings);
        self.schema = Some(Schema::string());
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let deadline = Instant::now() + IDLE_WAIT;
        if !self.ensure_open().await? {
            tokio::time::sleep_until(deadline).await;
            return Ok(Vec::new());
        }
        loop {
            let batch = self.take_batch();
            if !batch.is_empty() {
                return Ok(batch);
            }
            if self.fill().await? > 0 || self.follow_file().await? {
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            tokio::time::sleep((deadline - now).min(RECHECK)).await;
        }
    }

    async fn stop(&mut self) -> Result<()> {
        tracing::trace!(file = self.log_name(), "stopping");
        self.input = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use super::*;

    /// An offset store holding fixed committed offsets.
    #[derive(Debug, Default)]
    struct FixedOffsets(Vec<(SourceMap, SourceMap)>);

    impl OffsetStorageReader for FixedOffsets {
        fn offset(&self, partition: &SourceMap) -> Option<SourceMap> {
            self.0
                .iter()
                .find(|(p, _)| p == partition)
                .map(|(_, o)| o.clone())
        }
    }

    fn partition(path: &str) -> SourceMap {
        SourceMap::from([(FILENAME_FIELD.to_owned(), OffsetValue::from(path))])
    }

    fn committed(path: &str, position: OffsetValue) -> FixedOffsets {
        FixedOffsets(vec![(
            partition(path),
            SourceMap::from([(POSITION_FIELD.to_owned(), position)]),
        )])
    }

    async fn started(
        path: &Path,
        extra: &[(&str, &str)],
        offsets: FixedOffsets,
    ) -> FileStreamSourceTask {
        let mut props = Props::from([
            ("file".to_owned(), path.display().to_string()),
            ("topic".to_owned(), "lines".to_owned()),
        ]);
        props.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut task = FileStreamSourceTask::new();
        let context = SourceTaskContext {
            offsets: Arc::new(offsets),
            task_id: 0,
        };
        task.start(&props, context).await.unwrap();
        task
    }

    fn append(path: &Path, bytes: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(bytes).unwrap();
    }

    /// (line, position) of each record.
    fn lines_of(records: &[SourceRecord]) -> Vec<(String, i64)> {
        records
            .iter()
            .map(|r| {
                let line = r.record.value.as_str().unwrap().to_owned();
                let pos = r.source_offset[POSITION_FIELD].as_i64().unwrap();
                (line, pos)
            })
            .collect()
    }

    /// Polls until `n` records arrived, failing after a generous deadline.
    async fn poll_n(task: &mut FileStreamSourceTask, n: usize) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        let collect = async {
            while out.len() < n {
                out.extend(lines_of(&task.poll().await.unwrap()));
            }
        };
        tokio::time::timeout(Duration::from_secs(20), collect)
            .await
            .expect("records did not arrive in time");
        out
    }

    fn owned(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
        expected.iter().map(|(l, p)| (l.to_string(), *p)).collect()
    }

    #[tokio::test]
    async fn reads_lines_with_every_terminator_and_holds_back_a_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        append(&path, b"a\nbb\r\nc\rd\npartial");
        let mut task = started(&path, &[], FixedOffsets::default()).await;

        let records = task.poll().await.unwrap();
        assert_eq!(
            lines_of(&records),
            owned(&[("a", 2), ("bb", 6), ("c", 8), ("d", 10)])
        );
        let first = &records[0];
        assert_eq!(
            first.source_partition,
            partition(&path.display().to_string())
        );
        assert_eq!(first.record.topic, "lines");
        assert_eq!(first.record.kafka_partition, None);
        assert_eq!(first.record.key, Value::Null);
        assert_eq!(first.record.key_schema, None);
        assert_eq!(first.record.value_schema, Some(Schema::string()));
        assert!(first.record.timestamp.is_some());

        assert!(
            task.poll().await.unwrap().is_empty(),
            "partial line emitted"
        );
        append(&path, b"\n");
        assert_eq!(poll_n(&mut task, 1).await, owned(&[("partial", 18)]));
    }

    #[tokio::test]
    async fn resumes_from_the_committed_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        append(&path, b"one\ntwo\nthree\n");
        let name = path.display().to_string();
        let mut task = started(&path, &[], committed(&name, 4i64.into())).await;
        assert_eq!(
            poll_n(&mut task, 2).await,
            owned(&[("two", 8), ("three", 14)])
        );
    }

    #[tokio::test]
    async fn rejects_a_position_of_the_wrong_type() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        append(&path, b"x\n");
        let name = path.display().to_string();
        let mut task = started(&path, &[], committed(&name, "4".into())).await;
        let err = task.poll().await.unwrap_err();
        assert!(
            err.message()
                .starts_with("Offset position is the incorrect type"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_committed_position_past_the_end_restarts_at_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        append(&path, b"new\n");
        let name = path.display().to_string();
        let mut task = started(&path, &[], committed(&name, 100i64.into())).await;
        assert_eq!(poll_n(&mut task, 1).await, owned(&[("new", 4)]));
    }

    #[tokio::test]
    async fn batch_size_bounds_each_poll() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        append(&path, b"1\n2\n3\n4\n5\n");
        let mut task = started(&path, &[("batch.size", "2")], FixedOffsets::default()).await;
        let mut batches = Vec::new();
        for _ in 0..3 {
            batches.push(lines_of(&task.poll().await.unwrap()));
        }
        assert_eq!(
            batches,
            [
                owned(&[("1", 2), ("2", 4)]),
                owned(&[("3", 6), ("4", 8)]),
                owned(&[("5", 10)])
            ]
        );
    }

    #[tokio::test]
    async fn truncation_restarts_from_the_beginning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        append(&path, b"aaaa\nbbbb\n");
        let mut task = started(&path, &[], FixedOffsets::default()).await;
        assert_eq!(
            poll_n(&mut task, 2).await,
            owned(&[("aaaa", 5), ("bbbb", 10)])
        );
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(0).unwrap();
        drop(f);
        append(&path, b"c\n");
        assert_eq!(poll_n(&mut task, 1).await, owned(&[("c", 2)]));
    }

    #[tokio::test]
    async fn rotation_reads_the_new_file_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        append(&path, b"old\n");
        let mut task = started(&path, &[], FixedOffsets::default()).await;
        assert_eq!(poll_n(&mut task, 1).await, owned(&[("old", 4)]));
        // The writer appends a last line, then rotates; the new file is longer than the old one.
        append(&path, b"last\n");
        std::fs::rename(&path, dir.path().join("in.txt.1")).unwrap();
        append(&path, b"new-1\nnew-2\n");
        assert_eq!(
            poll_n(&mut task, 3).await,
            owned(&[("last", 9), ("new-1", 6), ("new-2", 12)])
        );
    }

    #[tokio::test]
    async fn waits_for_a_file_that_does_not_exist_yet() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.txt");
        let mut task = started(&path, &[], FixedOffsets::default()).await;
        assert!(task.poll().await.unwrap().is_empty());
        append(&path, b"here\n");
        assert_eq!(poll_n(&mut task, 1).await, owned(&[("here", 5)]));
    }

    #[tokio::test]
    async fn replaces_invalid_utf8_like_java() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        append(&path, b"caf\xc3\xa9 \xff!\n");
        let mut task = started(&path, &[], FixedOffsets::default()).await;
        assert_eq!(poll_n(&mut task, 1).await, owned(&[("café \u{fffd}!", 9)]));
    }

    #[tokio::test]
    async fn cancelled_polls_lose_no_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.txt");
        let mut expected = Vec::new();
        let mut pos = 0;
        for i in 0..5000 {
            let line = format!("line-{i}");
            pos += line.len() as i64 + 1;
            append(&path, format!("{line}\n").as_bytes());
            expected.push((line, pos));
        }
        let mut task = started(&path, &[("batch.size", "7")], FixedOffsets::default()).await;
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while got.len() < expected.len() && Instant::now() < deadline {
            // Every other poll is dropped at its first pending await (a poll that completes
            // without waiting returns its records, which count).
            if got.len() % 2 == 0 {
                if let Ok(records) = tokio::time::timeout(Duration::ZERO, task.poll()).await {
                    got.extend(lines_of(&records.unwrap()));
                }
            }
            got.extend(lines_of(&task.poll().await.unwrap()));
        }
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "lines lost, repeated or reordered");
    }
}
