//! `FileStreamSourceConnector`: one task reading one file (or stdin).

use std::sync::Arc;

use async_trait::async_trait;
use ferry_api::{
    ConfigDef, ConnectError, Connector, ConnectorContext, OffsetValue, Props, Result, SourceMap,
};

use crate::config::{source_config_def, SourceSettings, FILE_CONFIG};
use crate::source_task::{FILENAME_FIELD, POSITION_FIELD};

/// Kafka's `org.apache.kafka.connect.file.FileStreamSourceConnector`.
#[derive(Debug, Default)]
pub struct FileStreamSourceConnector {
    props: Props,
}

impl FileStreamSourceConnector {
    /// A connector; configured by `start`.
    pub fn new() -> Self {
        FileStreamSourceConnector::default()
    }
}

#[async_trait]
impl Connector for FileStreamSourceConnector {
    fn config_def(&self) -> ConfigDef {
        source_config_def()
    }

    async fn start(&mut self, props: &Props, _context: Arc<dyn ConnectorContext>) -> Result<()> {
        let settings = SourceSettings::parse(props)?;
        let from = settings.file.as_deref().unwrap_or("standard input");
        tracing::info!("Starting file source connector reading from {from}");
        self.props = props.clone();
        Ok(())
    }

    /// Exactly one task, whatever `tasks.max` says: only one reader of a stream makes sense.
    async fn task_configs(&mut self, _max_tasks: usize) -> Result<Vec<Props>> {
        Ok(vec![self.props.clone()])
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Kafka's `FileStreamSourceConnector.alterOffsets` checks (KIP-875), for
/// `PATCH`/`DELETE /connectors/{name}/offsets`: `offsets` maps source partitions to new offsets
/// (`None` resets one). The task validates the position value itself when it starts.
pub fn validate_offset_alteration(
    connector_config: &Props,
    offsets: &[(SourceMap, Option<SourceMap>)],
) -> Result<()> {
    let settings = crate::config::source_config_def().parse(connector_config)?;
    let Some(filename) = settings.string(FILE_CONFIG).filter(|f| !f.is_empty()) else {
        return Err(ConnectError::external(format!(
            "Offsets cannot be modified if the '{FILE_CONFIG}' configuration is unspecified"
        )));
    };
    let [(partition, offset)] = offsets else {
        if offsets.is_empty() {
            return Ok(());
        }
        return Err(ConnectError::external(
            "The FileStreamSourceConnector supports only a single source partition / file",
        ));
    };
    match partition.get(FILENAME_FIELD) {
        None => {
            return Err(ConnectError::external(format!(
                "The partition should contain the key '{FILENAME_FIELD}'"
            )))
        }
        Some(OffsetValue::String(f)) if f == filename => {}
        Some(_) => {
            return Err(ConnectError::external(format!(
                "The value for the '{FILENAME_FIELD}' key in the partition should match the \
                 configured value for the connector configuration '{FILE_CONFIG}'"
            )))
        }
    }
    // Java calls `offset.containsKey` on a null (reset) offset and fails with an NPE; a reset of
    // the one partition is accepted here.
    if let Some(offset) = offset {
        if !offset.contains_key(POSITION_FIELD) {
            return Err(ConnectError::external(format!(
                "The offset should contain the key '{POSITION_FIELD}'"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Alteration = Vec<(SourceMap, Option<SourceMap>)>;

    fn map(k: &str, v: OffsetValue) -> SourceMap {
        SourceMap::from([(k.to_owned(), v)])
    }

    #[test]
    fn offset_alteration_follows_kafka() {
        let config = Props::from([
            ("file".to_owned(), "/data/in.txt".to_owned()),
            ("topic".to_owned(), "t".to_owned()),
        ]);
        let part = map("filename", "/data/in.txt".into());
        let pos = map("position", 10i64.into());
        assert!(validate_offset_alteration(&config, &[]).is_ok());
        assert!(validate_offset_alteration(&config, &[(part.clone(), Some(pos.clone()))]).is_ok());
        assert!(validate_offset_alteration(&config, &[(part.clone(), None)]).is_ok());
        let table: Vec<(Props, Alteration, &str)> = vec![
            (
                Props::from([("topic".to_owned(), "t".to_owned())]),
                vec![],
                "Offsets cannot be modified if the 'file' configuration is unspecified",
            ),
            (
                config.clone(),
                vec![(part.clone(), None), (map("filename", "/b".into()), None)],
                "The FileStreamSourceConnector supports only a single source partition / file",
            ),
            (
                config.clone(),
                vec![(map("file", "/data/in.txt".into()), None)],
                "The partition should contain the key 'filename'",
            ),
            (
                config.clone(),
                vec![(map("filename", "/other".into()), None)],
                "The value for the 'filename' key in the partition should match the configured \
                 value for the connector configuration 'file'",
            ),
            (
                config.clone(),
                vec![(part.clone(), Some(map("pos", 1i64.into())))],
                "The offset should contain the key 'position'",
            ),
        ];
        for (props, offsets, message) in table {
            let err = validate_offset_alteration(&props, &offsets).unwrap_err();
            assert_eq!(err.message(), message);
        }
    }
}
