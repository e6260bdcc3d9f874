//! The connector's error-handling settings (COMPAT §8) as the task runners apply them to the
//! converter and transform stages.

use ferry_api::Props;

/// Parsed `errors.*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPolicy {
    /// `errors.tolerance=all`: skip records failing conversion or transformation.
    pub tolerate_all: bool,
    /// `errors.log.enable`.
    pub log_errors: bool,
    /// `errors.log.include.messages`.
    pub log_messages: bool,
}

impl ErrorPolicy {
    /// Reads the policy from a connector config (already validated, so lenient here).
    pub fn from_connector_config(props: &Props) -> Self {
        let flag = |k: &str| {
            props
                .get(k)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        };
        ErrorPolicy {
            tolerate_all: props
                .get("errors.tolerance")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("all")),
            log_errors: flag("errors.log.enable"),
            log_messages: flag("errors.log.include.messages"),
        }
    }
}
