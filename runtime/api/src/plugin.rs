//! Plugin descriptors. The `ferry` binary lists every bundled plugin in one compile-time list of
//! these; nothing is discovered at run time.

use std::fmt;

use crate::connector::{Connector, ConnectorType, SinkTask, SourceTask};
use crate::convert::{Converter, HeaderConverter};
use crate::transform::{Predicate, Transformation};

/// The kinds of plugins, as `GET /connector-plugins` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    Source,
    Sink,
    Converter,
    HeaderConverter,
    Transformation,
    Predicate,
}

impl PluginKind {
    /// The lower-case name on the REST API.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Source => "source",
            PluginKind::Sink => "sink",
            PluginKind::Converter => "converter",
            PluginKind::HeaderConverter => "header_converter",
            PluginKind::Transformation => "transformation",
            PluginKind::Predicate => "predicate",
        }
    }
    /// The class-name suffix Connect strips to form the short alias.
    fn alias_suffix(self) -> &'static str {
        match self {
            PluginKind::Source | PluginKind::Sink => "Connector",
            PluginKind::Converter | PluginKind::HeaderConverter => "Converter",
            PluginKind::Transformation => "Transformation",
            PluginKind::Predicate => "Predicate",
        }
    }
    /// Connect's aliases of a class name: the simple name, and the simple name without the kind's
    /// suffix (`FileStreamSinkConnector`, `FileStreamSink`). Nested classes (`Foo$Value`) get none.
    pub fn aliases(self, class: &str) -> Vec<String> {
        let simple = class.rsplit('.').next().unwrap_or(class);
        if simple.contains('$') {
            return Vec::new();
        }
        let mut out = vec![simple.to_owned()];
        if let Some(short) = simple.strip_suffix(self.alias_suffix()) {
            if !short.is_empty() {
                out.push(short.to_owned());
            }
        }
        out
    }
}

/// Creates the task instances of a connector plugin.
#[derive(Clone, Copy)]
pub enum TaskFactory {
    /// Source tasks.
    Source(fn() -> Box<dyn SourceTask>),
    /// Sink tasks.
    Sink(fn() -> Box<dyn SinkTask>),
}

impl fmt::Debug for TaskFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFactory::Source(_) => f.write_str("TaskFactory::Source"),
            TaskFactory::Sink(_) => f.write_str("TaskFactory::Sink"),
        }
    }
}

/// A bundled connector plugin.
#[derive(Debug, Clone)]
pub struct ConnectorPlugin {
    /// Java class name users put in `connector.class`.
    pub class: &'static str,
    /// Java task class name, written as `task.class` in task configs.
    pub task_class: &'static str,
    /// Extra aliases beyond Connect's automatic ones.
    pub extra_aliases: &'static [&'static str],
    /// Plugin version.
    pub version: &'static str,
    /// Creates a connector instance.
    pub new_connector: fn() -> Box<dyn Connector>,
    /// Creates task instances.
    pub new_task: TaskFactory,
}

impl ConnectorPlugin {
    /// Source or sink.
    pub fn connector_type(&self) -> ConnectorType {
        match self.new_task {
            TaskFactory::Source(_) => ConnectorType::Source,
            TaskFactory::Sink(_) => ConnectorType::Sink,
        }
    }
}

macro_rules! simple_plugin {
    ($name:ident, $tr:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone)]
        pub struct $name {
            /// Java class name.
            pub class: &'static str,
            /// Extra aliases beyond Connect's automatic ones.
            pub extra_aliases: &'static [&'static str],
            /// Creates an instance.
            pub new: fn() -> Box<dyn $tr>,
        }
    };
}

simple_plugin!(ConverterPlugin, Converter, "A bundled converter.");
simple_plugin!(
    HeaderConverterPlugin,
    HeaderConverter,
    "A bundled header converter."
);
simple_plugin!(TransformationPlugin, Transformation, "A bundled transform.");
simple_plugin!(PredicatePlugin, Predicate, "A bundled predicate.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_follow_connect() {
        assert_eq!(
            PluginKind::Sink.aliases("org.apache.kafka.connect.file.FileStreamSinkConnector"),
            ["FileStreamSinkConnector", "FileStreamSink"]
        );
        assert_eq!(
            PluginKind::Converter.aliases("org.apache.kafka.connect.json.JsonConverter"),
            ["JsonConverter", "Json"]
        );
        assert!(PluginKind::Transformation
            .aliases("org.apache.kafka.connect.transforms.InsertField$Value")
            .is_empty());
    }
}
