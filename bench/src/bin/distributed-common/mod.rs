//! Shared by the distributed-mode probes (`distributed-settle`, `distributed-failover`): the
//! (This directory has no `main.rs`, so Cargo does not make it a binary; each probe includes it
//! with `#[path]`.)
//! cluster's placement of connectors and tasks as one worker's REST API reports it, read with
//! `GET /connectors?expand=status` (one request answers for every connector).

pub(crate) mod layout;
pub(crate) mod rest;
