//! Confluent's JDBC connectors (`io.confluent.connect.jdbc`) for MySQL/MariaDB and PostgreSQL.

mod config;
mod db;
mod dialect;
mod sql;
mod time;
mod types;
mod url;
