//! Connector lifecycle rules both herders apply the same way: how task configs are generated
//! from a running connector, and which runtime state a target state shows as.

use ferry_api::{ConnectError, Connector, ConnectorPlugin, ConnectorType, Props};

use super::{State, TargetState};

/// The runtime state a connector shows once it is in `target`.
pub fn connector_state_for(target: TargetState) -> State {
    match target {
        TargetState::Started => State::Running,
        TargetState::Paused => State::Paused,
        TargetState::Stopped => State::Stopped,
    }
}

/// Asks a running connector for its task configs (up to `tasks.max`, enforced unless
/// `tasks.max.enforce=false`) and adds what Connect adds: `task.class`, and for sinks the
/// connector's `topics`/`topics.regex`.
pub async fn generate_task_configs(
    instance: &mut dyn Connector,
    plugin: &ConnectorPlugin,
    config: &Props,
) -> Result<Vec<Props>, ConnectError> {
    let max: usize = config
        .get("tasks.max")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1);
    let mut configs = instance.task_configs(max).await?;
    let enforce = config
        .get("tasks.max.enforce")
        .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
    if configs.len() > max && enforce {
        return Err(ConnectError::config(format!(
            "The connector has generated {} tasks, which is greater than {max}, the maximum number of tasks it is configured to create.",
            configs.len()
        )));
    }
    for c in &mut configs {
        c.insert("task.class".into(), plugin.task_class.into());
        if plugin.connector_type() == ConnectorType::Sink {
            for k in ["topics", "topics.regex"] {
                if let Some(v) = config.get(k) {
                    c.insert(k.into(), v.clone());
                }
            }
        }
    }
    Ok(configs)
}
