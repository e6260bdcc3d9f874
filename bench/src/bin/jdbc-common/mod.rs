//! Code shared by the `jdbc-*` benchmark binaries (this directory has no `main.rs`, so Cargo does
//! not make it a binary of its own; each binary includes it with `#[path]`).

pub(crate) mod db;
pub(crate) mod kafka;
pub(crate) mod rows;
