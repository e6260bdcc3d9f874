//! Stores on the internal topics (COMPAT §3): config, offsets and status, each a compacted
//! topic read to its end ([`log::TopicLog`]). Blocking: the herder calls them off the reactor.

pub mod config;
pub mod log;
pub mod offsets;
pub mod status;
