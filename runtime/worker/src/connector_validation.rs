//! Validation of a connector config, shared by create/update (400 on errors) and
//! `PUT /connector-plugins/{p}/config/validate` (COMPAT §1.5, §1.6): the framework keys of the
//! connector's type, its transforms and predicates, the connector's own keys and cross-key rules.

use ferry_api::{ConfigDef, ConfigValue, ConnectorPlugin, ConnectorType, Props};
use ferry_transforms::TransformChain;

use crate::connector_config::framework_config_def;
use crate::herder::{ConfigInfo, ConfigInfos, ConfigKeyInfo, ConfigValueInfo, HerderError};
use crate::plugins::Plugins;

/// The plugin named by `connector.class`, or Connect's 400.
pub fn resolve_plugin<'a>(
    plugins: &'a Plugins,
    config: &Props,
) -> Result<&'a ConnectorPlugin, HerderError> {
    let class = config
        .get("connector.class")
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            HerderError::BadRequest(format!(
                "Connector config {} contains no connector type",
                crate::herder::standalone::redacted_props(config)
            ))
        })?;
    plugins.connector(class).ok_or_else(|| {
        let available: Vec<&str> = plugins.connectors.iter().map(|p| p.class).collect();
        HerderError::BadRequest(format!(
            "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
            available.join(", ")
        ))
    })
}

/// Validates `config` against everything that applies to it.
pub fn validate_config(plugins: &Plugins, config: &Props) -> Result<ConfigInfos, HerderError> {
    let plugin = resolve_plugin(plugins, config)?;
    let kind = plugin.connector_type();
    let connector = (plugin.new_connector)();
    let framework = framework_config_def(kind);
    let transforms = TransformChain::config_def(config, plugins);
    let own = connector.config_def();

    let mut infos: Vec<ConfigInfo> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    let mut add = |def: &ConfigDef, values: Vec<ConfigValue>, infos: &mut Vec<ConfigInfo>| {
        for g in def.groups() {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        for key in def.keys() {
            if infos.iter().any(|i| i.definition.name == key.name) {
                continue;
            }
            let value = values
                .iter()
                .find(|v| v.name == key.name)
                .cloned()
                .unwrap_or_else(|| ConfigValue::new(&key.name, None));
            infos.push(ConfigInfo {
                definition: ConfigKeyInfo::from(key),
                value: ConfigValueInfo::from(&value),
            });
        }
    };

    let mut framework_values = framework.validate(config);
    cross_key_checks(kind, config, &mut framework_values);
    add(&framework, framework_values, &mut infos);
    add(&transforms, transforms.validate(config), &mut infos);
    add(&own, connector.validate(config), &mut infos);

    let error_count = infos.iter().map(|i| i.value.errors.len()).sum();
    Ok(ConfigInfos {
        name: config.get("connector.class").cloned().unwrap_or_default(),
        error_count,
        groups,
        configs: infos,
    })
}

fn push_error(values: &mut [ConfigValue], key: &str, msg: String) {
    if let Some(v) = values.iter_mut().find(|v| v.name == key) {
        v.errors.push(msg);
    }
}

/// Rules spanning keys: sink `topics` xor `topics.regex`, DLQ topic not an input (COMPAT §5.1),
/// and a usable connector name.
fn cross_key_checks(kind: ConnectorType, config: &Props, values: &mut [ConfigValue]) {
    if let Some(name) = config.get("name") {
        if name.chars().any(|c| c.is_control()) {
            push_error(values, "name", format!("Invalid value {name} for configuration name: Connector name contains ISO control characters"));
        }
    }
    if kind != ConnectorType::Sink {
        return;
    }
    let topics =
        ferry_api::config::split_list(config.get("topics").map(String::as_str).unwrap_or(""));
    let regex = config.get("topics.regex").map(|s| s.trim()).unwrap_or("");
    if !topics.is_empty() && !regex.is_empty() {
        let msg =
            "topics and topics.regex are mutually exclusive options, but both are set.".to_owned();
        push_error(values, "topics", msg.clone());
        push_error(values, "topics.regex", msg);
    } else if topics.is_empty() && regex.is_empty() {
        let msg = "Must configure one of topics or topics.regex".to_owned();
        push_error(values, "topics", msg.clone());
        push_error(values, "topics.regex", msg);
    } else if !regex.is_empty() {
        if let Err(e) = regex::Regex::new(regex) {
            push_error(
                values,
                "topics.regex",
                format!("Invalid value {regex} for configuration topics.regex: {e}"),
            );
        }
    }
    let dlq = config
        .get("errors.deadletterqueue.topic.name")
        .map(|s| s.trim())
        .unwrap_or("");
    if !dlq.is_empty() && topics.iter().any(|t| t == dlq) {
        push_error(
            values,
            "errors.deadletterqueue.topic.name",
            format!("The DLQ topic '{dlq}' may not be included in the list of topics ('topics=[{}]') consumed by the connector", topics.join(", ")),
        );
    }
}

/// Connect's 400 message for an invalid config.
pub fn invalid_config_message(infos: &ConfigInfos) -> String {
    let mut msg = format!(
        "Connector configuration is invalid and contains the following {} error(s):",
        infos.error_count
    );
    for c in &infos.configs {
        for e in &c.value.errors {
            msg.push('\n');
            msg.push_str(e);
        }
    }
    msg.push_str("\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`");
    msg
}
