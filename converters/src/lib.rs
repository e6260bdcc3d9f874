//! Ferry's converters: Kafka Connect's `StringConverter`, `ByteArrayConverter`, the number and
//! boolean converters, `JsonConverter` and `SimpleHeaderConverter`, each producing the same bytes
//! as its Java counterpart (COMPAT.md §6.1, §6.2). [`plugins`] lists them under their Java class
//! names for the binary's plugin registry.
//!
//! This crate owns byte ⇄ Connect-data mapping only: no I/O, no knowledge of topics beyond the
//! trait signatures. The worker reuses [`json`]'s helpers for its internal topics.

pub mod json;

pub use json::JsonConverter;

#[cfg(test)]
mod tests {}
