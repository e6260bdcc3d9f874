//! The offsets REST API (KIP-875, COMPAT §1.7) once a herder has found the connector: reading,
//! altering and resetting source offsets in an offset store and sink offsets in the consumer
//! group, the same for the standalone and the distributed herder (which differ only in where
//! the connector's config, target state and offset store come from).

use std::sync::Arc;

use ferry_api::{ConnectorType, OffsetValue, Props, SourceMap};

use super::{ConnectorOffset, ConnectorOffsets, HerderError, HerderResult, TargetState};
use crate::offset_store::{OffsetBackingStore, OffsetWrite};
use crate::sink_offsets::SinkOffsets;

/// Connect's answer when offsets are changed on a connector that is not STOPPED.
pub fn require_stopped(target: Option<TargetState>) -> HerderResult<()> {
    if target == Some(TargetState::Stopped) {
        return Ok(());
    }
    Err(HerderError::BadRequest(
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{connector}/stop' endpoint".into(),
    ))
}

/// Where a connector's offsets live: its source offset store and the sink consumer groups.
#[derive(Debug)]
pub struct OffsetsApi<'a> {
    /// The source offsets (already read up to date by the caller where that needs I/O).
    pub store: Arc<dyn OffsetBackingStore>,
    /// The sink connectors' consumer groups.
    pub sinks: &'a SinkOffsets,
}

impl OffsetsApi<'_> {
    /// `GET /connectors/{c}/offsets`.
    pub async fn get(
        &self,
        name: &str,
        kind: ConnectorType,
        config: &Props,
    ) -> HerderResult<ConnectorOffsets> {
        match kind {
            ConnectorType::Source => Ok(ConnectorOffsets {
                offsets: self
                    .store
                    .connector_offsets(name)
                    .iter()
                    .map(|(p, o)| ConnectorOffset {
                        partition: source_map_to_json(p),
                        offset: Some(source_map_to_json(o)),
                    })
                    .collect(),
            }),
            ConnectorType::Sink => self.sinks.get(name, config).await,
        }
    }

    /// `PATCH /connectors/{c}/offsets` of a STOPPED connector.
    pub async fn alter(
        &self,
        name: &str,
        kind: ConnectorType,
        offsets: &ConnectorOffsets,
    ) -> HerderResult<String> {
        match kind {
            ConnectorType::Source => self.write(name, offset_writes(offsets)?).await?,
            ConnectorType::Sink => self.sinks.alter(name, offsets).await?,
        }
        Ok("The offsets for this connector have been altered successfully".into())
    }

    /// `DELETE /connectors/{c}/offsets` of a STOPPED connector: a tombstone for every known
    /// source partition, or the consumer group's offsets removed.
    pub async fn reset(&self, name: &str, kind: ConnectorType) -> HerderResult<String> {
        match kind {
            ConnectorType::Source => {
                let writes = self
                    .store
                    .connector_offsets(name)
                    .into_iter()
                    .map(|(p, _)| (p, None))
                    .collect();
                self.write(name, writes).await?;
            }
            ConnectorType::Sink => self.sinks.reset(name).await?,
        }
        Ok("The offsets for this connector have been reset successfully".into())
    }

    /// Writes source offsets (a blocking store call, off the reactor).
    async fn write(&self, name: &str, writes: Vec<OffsetWrite>) -> HerderResult<()> {
        let store = self.store.clone();
        let connector = name.to_owned();
        tokio::task::spawn_blocking(move || store.put(&connector, &writes))
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .map_err(|e| HerderError::Internal(format!("Failed to write offsets: {e}")))
    }
}

/// A REST offsets map (`partition` or `offset`) as a source map; only primitive values.
pub fn json_to_source_map(
    map: &serde_json::Map<String, serde_json::Value>,
    what: &str,
) -> HerderResult<SourceMap> {
    map.iter()
        .map(|(k, v)| {
            let ov = match v {
                serde_json::Value::Null => OffsetValue::Null,
                serde_json::Value::Bool(b) => OffsetValue::Bool(*b),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => OffsetValue::Int(i),
                    None => OffsetValue::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                serde_json::Value::String(s) => OffsetValue::String(s.clone()),
                _ => {
                    return Err(HerderError::BadRequest(format!(
                        "The {what} map may only contain primitive values; key '{k}' has {v}"
                    )))
                }
            };
            Ok((k.clone(), ov))
        })
        .collect()
}

/// The offset writes a `PATCH /connectors/{c}/offsets` body asks for (`"offset": null` deletes).
pub fn offset_writes(offsets: &ConnectorOffsets) -> HerderResult<Vec<OffsetWrite>> {
    offsets
        .offsets
        .iter()
        .map(|o| {
            let partition = json_to_source_map(&o.partition, "partition")?;
            let offset = o
                .offset
                .as_ref()
                .map(|m| json_to_source_map(m, "offset"))
                .transpose()?;
            Ok((partition, offset))
        })
        .collect()
}

/// A source map as the REST offsets JSON.
pub fn source_map_to_json(map: &SourceMap) -> serde_json::Map<String, serde_json::Value> {
    map.iter()
        .map(|(k, v)| {
            let j = match v {
                OffsetValue::Null => serde_json::Value::Null,
                OffsetValue::Bool(b) => (*b).into(),
                OffsetValue::Int(i) => (*i).into(),
                OffsetValue::Float(f) => {
                    serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
                }
                OffsetValue::String(s) => s.clone().into(),
            };
            (k.clone(), j)
        })
        .collect()
}
