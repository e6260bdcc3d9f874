//! The Connect sub-protocols' member metadata and assignment blobs (COMPAT §4): what a worker
//! puts in JoinGroup (`WorkerMetadata`) and what the leader hands each member in SyncGroup
//! (`Assignment`), byte-compatible with Kafka Connect's `ConnectProtocol` (v0, wire name
//! `"default"`) and `IncrementalCooperativeConnectProtocol` (v1 `"compatible"`, v2 `"sessioned"`).
//!
//! Both blobs are Kafka protocol structs, big-endian, led by an int16 version: STRING = int16
//! length + UTF-8, ARRAY = int32 count (−1 = null), NULLABLE_BYTES = int32 length (−1 = null).
//! In an assignment's `{connector, tasks}` array, task id −1 stands for the Connector instance.
//! Encoding follows Java's order (per connector: −1 first for an assigned Connector, then task
//! ids in list order) so a Java worker and Ferry produce the same bytes for the same assignment.

use std::fmt;

use ferry_worker::herder::TaskId;

/// Task id that means "the Connector instance itself" in an assignment array.
pub const CONNECTOR_TASK: i32 = -1;

/// A Connect sub-protocol offered in JoinGroup, with its version header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubProtocol {
    /// v0, eager rebalancing; wire name `"default"`.
    Eager,
    /// v1, incremental cooperative; wire name `"compatible"`.
    Compatible,
    /// v2, incremental cooperative with session keys; wire name `"sessioned"`.
    Sessioned,
}

impl SubProtocol {
    /// The protocol name in JoinGroup.
    pub fn wire_name(self) -> &'static str {
        match self {
            SubProtocol::Eager => "default",
            SubProtocol::Compatible => "compatible",
            SubProtocol::Sessioned => "sessioned",
        }
    }

    /// The int16 version header of its blobs.
    pub fn version(self) -> i16 {
        match self {
            SubProtocol::Eager => 0,
            SubProtocol::Compatible => 1,
            SubProtocol::Sessioned => 2,
        }
    }

    /// The sub-protocol of a JoinGroup protocol name.
    pub fn from_wire_name(name: &str) -> Option<Self> {
        [
            SubProtocol::Eager,
            SubProtocol::Compatible,
            SubProtocol::Sessioned,
        ]
        .into_iter()
        .find(|p| p.wire_name() == name)
    }

    /// What a worker with `connect.protocol=<setting>` offers, most preferred first
    /// (`sessioned` → sessioned, compatible, default; `compatible` → compatible, default;
    /// `eager` → default).
    pub fn offered(setting: &str) -> Option<Vec<SubProtocol>> {
        match setting.trim().to_ascii_lowercase().as_str() {
            "sessioned" => Some(vec![
                SubProtocol::Sessioned,
                SubProtocol::Compatible,
                SubProtocol::Eager,
            ]),
            "compatible" => Some(vec![SubProtocol::Compatible, SubProtocol::Eager]),
            "eager" => Some(vec![SubProtocol::Eager]),
            _ => None,
        }
    }

    /// Whether rebalances are incremental cooperative (v1/v2) rather than eager.
    pub fn is_incremental(self) -> bool {
        self != SubProtocol::Eager
    }
}

impl fmt::Display for SubProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// A set of Connector instances and tasks, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectorsAndTasks {
    /// Connector instances (task id −1 on the wire).
    pub connectors: Vec<String>,
    /// Tasks.
    pub tasks: Vec<TaskId>,
}

impl ConnectorsAndTasks {
    /// Whether nothing is in the set.
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }
}

/// `error` of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentError {
    /// 0: no error.
    None,
    /// 1: the leader could not reach the highest config offset members reported; everyone
    /// re-reads the config topic and rejoins.
    ConfigMismatch,
    /// Any other code, kept as received.
    Unknown(i16),
}

impl AssignmentError {
    fn code(self) -> i16 {
        match self {
            AssignmentError::None => 0,
            AssignmentError::ConfigMismatch => 1,
            AssignmentError::Unknown(c) => c,
        }
    }
    fn from_code(code: i16) -> Self {
        match code {
            0 => AssignmentError::None,
            1 => AssignmentError::ConfigMismatch,
            c => AssignmentError::Unknown(c),
        }
    }
}

