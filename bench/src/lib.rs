//! Ferry's benchmark tools (`bench/run.sh` drives them).
//!
//! Each benchmark compares Ferry with the physical limit of the same machine:
//! the raw rdkafka client doing the same work with the same settings. The
//! binaries here are those baselines (`raw-produce`, `raw-consume`) and the
//! probes that time Ferry from outside (`watermarks`, `wait-file`, `startup`).
//! Every binary prints one human line and one `key=value` line for scripts.

pub mod args;
pub mod data;
pub mod kafka;
pub mod report;
