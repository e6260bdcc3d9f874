//! The one explicit, compile-time list of every plugin bundled in Ferry. Nothing is discovered at
//! run time: adding a plugin means adding it here.

use ferry_worker::plugins::Plugins;

/// Every bundled plugin.
pub(crate) fn bundled_plugins() -> Plugins {
    let (converters, header_converters) = ferry_converters::plugins();
    let (transformations, predicates) = ferry_transforms::plugins();
    let mut connectors = Vec::new();
    connectors.extend(ferry_connector_file::plugins());
    connectors.extend(ferry_connector_mirror::plugins());
    connectors.extend(ferry_connector_jdbc::plugins());
    Plugins {
        connectors,
        converters,
        header_converters,
        transformations,
        predicates,
    }
}