/// What the leader gives one member in SyncGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The sub-protocol (decides the version header and whether `revoked`/`delay` are written).
    pub protocol: SubProtocol,
    /// Error code.
    pub error: AssignmentError,
    /// The leader's member id.
    pub leader: String,
    /// The leader's advertised REST URL (for forwarding).
    pub leader_url: String,
    /// Config-topic offset the assignment was computed against.
    pub config_offset: i64,
    /// What the member must run.
    pub assigned: ConnectorsAndTasks,
    /// What the member must stop (always empty for eager).
    pub revoked: ConnectorsAndTasks,
    /// Milliseconds until the member must rejoin (held work of departed members); 0 = none.
    pub delay_ms: i32,
}

/// What a member says about itself in JoinGroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerMetadata {
    /// The sub-protocol this metadata is encoded for.
    pub protocol: SubProtocol,
    /// Advertised REST URL, e.g. `http://10.0.0.5:8083/`.
    pub url: String,
    /// Config-topic offset the member has read up to (next offset after the last record).
    pub config_offset: i64,
    /// The member's current assignment (v1/v2 only; `None` or empty is sent as null).
    pub allocation: Option<Assignment>,
}

/// A blob that does not decode; the message names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The blob ended inside a field.
    #[error("connect protocol {what}: truncated while reading `{field}`")]
    Truncated {
        /// Metadata or assignment.
        what: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A field holds an impossible value.
    #[error("connect protocol {what}: field `{field}` {problem}")]
    Invalid {
        /// Metadata or assignment.
        what: &'static str,
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl WorkerMetadata {
    /// Encodes the metadata for JoinGroup.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.i16(self.protocol.version());
        w.string(&self.url);
        w.i64(self.config_offset);
        if self.protocol.is_incremental() {
            // Java sends the empty assignment as a null allocation.
            match self
                .allocation
                .as_ref()
                .filter(|a| !a.is_empty_assignment())
            {
                Some(a) => w.nullable_bytes(Some(&a.encode())),
                None => w.nullable_bytes(None),
            }
        }
        w.out
    }

    /// Decodes a member's metadata; the version header picks the layout (v0 has no allocation).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes, "metadata");
        let protocol = r.version()?;
        let url = r.string("url")?;
        let config_offset = r.i64("config-offset")?;
        let allocation = if protocol.is_incremental() && !r.at_end() {
            match r.nullable_bytes("allocation")? {
                Some(blob) => Some(Assignment::decode(blob)?),
                None => None,
            }
        } else {
            None
        };
        Ok(WorkerMetadata {
            protocol,
            url,
            config_offset,
            allocation,
        })
    }
}

impl Assignment {
    /// Whether this is Java's `ExtendedAssignment.empty()`-like "nothing known" assignment.
    fn is_empty_assignment(&self) -> bool {
        self.assigned.is_empty() && self.revoked.is_empty() && self.leader.is_empty()
    }

    /// Encodes the assignment for SyncGroup (or as a metadata allocation).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.i16(self.protocol.version());
        w.i16(self.error.code());
        w.string(&self.leader);
        w.string(&self.leader_url);
        w.i64(self.config_offset);
        w.connector_array(&self.assigned);
        if self.protocol.is_incremental() {
            w.connector_array(&self.revoked);
            w.i32(self.delay_ms);
        }
        w.out
    }

    /// Decodes an assignment; null arrays read as empty, a missing `delay` as 0 (as Java does).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let mut r = Reader::new(bytes, "assignment");
        let protocol = r.version()?;
        let error = AssignmentError::from_code(r.i16("error")?);
        let leader = r.string("leader")?;
        let leader_url = r.string("leader-url")?;
        let config_offset = r.i64("config-offset")?;
        let assigned = r.connector_array("assignment")?;
        let (revoked, delay_ms) = if protocol.is_incremental() {
            let revoked = if r.at_end() {
                ConnectorsAndTasks::default()
            } else {
                r.connector_array("revoked")?
            };
            let delay = if r.at_end() { 0 } else { r.i32("delay")? };
            (revoked, delay)
        } else {
            (ConnectorsAndTasks::default(), 0)
        };
        Ok(Assignment {
            protocol,
            error,
            leader,
            leader_url,
            config_offset,
            assigned,
            revoked,
            delay_ms,
        })
    }
}

