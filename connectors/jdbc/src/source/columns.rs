//! Which columns a source partition's offsets follow: the connector-wide
//! `timestamp.column.name` / `incrementing.column.name`, or per table through Confluent's
//! `timestamp.columns.mapping` (`regex:[col1|col2]`) and `incrementing.column.mapping`
//! (`regex:col`).
//!
//! As in Confluent's connector, a mapping's regex must match the whole unquoted qualified table
//! name (`db.table` on MySQL, `database.schema.table` on PostgreSQL — the name in the source
//! partition), every table must match exactly one entry, a mapping and its connector-wide key
//! cannot both be set, and mappings apply to tables only (query mode uses the connector-wide keys).

use ferry_api::{ConnectError, Result};
use regex::Regex;

use super::querier::Origin;
use crate::config::{Mode, SourceSettings};

/// A parsed `*.mapping` list: per entry, the table regex and its columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct ColumnMapping {
    entries: Vec<(Regex, Vec<String>)>,
}

/// Which mapping a [`ColumnMapping`] is, for its syntax and its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MappingKind {
    /// `timestamp.columns.mapping`: `regex:[col1|col2|…]`.
    Timestamp,
    /// `incrementing.column.mapping`: `regex:col`.
    Incrementing,
}

impl MappingKind {
    fn key(self) -> &'static str {
        match self {
            MappingKind::Timestamp => crate::config::TIMESTAMP_COLUMNS_MAPPING,
            MappingKind::Incrementing => crate::config::INCREMENTING_COLUMN_MAPPING,
        }
    }

    fn what(self) -> &'static str {
        match self {
            MappingKind::Timestamp => "timestamp",
            MappingKind::Incrementing => "incrementing",
        }
    }
}

impl ColumnMapping {
    /// Parses the entries of `kind`'s key; errors name the key and the entry.
    pub(crate) fn parse(kind: MappingKind, entries: &[String]) -> Result<ColumnMapping> {
        let key = kind.key();
        let bad = |entry: &str, why: &str| {
            ConnectError::config(format!(
                "Invalid value {entry} for configuration {key}: {why}"
            ))
        };
        let mut parsed = Vec::with_capacity(entries.len());
        for entry in entries.iter().filter(|e| !e.trim().is_empty()) {
            let (re, cols) = entry
                .split_once(':')
                .ok_or_else(|| bad(entry, "expected <table regex>:<columns>"))?;
            let re = Regex::new(&format!("^(?:{})$", re.trim()))
                .map_err(|e| bad(entry, &format!("the table regex does not compile: {e}")))?;
            let cols = cols.trim();
            let cols: Vec<String> = match kind {
                MappingKind::Timestamp => cols
                    .strip_prefix('[')
                    .and_then(|c| c.strip_suffix(']'))
                    .ok_or_else(|| bad(entry, "columns must be written [col1|col2]"))?
                    .split('|')
                    .map(|c| c.trim().to_owned())
                    .collect(),
                MappingKind::Incrementing => vec![cols.to_owned()],
            };
            if cols.iter().any(String::is_empty) {
                return Err(bad(entry, "a column name is empty"));
            }
            parsed.push((re, cols));
        }
        Ok(ColumnMapping { entries: parsed })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The columns of the one entry matching `table` (its unquoted qualified name).
    fn resolve(&self, kind: MappingKind, table: &str) -> Result<&[String]> {
        let mut matching = self.entries.iter().filter(|(re, _)| re.is_match(table));
        let problem = match (matching.next(), matching.next()) {
            (Some((_, cols)), None) => return Ok(cols),
            (None, _) => "does not match any of the provided regexes",
            (Some(_), Some(_)) => "matches more than one of the provided regexes",
        };
        Err(ConnectError::config(format!(
            "Error while validating {} column mappings: Included table '{table}' {problem}",
            kind.what()
        )))
    }
}

/// The offset columns of one source partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OffsetColumns {
    /// The timestamp columns, COALESCEd in this order (empty unless the mode uses timestamps).
    pub(crate) timestamp: Vec<String>,
    /// The incrementing column; None: the table's auto-increment column is looked up.
    pub(crate) incrementing: Option<String>,
}

