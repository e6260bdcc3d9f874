//! A minimal Kafka protocol client connection: size-prefixed frames over TCP, one request in
//! flight at a time, correlation ids checked, API versions negotiated once per connection with
//! ApiVersions (the broker's range intersected with what `kafka-protocol` can encode).
//!
//! Only the group-membership APIs are wired up ([`Call`]); librdkafka has no public API for a
//! custom-protocol group member, which is why this exists.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, FindCoordinatorRequest,
    FindCoordinatorResponse, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest,
    JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, RequestHeader, ResponseHeader,
    SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, Message, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A failed exchange with a broker; the message names the broker and the API.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// TCP connect, read or write failed.
    #[error("broker {broker}: {what}: {source}")]
    Io {
        /// host:port.
        broker: String,
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No answer in time.
    #[error("broker {broker}: {api:?} got no response within {timeout:?}")]
    Timeout {
        /// host:port.
        broker: String,
        /// The API.
        api: ApiKey,
        /// The deadline.
        timeout: Duration,
    },
    /// A frame that does not decode, a wrong correlation id, or an unsupported API.
    #[error("broker {broker}: {api:?}: {problem}")]
    Protocol {
        /// host:port.
        broker: String,
        /// The API.
        api: ApiKey,
        /// What is wrong.
        problem: String,
    },
}

/// A request this client can send, with its API key and response type.
pub(crate) trait Call: Encodable + Message {
    /// The API key.
    const KEY: ApiKey;
    /// The response message.
    type Response: Decodable;
}

macro_rules! calls {
    ($($req:ty => $resp:ty, $key:ident;)*) => {$(
        impl Call for $req {
            const KEY: ApiKey = ApiKey::$key;
            type Response = $resp;
        }
    )*};
}

calls! {
    ApiVersionsRequest => ApiVersionsResponse, ApiVersions;
    FindCoordinatorRequest => FindCoordinatorResponse, FindCoordinator;
    JoinGroupRequest => JoinGroupResponse, JoinGroup;
    SyncGroupRequest => SyncGroupResponse, SyncGroup;
    HeartbeatRequest => HeartbeatResponse, Heartbeat;
    LeaveGroupRequest => LeaveGroupResponse, LeaveGroup;
}

/// Largest response frame accepted (a JoinGroup answer with many members' metadata fits easily).
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// One TCP connection to one broker.
#[derive(Debug)]
pub(crate) struct Connection {
    broker: String,
    stream: TcpStream,
    client_id: StrBytes,
    next_correlation: i32,
    /// API key → version to use (the highest both sides support).
    versions: HashMap<i16, i16>,
}

impl Connection {
    /// Connects to `broker` (host:port) and negotiates API versions.
    pub(crate) async fn open(
        broker: &str,
        client_id: &str,
        timeout: Duration,
    ) -> Result<Self, ConnectionError> {
        let io = |what: &str| {
            let broker = broker.to_owned();
            let what = what.to_owned();
            move |source| ConnectionError::Io {
                broker,
                what,
                source,
            }
        };
        let stream = tokio::time::timeout(timeout, TcpStream::connect(broker))
            .await
            .map_err(|_| ConnectionError::Io {
                broker: broker.to_owned(),
                what: "connect".into(),
                source: std::io::ErrorKind::TimedOut.into(),
            })?
            .map_err(io("connect"))?;
        stream.set_nodelay(true).map_err(io("set TCP_NODELAY"))?;
        let mut conn = Connection {
            broker: broker.to_owned(),
            stream,
            client_id: StrBytes::from_string(client_id.to_owned()),
            next_correlation: 0,
            versions: HashMap::new(),
        };
        // ApiVersions v0 is understood by every broker and needs no negotiation itself.
        conn.versions.insert(ApiKey::ApiVersions as i16, 0);
        let answer = conn.call(ApiVersionsRequest::default(), timeout).await?;
        if answer.error_code != 0 {
            return Err(conn.protocol_error(
                ApiKey::ApiVersions,
                format!("error code {}", answer.error_code),
            ));
        }
        conn.versions.clear();
        for (key, ours) in [
            (ApiKey::FindCoordinator, FindCoordinatorRequest::VERSIONS),
            (ApiKey::JoinGroup, JoinGroupRequest::VERSIONS),
            (ApiKey::SyncGroup, SyncGroupRequest::VERSIONS),
            (ApiKey::Heartbeat, HeartbeatRequest::VERSIONS),
            (ApiKey::LeaveGroup, LeaveGroupRequest::VERSIONS),
        ] {
            if let Some(theirs) = answer.api_keys.iter().find(|k| k.api_key == key as i16) {
                let max = ours.max.min(theirs.max_version);
                if max >= ours.min.max(theirs.min_version) {
                    conn.versions.insert(key as i16, max);
                }
            }
        }
        Ok(conn)
    }