/// Kafka protocol primitives, big-endian.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn i16(&mut self, v: i16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    fn string(&mut self, s: &str) {
        // Kafka STRING length is int16; Connect urls/ids/names never approach 32 KiB.
        let len = i16::try_from(s.len()).expect("connect protocol strings fit in an int16 length");
        self.i16(len);
        self.out.extend_from_slice(s.as_bytes());
    }
    fn nullable_bytes(&mut self, b: Option<&[u8]>) {
        match b {
            None => self.i32(-1),
            Some(b) => {
                self.i32(b.len() as i32);
                self.out.extend_from_slice(b);
            }
        }
    }
    /// `array<{connector:string, tasks:array<int32>}>` grouped per connector in first-seen
    /// order: connectors first (each with −1), then tasks (Java's `asMap` order).
    fn connector_array(&mut self, set: &ConnectorsAndTasks) {
        let mut groups: Vec<(&str, Vec<i32>)> = Vec::new();
        let items = set
            .connectors
            .iter()
            .map(|c| (c.as_str(), CONNECTOR_TASK))
            .chain(
                set.tasks
                    .iter()
                    .map(|t| (t.connector.as_str(), t.task as i32)),
            );
        for (connector, id) in items {
            match groups.iter_mut().find(|(c, _)| *c == connector) {
                Some((_, ids)) => ids.push(id),
                None => groups.push((connector, vec![id])),
            }
        }
        self.i32(groups.len() as i32);
        for (connector, ids) in groups {
            self.string(connector);
            self.i32(ids.len() as i32);
            for id in ids {
                self.i32(id);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader { bytes, what }
    }
    fn at_end(&self) -> bool {
        self.bytes.is_empty()
    }
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ProtocolError> {
        if self.bytes.len() < n {
            return Err(ProtocolError::Truncated {
                what: self.what,
                field,
            });
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
    fn invalid(&self, field: &'static str, problem: String) -> ProtocolError {
        ProtocolError::Invalid {
            what: self.what,
            field,
            problem,
        }
    }
    fn i16(&mut self, field: &'static str) -> Result<i16, ProtocolError> {
        Ok(i16::from_be_bytes(self.take(2, field)?.try_into().unwrap()))
    }
    fn i32(&mut self, field: &'static str) -> Result<i32, ProtocolError> {
        Ok(i32::from_be_bytes(self.take(4, field)?.try_into().unwrap()))
    }
    fn i64(&mut self, field: &'static str) -> Result<i64, ProtocolError> {
        Ok(i64::from_be_bytes(self.take(8, field)?.try_into().unwrap()))
    }
    fn version(&mut self) -> Result<SubProtocol, ProtocolError> {
        match self.i16("version")? {
            0 => Ok(SubProtocol::Eager),
            1 => Ok(SubProtocol::Compatible),
            2 => Ok(SubProtocol::Sessioned),
            v => Err(self.invalid("version", format!("is {v}; only 0, 1 and 2 are known"))),
        }
    }
    fn string(&mut self, field: &'static str) -> Result<String, ProtocolError> {
        let len = self.i16(field)?;
        let len = usize::try_from(len)
            .map_err(|_| self.invalid(field, format!("has negative length {len}")))?;
        let raw = self.take(len, field)?;
        String::from_utf8(raw.to_vec()).map_err(|_| self.invalid(field, "is not UTF-8".into()))
    }
    fn nullable_bytes(&mut self, field: &'static str) -> Result<Option<&'a [u8]>, ProtocolError> {
        let len = self.i32(field)?;
        if len < 0 {
            return Ok(None);
        }
        Ok(Some(self.take(len as usize, field)?))
    }
    fn count(&mut self, field: &'static str) -> Result<Option<usize>, ProtocolError> {
        let n = self.i32(field)?;
        if n < 0 {
            return Ok(None);
        }
        // Each element takes at least 2 bytes: reject counts the remaining bytes cannot hold.
        if n as usize > self.bytes.len() {
            return Err(self.invalid(
                field,
                format!("claims {n} elements in {} bytes", self.bytes.len()),
            ));
        }
        Ok(Some(n as usize))
    }
    fn connector_array(
        &mut self,
        field: &'static str,
    ) -> Result<ConnectorsAndTasks, ProtocolError> {
        let mut set = ConnectorsAndTasks::default();
        let Some(n) = self.count(field)? else {
            return Ok(set);
        };
        for _ in 0..n {
            let connector = self.string(field)?;
            let ids = self.count(field)?.unwrap_or(0);
            for _ in 0..ids {
                match self.i32(field)? {
                    CONNECTOR_TASK => set.connectors.push(connector.clone()),
                    id => {
                        let task = u32::try_from(id).map_err(|_| {
                            self.invalid(
                                field,
                                format!("holds task id {id} for connector {connector}"),
                            )
                        })?;
                        set.tasks.push(TaskId {
                            connector: connector.clone(),
                            task,
                        });
                    }
                }
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds golden bytes field by field from the documented layout.
    fn be16(v: i16) -> Vec<u8> {
        v.to_be_bytes().to_vec()
    }
    fn be32(v: i32) -> Vec<u8> {
        v.to_be_bytes().to_vec()
    }
    fn be64(v: i64) -> Vec<u8> {
        v.to_be_bytes().to_vec()
    }
    fn s(v: &str) -> Vec<u8> {
        [be16(v.len() as i16), v.as_bytes().to_vec()].concat()
    }
    fn task(c: &str, t: u32) -> TaskId {
        TaskId {
            connector: c.into(),
            task: t,
        }
    }

    fn sample_assignment(protocol: SubProtocol) -> Assignment {
        Assignment {
            protocol,
            error: AssignmentError::None,
            leader: "w1".into(),
            leader_url: "http://a:8083/".into(),
            config_offset: 7,
            assigned: ConnectorsAndTasks {
                connectors: vec!["c1".into()],
                tasks: vec![task("c1", 0), task("c2", 1)],
            },
            revoked: ConnectorsAndTasks {
                connectors: vec![],
                tasks: vec![task("c2", 0)],
            },
            delay_ms: 5000,
        }
    }

    /// `{connector, tasks}` array of sample_assignment's `assigned`: c1 → [-1, 0], c2 → [1].
    fn sample_assigned_bytes() -> Vec<u8> {
        [
            be32(2),
            s("c1"),
            be32(2),
            be32(-1),
            be32(0),
            s("c2"),
            be32(1),
            be32(1),
        ]
        .concat()
    }

    #[test]
    fn sub_protocol_names_and_preference() {
        assert_eq!(
            SubProtocol::offered("sessioned").unwrap(),
            vec![
                SubProtocol::Sessioned,
                SubProtocol::Compatible,
                SubProtocol::Eager
            ]
        );
        assert_eq!(
            SubProtocol::offered("compatible").unwrap(),
            vec![SubProtocol::Compatible, SubProtocol::Eager]
        );
        assert_eq!(
            SubProtocol::offered("EAGER").unwrap(),
            vec![SubProtocol::Eager]
        );
        assert_eq!(SubProtocol::offered("cooperative"), None);
        for (p, name, v) in [
            (SubProtocol::Eager, "default", 0),
            (SubProtocol::Compatible, "compatible", 1),
            (SubProtocol::Sessioned, "sessioned", 2),
        ] {
            assert_eq!(p.wire_name(), name);
            assert_eq!(p.version(), v);
            assert_eq!(SubProtocol::from_wire_name(name), Some(p));
        }
        assert_eq!(SubProtocol::from_wire_name("eager"), None);
    }

    #[test]
    fn metadata_golden_bytes() {
        let v0 = WorkerMetadata {
            protocol: SubProtocol::Eager,
            url: "http://a:8083/".into(),
            config_offset: 42,
            allocation: None,
        };
        let v0_bytes = [be16(0), s("http://a:8083/"), be64(42)].concat();

        let v1_null = WorkerMetadata {
            protocol: SubProtocol::Compatible,
            url: "http://b:8083/".into(),
            config_offset: -1,
            allocation: None,
        };
        let v1_null_bytes = [be16(1), s("http://b:8083/"), be64(-1), be32(-1)].concat();

        let alloc = sample_assignment(SubProtocol::Sessioned);
        let alloc_bytes = alloc.encode();
        let v2 = WorkerMetadata {
            protocol: SubProtocol::Sessioned,
            url: "http://c:8083/".into(),
            config_offset: 9,
            allocation: Some(alloc),
        };
        let v2_bytes = [
            be16(2),
            s("http://c:8083/"),
            be64(9),
            be32(alloc_bytes.len() as i32),
            alloc_bytes,
        ]
        .concat();

        for (meta, golden) in [(v0, v0_bytes), (v1_null, v1_null_bytes), (v2, v2_bytes)] {
            assert_eq!(meta.encode(), golden, "{meta:?}");
            assert_eq!(WorkerMetadata::decode(&golden).unwrap(), meta);
        }
    }

    #[test]
    fn empty_allocation_is_sent_as_null() {
        let empty = Assignment {
            protocol: SubProtocol::Compatible,
            error: AssignmentError::None,
            leader: String::new(),
            leader_url: String::new(),
            config_offset: -1,
            assigned: ConnectorsAndTasks::default(),
            revoked: ConnectorsAndTasks::default(),
            delay_ms: 0,
        };
        let meta = WorkerMetadata {
            protocol: SubProtocol::Compatible,
            url: "u".into(),
            config_offset: 0,
            allocation: Some(empty),
        };
        assert_eq!(meta.encode(), [be16(1), s("u"), be64(0), be32(-1)].concat());
    }

    #[test]
    fn assignment_golden_bytes() {
        let header = |v: i16| {
            [
                be16(v),
                be16(0),
                s("w1"),
                s("http://a:8083/"),
                be64(7),
                sample_assigned_bytes(),
            ]
            .concat()
        };
        let revoked = [be32(1), s("c2"), be32(1), be32(0)].concat();
        let cases = [
            // v0 has neither revoked nor delay.
            (
                Assignment {
                    revoked: ConnectorsAndTasks::default(),
                    delay_ms: 0,
                    ..sample_assignment(SubProtocol::Eager)
                },
                header(0),
            ),
            (
                sample_assignment(SubProtocol::Compatible),
                [header(1), revoked.clone(), be32(5000)].concat(),
            ),
            (
                sample_assignment(SubProtocol::Sessioned),
                [header(2), revoked, be32(5000)].concat(),
            ),
        ];
        for (assignment, golden) in cases {
            assert_eq!(assignment.encode(), golden, "{assignment:?}");
            assert_eq!(Assignment::decode(&golden).unwrap(), assignment);
        }
    }

    #[test]
    fn assignment_decodes_null_arrays_missing_delay_and_config_mismatch() {
        let bytes = [
            be16(1),
            be16(1),
            s("w1"),
            s("u"),
            be64(3),
            be32(-1),
            be32(-1),
        ]
        .concat();
        let a = Assignment::decode(&bytes).unwrap();
        assert_eq!(a.error, AssignmentError::ConfigMismatch);
        assert!(a.assigned.is_empty() && a.revoked.is_empty());
        assert_eq!(a.delay_ms, 0);
    }

    #[test]
    fn malformed_blobs_name_the_field() {
        let cases: Vec<(Vec<u8>, &str)> =
            vec![
            (vec![0], "connect protocol assignment: truncated while reading `version`"),
            (
                be16(3),
                "connect protocol assignment: field `version` is 3; only 0, 1 and 2 are known",
            ),
            (
                [be16(0), be16(0), s("w"), s("u"), be64(0), be32(1), s("c"), be32(1), be32(-2)]
                    .concat(),
                "connect protocol assignment: field `assignment` holds task id -2 for connector c",
            ),
            (
                [be16(0), be16(0), s("w")].concat(),
                "connect protocol assignment: truncated while reading `leader-url`",
            ),
        ];
        for (bytes, message) in cases {
            assert_eq!(Assignment::decode(&bytes).unwrap_err().to_string(), message);
        }
        assert_eq!(
            WorkerMetadata::decode(&[be16(1), s("u"), be64(0), be32(10)].concat())
                .unwrap_err()
                .to_string(),
            "connect protocol metadata: truncated while reading `allocation`"
        );
    }
}
