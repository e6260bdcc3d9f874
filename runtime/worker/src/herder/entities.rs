//! The JSON shapes of the REST API (COMPAT §1.3, §1.6, §1.7), shared by the herders and the REST layer.

use std::str::FromStr;

use ferry_api::Props;
use serde::{Deserialize, Serialize};

/// A task's id: connector name and task number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaskId {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: u32,
}

impl std::fmt::Display for TaskId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.connector, self.task)
    }
}

/// `type` of a connector on the REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorTypeName {
    /// Source connector.
    Source,
    /// Sink connector.
    Sink,
    /// The class is unknown.
    Unknown,
}

impl From<ferry_api::ConnectorType> for ConnectorTypeName {
    fn from(t: ferry_api::ConnectorType) -> Self {
        match t {
            ferry_api::ConnectorType::Source => ConnectorTypeName::Source,
            ferry_api::ConnectorType::Sink => ConnectorTypeName::Sink,
        }
    }
}

/// `ConnectorInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    /// Name.
    pub name: String,
    /// Raw config.
    pub config: Props,
    /// Task ids.
    pub tasks: Vec<TaskId>,
    /// Source or sink.
    #[serde(rename = "type")]
    pub connector_type: ConnectorTypeName,
}

/// Runtime state of a connector or task (COMPAT §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// Not running anywhere yet.
    Unassigned,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Stopped (connectors only).
    Stopped,
    /// Failed; see `trace`.
    Failed,
    /// Being restarted.
    Restarting,
}

impl State {
    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Stopped => "STOPPED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
        }
    }
}

/// State of the connector instance in a status answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorStateEntry {
    /// State.
    pub state: State,
    /// Worker running it.
    pub worker_id: String,
    /// Error chain when FAILED.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub trace: Option<String>,
}

/// State of one task (`GET …/tasks/{t}/status` and inside ConnectorStateInfo).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStateInfo {
    /// Task number.
    pub id: u32,
    /// State.
    pub state: State,
    /// Worker running it.
    pub worker_id: String,
    /// Error chain when FAILED.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub trace: Option<String>,
}

/// `ConnectorStateInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorStateInfo {
    /// Name.
    pub name: String,
    /// Connector instance state.
    pub connector: ConnectorStateEntry,
    /// Task states sorted by id.
    pub tasks: Vec<TaskStateInfo>,
    /// Source or sink.
    #[serde(rename = "type")]
    pub connector_type: ConnectorTypeName,
}

/// `{"id":{…},"config":{…}}` of `GET /connectors/{c}/tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Task id.
    pub id: TaskId,
    /// Task config.
    pub config: Props,
}

/// Persisted target state of a connector. REST says RUNNING where storage says STARTED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TargetState {
    /// Running.
    #[serde(rename = "STARTED")]
    Started,
    /// Paused: tasks stay allocated but idle.
    #[serde(rename = "PAUSED")]
    Paused,
    /// Stopped: no tasks.
    #[serde(rename = "STOPPED")]
    Stopped,
}

impl FromStr for TargetState {
    type Err = String;
    /// Parses REST's `initial_state` (case-insensitive; RUNNING or STARTED mean started).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "RUNNING" | "STARTED" => Ok(TargetState::Started),
            "PAUSED" => Ok(TargetState::Paused),
            "STOPPED" => Ok(TargetState::Stopped),
            _ => Err(format!("Invalid initial state: {s}")),
        }
    }
}

/// `definition` of one key in a validate answer or `GET /connector-plugins/{p}/config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigKeyInfo {
    /// Key.
    pub name: String,
    /// Java type name.
    #[serde(rename = "type")]
    pub config_type: String,
    /// No default.
    pub required: bool,
    /// Default as text (null when required or null).
    pub default_value: Option<String>,
    /// HIGH/MEDIUM/LOW.
    pub importance: String,
    /// Docs.
    pub documentation: String,
    /// Group.
    pub group: Option<String>,
    /// Order in group.
    pub order: i32,
    /// Width.
    pub width: String,
    /// Display name.
    pub display_name: String,
    /// Dependents.
    pub dependents: Vec<String>,
}

impl From<&ferry_api::ConfigKey> for ConfigKeyInfo {
    fn from(k: &ferry_api::ConfigKey) -> Self {
        let default_value =
            if k.config_type == ferry_api::ConfigType::Password && k.default.is_some() {
                Some("[hidden]".to_owned())
            } else {
                k.default.clone()
            };
        ConfigKeyInfo {
            name: k.name.clone(),
            config_type: k.config_type.java_name().to_owned(),
            required: k.is_required(),
            default_value,
            importance: k.importance.java_name().to_owned(),
            documentation: k.documentation.clone(),
            group: k.group.clone(),
            order: k.order,
            width: k.width.java_name().to_owned(),
            display_name: k.display_name.clone(),
            dependents: k.dependents.clone(),
        }
    }
}

/// `value` of one key in a validate answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigValueInfo {
    /// Key.
    pub name: String,
    /// Value as shown.
    pub value: Option<String>,
    /// Suggestions.
    pub recommended_values: Vec<String>,
    /// Errors.
    pub errors: Vec<String>,
    /// Visible.
    pub visible: bool,
}

impl From<&ferry_api::ConfigValue> for ConfigValueInfo {
    fn from(v: &ferry_api::ConfigValue) -> Self {
        ConfigValueInfo {
            name: v.name.clone(),
            value: v.value.clone(),
            recommended_values: v.recommended_values.clone(),
            errors: v.errors.clone(),
            visible: v.visible,
        }
    }
}

/// One key of a validate answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigInfo {
    /// Declaration.
    pub definition: ConfigKeyInfo,
    /// Validation result.
    pub value: ConfigValueInfo,
}

/// `ConfigInfos`: the validate answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigInfos {
    /// `connector.class` as supplied.
    pub name: String,
    /// Number of errors.
    pub error_count: usize,
    /// Groups.
    pub groups: Vec<String>,
    /// Keys.
    pub configs: Vec<ConfigInfo>,
}

impl ConfigInfos {
    /// The error lines of Connect's 400 message, `key: error`.
    pub fn error_messages(&self) -> Vec<String> {
        self.configs
            .iter()
            .flat_map(|c| {
                c.value
                    .errors
                    .iter()
                    .map(move |e| format!("{}: {e}", c.value.name))
            })
            .collect()
    }
}

/// One partition/offset pair of the offsets API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorOffset {
    /// Partition map.
    pub partition: serde_json::Map<String, serde_json::Value>,
    /// Offset map; null on PATCH deletes the partition's offset.
    pub offset: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `{"offsets":[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ConnectorOffsets {
    /// Entries.
    pub offsets: Vec<ConnectorOffset>,
}

/// An entry of `GET /connector-plugins`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// Class name.
    #[serde(rename = "class")]
    pub class_name: String,
    /// Plugin type (lower case).
    #[serde(rename = "type")]
    pub plugin_type: String,
    /// Version, omitted when undefined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}