    /// The broker this connection talks to.
    pub(crate) fn broker(&self) -> &str {
        &self.broker
    }

    /// The negotiated version of `api`, if both sides support one.
    pub(crate) fn version(&self, api: ApiKey) -> Option<i16> {
        self.versions.get(&(api as i16)).copied()
    }

    fn protocol_error(&self, api: ApiKey, problem: String) -> ConnectionError {
        ConnectionError::Protocol {
            broker: self.broker.clone(),
            api,
            problem,
        }
    }

    /// Sends `request` and waits up to `timeout` for its response.
    pub(crate) async fn call<R: Call>(
        &mut self,
        request: R,
        timeout: Duration,
    ) -> Result<R::Response, ConnectionError> {
        let api = R::KEY;
        let version = self.version(api).ok_or_else(|| {
            self.protocol_error(api, "the broker does not support this API".into())
        })?;
        let correlation_id = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1);

        let mut header = RequestHeader::default();
        header.request_api_key = api as i16;
        header.request_api_version = version;
        header.correlation_id = correlation_id;
        header.client_id = Some(self.client_id.clone());
        let mut frame = BytesMut::with_capacity(256);
        frame.extend_from_slice(&[0; 4]);
        header
            .encode(&mut frame, api.request_header_version(version))
            .and_then(|()| request.encode(&mut frame, version))
            .map_err(|e| self.protocol_error(api, format!("cannot encode v{version}: {e}")))?;
        let size = (frame.len() - 4) as i32;
        frame[..4].copy_from_slice(&size.to_be_bytes());

        let exchange = async {
            self.stream
                .write_all(&frame)
                .await
                .map_err(|source| ConnectionError::Io {
                    broker: self.broker.clone(),
                    what: format!("send {api:?}"),
                    source,
                })?;
            let mut len = [0u8; 4];
            self.stream
                .read_exact(&mut len)
                .await
                .map_err(|source| ConnectionError::Io {
                    broker: self.broker.clone(),
                    what: format!("read {api:?} response"),
                    source,
                })?;
            let len = i32::from_be_bytes(len);
            if len < 0 || len as usize > MAX_FRAME {
                return Err(self.protocol_error(api, format!("response frame size {len}")));
            }
            let mut body = vec![0u8; len as usize];
            self.stream
                .read_exact(&mut body)
                .await
                .map_err(|source| ConnectionError::Io {
                    broker: self.broker.clone(),
                    what: format!("read {api:?} response"),
                    source,
                })?;
            Ok(Bytes::from(body))
        };
        let mut body = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| ConnectionError::Timeout {
                broker: self.broker.clone(),
                api,
                timeout,
            })??;
        let header = ResponseHeader::decode(&mut body, api.response_header_version(version))
            .map_err(|e| self.protocol_error(api, format!("bad response header: {e}")))?;
        if header.correlation_id != correlation_id {
            return Err(self.protocol_error(
                api,
                format!(
                    "correlation id {} in the response, {correlation_id} expected",
                    header.correlation_id
                ),
            ));
        }
        let response = R::Response::decode(&mut body, version).map_err(|e| {
            self.protocol_error(api, format!("cannot decode v{version} response: {e}"))
        })?;
        if body.has_remaining() {
            tracing::debug!(
                "broker {}: {api:?} v{version} response has {} trailing bytes",
                self.broker,
                body.remaining()
            );
        }
        Ok(response)
    }
}
