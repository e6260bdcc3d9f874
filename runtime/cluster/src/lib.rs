//! Ferry's distributed mode building blocks (COMPAT §3, §4): the Connect group membership
//! protocol (metadata/assignment encodings and a group member speaking the classic group
//! protocol to the coordinator), the incremental cooperative assignor, and the stores on the
//! internal config, offsets and status topics.
//!
//! It owns wire formats and membership only; the distributed herder (which runs connectors and
//! tasks, forwards REST calls and performs leader duties) builds on it.

pub mod config;
pub mod group;
pub mod herder;
pub mod signature;
pub mod store;