impl OffsetColumns {
    /// Resolves the columns of `origin` under the settings' keys and mappings.
    pub(crate) fn of(origin: &Origin, settings: &SourceSettings) -> Result<OffsetColumns> {
        let table = match origin {
            Origin::Table(id) => Some(id.to_string()),
            Origin::Query(_) => None,
        };
        let uses_ts = matches!(settings.mode, Mode::Timestamp | Mode::TimestampIncrementing);
        let uses_inc = matches!(
            settings.mode,
            Mode::Incrementing | Mode::TimestampIncrementing
        );
        let timestamp = match &table {
            Some(t) if uses_ts && !settings.timestamp_mapping.is_empty() => settings
                .timestamp_mapping
                .resolve(MappingKind::Timestamp, t)?
                .to_vec(),
            _ if uses_ts => settings.timestamp_columns.clone(),
            _ => Vec::new(),
        };
        if uses_ts && timestamp.is_empty() {
            return Err(ConnectError::config(format!(
                "Invalid value for configuration {}: {} has no timestamp column \
                 ({} applies to tables only)",
                crate::config::TIMESTAMP_COLUMN,
                origin.name(),
                crate::config::TIMESTAMP_COLUMNS_MAPPING
            )));
        }
        let incrementing = match &table {
            Some(t) if uses_inc && !settings.incrementing_mapping.is_empty() => settings
                .incrementing_mapping
                .resolve(MappingKind::Incrementing, t)?
                .first()
                .cloned(),
            _ if uses_inc => settings.incrementing_column.clone(),
            _ => None,
        };
        Ok(OffsetColumns {
            timestamp,
            incrementing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::TableId;
    use ferry_api::Props;

    fn settings(pairs: &[(&str, &str)]) -> Result<SourceSettings> {
        let mut p: Props = [
            ("connection.url", "jdbc:postgresql://h/db"),
            ("topic.prefix", "p-"),
        ]
        .iter()
        .chain(pairs)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        p.retain(|_, v| !v.is_empty());
        SourceSettings::parse(&p)
    }

    fn table(schema: &str, name: &str) -> Origin {
        Origin::Table(TableId {
            catalog: Some("db".into()),
            schema: Some(schema.into()),
            table: name.into(),
        })
    }

    #[test]
    fn mappings_pick_columns_per_table() {
        let s = settings(&[
            ("mode", "timestamp+incrementing"),
            (
                "timestamp.columns.mapping",
                r".*\.users:[created_at|updated_at], .*orders.*:[modified]",
            ),
            (
                "incrementing.column.mapping",
                "db.public.users:uid, .*orders:oid",
            ),
        ])
        .unwrap();
        let table_cases = [
            (
                table("public", "users"),
                &["created_at", "updated_at"][..],
                "uid",
            ),
            (table("sales", "orders"), &["modified"][..], "oid"),
        ];
        for (origin, ts, inc) in table_cases {
            let c = OffsetColumns::of(&origin, &s).unwrap();
            assert_eq!(c.timestamp, ts, "{origin:?}");
            assert_eq!(c.incrementing.as_deref(), Some(inc), "{origin:?}");
        }
    }

    #[test]
    fn each_table_matches_exactly_one_entry() {
        let s = settings(&[
            ("mode", "timestamp"),
            ("timestamp.columns.mapping", ".*users:[a], .*:[b]"),
        ])
        .unwrap();
        let err = OffsetColumns::of(&table("public", "users"), &s).unwrap_err();
        assert_eq!(
            err.message(),
            "Error while validating timestamp column mappings: Included table \
             'db.public.users' matches more than one of the provided regexes"
        );
        let s = settings(&[
            ("mode", "incrementing"),
            ("incrementing.column.mapping", "db.public.users:id"),
        ])
        .unwrap();
        let err = OffsetColumns::of(&table("public", "orders"), &s).unwrap_err();
        assert_eq!(
            err.message(),
            "Error while validating incrementing column mappings: Included table \
             'db.public.orders' does not match any of the provided regexes"
        );
        // The regex matches the whole name, as Java's String.matches.
        let err = OffsetColumns::of(&table("public", "users_old"), &s).unwrap_err();
        assert!(err.message().contains("does not match"), "{err}");
    }

    #[test]
    fn connector_wide_keys_apply_without_mappings_and_in_query_mode() {
        let s = settings(&[
            ("mode", "timestamp+incrementing"),
            ("timestamp.column.name", "ts"),
            ("incrementing.column.name", "id"),
        ])
        .unwrap();
        let want = OffsetColumns {
            timestamp: vec!["ts".into()],
            incrementing: Some("id".into()),
        };
        assert_eq!(OffsetColumns::of(&table("s", "t"), &s).unwrap(), want);
        // Mappings name tables; a query has none, so it needs the connector-wide key.
        let s = settings(&[
            ("mode", "timestamp"),
            ("query", "SELECT * FROM t"),
            ("timestamp.columns.mapping", ".*:[ts]"),
        ])
        .unwrap();
        let err = OffsetColumns::of(&Origin::Query("SELECT * FROM t".into()), &s).unwrap_err();
        assert!(err.message().contains("has no timestamp column"), "{err}");
    }

    #[test]
    fn mapping_syntax_and_conflicts_are_config_errors() {
        let table_cases = [
            (
                vec![("mode", "timestamp"), ("timestamp.columns.mapping", ".*:ts")],
                "Invalid value .*:ts for configuration timestamp.columns.mapping: columns must be written [col1|col2]",
            ),
            (
                vec![("mode", "timestamp"), ("timestamp.columns.mapping", "users")],
                "Invalid value users for configuration timestamp.columns.mapping: expected <table regex>:<columns>",
            ),
            (
                vec![("mode", "incrementing"), ("incrementing.column.mapping", "(:id")],
                "Invalid value (:id for configuration incrementing.column.mapping: the table regex does not compile",
            ),
            (
                vec![
                    ("mode", "timestamp"),
                    ("timestamp.column.name", "ts"),
                    ("timestamp.columns.mapping", ".*:[ts]"),
                ],
                "Cannot use both timestamp.column.name and timestamp.columns.mapping. Use timestamp.columns.mapping for new implementations.",
            ),
            (
                vec![
                    ("mode", "incrementing"),
                    ("incrementing.column.name", "id"),
                    ("incrementing.column.mapping", ".*:id"),
                ],
                "Cannot use both incrementing.column.name and incrementing.column.mapping. Use incrementing.column.mapping for new implementations.",
            ),
        ];
        for (pairs, want) in table_cases {
            let err = settings(&pairs).unwrap_err();
            assert!(err.message().starts_with(want), "{pairs:?}: {err}");
        }
        // A mapping satisfies timestamp mode's need for timestamp columns.
        settings(&[
            ("mode", "timestamp"),
            ("timestamp.columns.mapping", ".*:[ts]"),
        ])
        .unwrap();
    }
}
