//! Single message transforms and the predicates that gate them.

use crate::config::ConfigDef;
use crate::error::Result;
use crate::record::ConnectRecord;
use crate::Props;

/// A per-record function between connector and converter (Connect's `Transformation`). One instance
/// per task, so `&mut self` may keep caches (e.g. of derived schemas).
pub trait Transformation: Send {
    /// The transform's keys (prefix-stripped, e.g. `field` for `transforms.x.field`).
    fn config_def(&self) -> ConfigDef;
    /// Configures with the prefix-stripped settings.
    fn configure(&mut self, props: &Props) -> Result<()>;
    /// Transforms a record; `Ok(None)` drops it.
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>>;
}

/// A condition on a record that decides whether a transform applies (KIP-585).
pub trait Predicate: Send {
    /// The predicate's keys.
    fn config_def(&self) -> ConfigDef;
    /// Configures with the prefix-stripped settings.
    fn configure(&mut self, props: &Props) -> Result<()>;
    /// Whether the record matches.
    fn test(&mut self, record: &ConnectRecord) -> bool;
}
