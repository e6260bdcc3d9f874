//! Test support for Ferry's end-to-end tests (the files in `integration/tests/`).
//!
//! The tests run against real services that `./integration/test.sh` installs and
//! starts; this crate only connects to them. It holds:
//! - [`TestBroker`]: the Kafka-protocol broker named by `FERRY_TEST_BOOTSTRAP`,
//!   with helpers to create topics, produce records and read a topic back whole;
//! - [`Ferry`]: a `ferry standalone` process in its own temp dir, with kill,
//!   terminate and restart, and a blocking REST client ([`RestClient`]);
//! - [`write_lines`], [`append_lines`], [`read_lines`]: the file connectors'
//!   input and output;
//! - [`distributed`]: `ferry distributed` workers of one cluster and the checks their
//!   tests share;
//! - [`wait_until`]: polling with a deadline, the only way tests synchronise;
//! - [`unique_name`] and [`free_port`], so tests can run in parallel against
//!   one broker without sharing topics, connectors or ports.
//!
//! It must not contain test logic of its own beyond these helpers, and it must
//! never start services: a missing service is a setup error, reported as such.

mod broker;
pub mod distributed;
mod ferry;
mod files;
mod names;
mod records;
mod rest;
mod wait;

pub use broker::TestBroker;
pub use ferry::{Ferry, FerryBuilder};
pub use files::{append_lines, read_lines, write_lines};
pub use names::{free_port, unique_name};
pub use rdkafka::message::Timestamp;
pub use records::{ConsumedRecord, Record};
pub use rest::RestClient;
pub use wait::{wait_until, wait_until_ok, DEFAULT_TIMEOUT};
