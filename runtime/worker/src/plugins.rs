//! The registry of bundled plugins. The binary fills it from one explicit compile-time list; lookups
//! accept a Java class name or one of Connect's aliases (simple name, or simple name without the
//! kind suffix). Aliases shared by two plugins of a kind are not registered, as in Connect.

use ferry_api::plugin::PluginKind;
use ferry_api::{
    ConfigDef, ConnectorPlugin, Converter, ConverterPlugin, HeaderConverter, HeaderConverterPlugin,
    Predicate, PredicatePlugin, Transformation, TransformationPlugin,
};

use crate::herder::PluginInfo;

/// Every bundled plugin.
#[derive(Debug, Default, Clone)]
pub struct Plugins {
    /// Connector plugins.
    pub connectors: Vec<ConnectorPlugin>,
    /// Converters.
    pub converters: Vec<ConverterPlugin>,
    /// Header converters.
    pub header_converters: Vec<HeaderConverterPlugin>,
    /// Transforms.
    pub transformations: Vec<TransformationPlugin>,
    /// Predicates.
    pub predicates: Vec<PredicatePlugin>,
}

/// Finds the plugin whose class or alias is `name`; an alias matching two plugins matches none.
fn resolve<'a, T>(
    items: &'a [T],
    kind: impl Fn(&T) -> PluginKind,
    class: impl Fn(&T) -> &'static str,
    extra: impl Fn(&T) -> &'static [&'static str],
    name: &str,
) -> Option<&'a T> {
    let name = name.trim();
    if let Some(found) = items.iter().find(|p| class(p) == name) {
        return Some(found);
    }
    let mut matches = items.iter().filter(|p| {
        kind(p).aliases(class(p)).iter().any(|a| a == name) || extra(p).contains(&name)
    });
    let first = matches.next()?;
    matches.next().is_none().then_some(first)
}

impl Plugins {
    /// The connector plugin named `name` (class or alias).
    pub fn connector(&self, name: &str) -> Option<&ConnectorPlugin> {
        resolve(
            &self.connectors,
            |p| match p.connector_type() {
                ferry_api::ConnectorType::Source => PluginKind::Source,
                ferry_api::ConnectorType::Sink => PluginKind::Sink,
            },
            |p| p.class,
            |p| p.extra_aliases,
            name,
        )
    }
    /// The connector plugin whose task class is `task_class`.
    pub fn connector_by_task_class(&self, task_class: &str) -> Option<&ConnectorPlugin> {
        self.connectors.iter().find(|p| p.task_class == task_class)
    }
    /// The converter plugin named `name`.
    pub fn converter(&self, name: &str) -> Option<&ConverterPlugin> {
        resolve(
            &self.converters,
            |_| PluginKind::Converter,
            |p| p.class,
            |p| p.extra_aliases,
            name,
        )
    }
    /// A new converter named `name`.
    pub fn new_converter(&self, name: &str) -> Option<Box<dyn Converter>> {
        self.converter(name).map(|p| (p.new)())
    }
    /// The header converter plugin named `name`.
    pub fn header_converter(&self, name: &str) -> Option<&HeaderConverterPlugin> {
        resolve(
            &self.header_converters,
            |_| PluginKind::HeaderConverter,
            |p| p.class,
            |p| p.extra_aliases,
            name,
        )
    }
    /// A new header converter named `name`.
    pub fn new_header_converter(&self, name: &str) -> Option<Box<dyn HeaderConverter>> {
        self.header_converter(name).map(|p| (p.new)())
    }
    /// The transformation plugin named `name`.
    pub fn transformation(&self, name: &str) -> Option<&TransformationPlugin> {
        resolve(
            &self.transformations,
            |_| PluginKind::Transformation,
            |p| p.class,
            |p| p.extra_aliases,
            name,
        )
    }
    /// The predicate plugin named `name`.
    pub fn predicate(&self, name: &str) -> Option<&PredicatePlugin> {
        resolve(
            &self.predicates,
            |_| PluginKind::Predicate,
            |p| p.class,
            |p| p.extra_aliases,
            name,
        )
    }

    /// `GET /connector-plugins`: connectors (sorted by class), plus every other kind unless
    /// `connectors_only`.
    pub fn plugin_infos(&self, connectors_only: bool) -> Vec<PluginInfo> {
        let version = Some(env!("CARGO_PKG_VERSION").to_owned());
        let info = |class: &str, kind: PluginKind, version: Option<String>| PluginInfo {
            class_name: class.to_owned(),
            plugin_type: kind.as_str().to_owned(),
            version,
        };
        let mut out: Vec<PluginInfo> = self
            .connectors
            .iter()
            .map(|p| {
                let kind = match p.connector_type() {
                    ferry_api::ConnectorType::Source => PluginKind::Source,
                    ferry_api::ConnectorType::Sink => PluginKind::Sink,
                };
                info(p.class, kind, Some(p.version.to_owned()))
            })
            .collect();
        out.sort_by(|a, b| a.class_name.cmp(&b.class_name));
        if !connectors_only {
            let mut rest: Vec<PluginInfo> = Vec::new();
            rest.extend(
                self.transformations
                    .iter()
                    .map(|p| info(p.class, PluginKind::Transformation, version.clone())),
            );
            rest.extend(
                self.predicates
                    .iter()
                    .map(|p| info(p.class, PluginKind::Predicate, version.clone())),
            );
            rest.extend(
                self.converters
                    .iter()
                    .map(|p| info(p.class, PluginKind::Converter, version.clone())),
            );
            rest.extend(
                self.header_converters
                    .iter()
                    .map(|p| info(p.class, PluginKind::HeaderConverter, version.clone())),
            );
            out.extend(rest);
        }
        out
    }

    /// The declared keys of any plugin named `name` (`GET /connector-plugins/{p}/config`).
    /// Connector plugins get their own keys followed by the framework keys they do not redefine.
    pub fn plugin_config_def(&self, name: &str) -> Option<ConfigDef> {
        if let Some(p) = self.connector(name) {
            let own = (p.new_connector)().config_def();
            let framework = crate::connector_config::framework_config_def(p.connector_type());
            return Some(own.merge(&framework));
        }
        if let Some(p) = self.converter(name) {
            return Some((p.new)().config_def());
        }
        if let Some(p) = self.header_converter(name) {
            return Some((p.new)().config_def());
        }
        if let Some(p) = self.transformation(name) {
            return Some((p.new)().config_def());
        }
        if let Some(p) = self.predicate(name) {
            return Some((p.new)().config_def());
        }
        None
    }
}

impl ferry_transforms::TransformRegistry for Plugins {
    fn new_transformation(&self, class: &str) -> Option<Box<dyn Transformation>> {
        self.transformation(class).map(|p| (p.new)())
    }
    fn new_predicate(&self, class: &str) -> Option<Box<dyn Predicate>> {
        self.predicate(class).map(|p| (p.new)())
    }
}
