//! The configuration keys of the JDBC connectors, declared once with Confluent's names, types and
//! defaults (`JdbcSourceConnectorConfig`, `JdbcSinkConfig`), and their parsed forms.

use std::sync::Arc;

use ferry_api::config::ParsedValue;
use ferry_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Props, Result, Validator,
};

use crate::db::ConnectionSettings;
use crate::dialect::QuoteMode;
use crate::source::{ColumnMapping, MappingKind};
use crate::time::{DbTimeZone, TimestampGranularity};
use crate::types::{MappingRules, NumericMapping};
use crate::url::JdbcUrl;

pub(crate) const CONNECTION_URL: &str = "connection.url";
pub(crate) const CONNECTION_USER: &str = "connection.user";
pub(crate) const CONNECTION_PASSWORD: &str = "connection.password";
pub(crate) const CONNECTION_ATTEMPTS: &str = "connection.attempts";
pub(crate) const CONNECTION_BACKOFF: &str = "connection.backoff.ms";
pub(crate) const DIALECT_NAME: &str = "dialect.name";
pub(crate) const DB_TIMEZONE: &str = "db.timezone";
pub(crate) const QUOTE_SQL_IDENTIFIERS: &str = "quote.sql.identifiers";
pub(crate) const TABLE_TYPES: &str = "table.types";

pub(crate) const MODE: &str = "mode";
pub(crate) const INCREMENTING_COLUMN: &str = "incrementing.column.name";
pub(crate) const TIMESTAMP_COLUMN: &str = "timestamp.column.name";
pub(crate) const TIMESTAMP_COLUMNS_MAPPING: &str = "timestamp.columns.mapping";
pub(crate) const INCREMENTING_COLUMN_MAPPING: &str = "incrementing.column.mapping";
pub(crate) const TIMESTAMP_INITIAL: &str = "timestamp.initial";
pub(crate) const TIMESTAMP_DELAY: &str = "timestamp.delay.interval.ms";
pub(crate) const VALIDATE_NON_NULL: &str = "validate.non.null";
pub(crate) const TABLE_WHITELIST: &str = "table.whitelist";
pub(crate) const TABLE_BLACKLIST: &str = "table.blacklist";
pub(crate) const TABLE_INCLUDE_LIST: &str = "table.include.list";
pub(crate) const TABLE_EXCLUDE_LIST: &str = "table.exclude.list";
pub(crate) const SCHEMA_PATTERN: &str = "schema.pattern";
pub(crate) const CATALOG_PATTERN: &str = "catalog.pattern";
pub(crate) const QUERY: &str = "query";
pub(crate) const QUERY_SUFFIX: &str = "query.suffix";
pub(crate) const QUERY_RETRY_ATTEMPTS: &str = "query.retry.attempts";
pub(crate) const TRANSACTION_ISOLATION_MODE: &str = "transaction.isolation.mode";
pub(crate) const TOPIC_PREFIX: &str = "topic.prefix";
pub(crate) const POLL_INTERVAL: &str = "poll.interval.ms";
pub(crate) const BATCH_MAX_ROWS: &str = "batch.max.rows";
pub(crate) const TABLE_POLL_INTERVAL: &str = "table.poll.interval.ms";
pub(crate) const NUMERIC_MAPPING: &str = "numeric.mapping";
pub(crate) const NUMERIC_PRECISION_MAPPING: &str = "numeric.precision.mapping";
pub(crate) const TIMESTAMP_GRANULARITY: &str = "timestamp.granularity";
/// Task config key: the tables one task reads (Confluent's `tables`).
pub(crate) const TASK_TABLES: &str = "tables";

pub(crate) const INSERT_MODE: &str = "insert.mode";
pub(crate) const PK_MODE: &str = "pk.mode";
pub(crate) const PK_FIELDS: &str = "pk.fields";
pub(crate) const FIELDS_WHITELIST: &str = "fields.whitelist";
pub(crate) const FIELDS_INCLUDE_LIST: &str = "fields.include.list";
pub(crate) const TABLE_NAME_FORMAT: &str = "table.name.format";
pub(crate) const AUTO_CREATE: &str = "auto.create";
pub(crate) const AUTO_EVOLVE: &str = "auto.evolve";
pub(crate) const DELETE_ENABLED: &str = "delete.enabled";
pub(crate) const BATCH_SIZE: &str = "batch.size";
pub(crate) const MAX_RETRIES: &str = "max.retries";
pub(crate) const RETRY_BACKOFF: &str = "retry.backoff.ms";
pub(crate) const DATE_TIMEZONE: &str = "date.timezone";
pub(crate) const TIMESTAMP_PRECISION_MODE: &str = "timestamp.precision.mode";
pub(crate) const TIMESTAMP_FIELDS_LIST: &str = "timestamp.fields.list";
pub(crate) const REPLACE_NULL_WITH_DEFAULT: &str = "replace.null.with.default";

fn key(name: &str, t: ConfigType, default: &str, importance: Importance, doc: &str) -> ConfigKey {
    ConfigKey::new(name, t)
        .default(default)
        .importance(importance)
        .doc(doc)
}

/// Keys both connectors share: the connection and SQL habits.
fn common_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    ConfigDef::new()
        .define(
            ConfigKey::new(CONNECTION_URL, String)
                .importance(High)
                .doc("JDBC connection URL: jdbc:mysql://, jdbc:mariadb:// or jdbc:postgresql://")
                .validator(Validator::Custom(Arc::new(|_, v| match v {
                    ParsedValue::String(s) => JdbcUrl::parse(s)
                        .map(|_| ())
                        .map_err(|e| {
                            e.message()
                                .rsplit_once(": ")
                                .map(|(_, why)| why.to_owned())
                                .unwrap_or_else(|| e.message().to_owned())
                        }),
                    _ => Ok(()),
                }))),
        )
        .define(ConfigKey::new(CONNECTION_USER, String).default_null().importance(High).doc("JDBC connection user."))
        .define(ConfigKey::new(CONNECTION_PASSWORD, Password).default_null().importance(High).doc("JDBC connection password."))
        .define(key(CONNECTION_ATTEMPTS, Int, "3", Low, "Maximum number of attempts to retrieve a valid JDBC connection.").validator(Validator::at_least(1.0)))
        .define(key(CONNECTION_BACKOFF, Long, "10000", Low, "Backoff time in milliseconds between connection attempts."))
        .define(key(DIALECT_NAME, String, "", Low, "The name of the database dialect; empty picks it from the URL."))
        .define(
            key(DB_TIMEZONE, String, "UTC", Medium, "Name of the JDBC timezone used when querying with time-based criteria and writing zone-less timestamps.")
                .validator(Validator::Custom(Arc::new(|_, v| match v {
                    ParsedValue::String(s) => DbTimeZone::parse(s).map(|_| ()).map_err(|e| {
                        e.message().rsplit_once(": ").map(|(_, w)| w.to_owned()).unwrap_or_default()
                    }),
                    _ => Ok(()),
                }))),
        )
        .define(key(QUOTE_SQL_IDENTIFIERS, String, "ALWAYS", Medium, "When to quote table names, column names, and other identifiers in SQL statements.").validator(Validator::OneOf(vec!["always", "never"])))
        .define(key(TABLE_TYPES, List, "TABLE", Low, "By default, the JDBC connector will only detect tables with type TABLE from the source Database."))
}

/// `JdbcSourceConnector`'s keys.
pub fn source_config_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    common_def()
        .define(ConfigKey::new(MODE, String).importance(High).doc("The mode for updating a table each time it is polled.").validator(Validator::OneOf(vec!["bulk", "timestamp", "incrementing", "timestamp+incrementing"])))
        .define(key(INCREMENTING_COLUMN, String, "", Medium, "The name of the strictly incrementing column to use to detect new rows."))
        .define(key(TIMESTAMP_COLUMN, List, "", Medium, "Comma separated list of one or more timestamp columns to detect new or modified rows using the COALESCE SQL function."))
        .define(key(TIMESTAMP_COLUMNS_MAPPING, List, "", Medium, "Per-table timestamp columns: a list of <table regex>:[col1|col2], the regex matching the whole unquoted qualified table name; each table must match exactly one entry. Cannot be combined with timestamp.column.name."))
        .define(key(INCREMENTING_COLUMN_MAPPING, List, "", Medium, "Per-table incrementing column: a list of <table regex>:<column>, the regex matching the whole unquoted qualified table name; each table must match exactly one entry. Cannot be combined with incrementing.column.name."))
        .define(ConfigKey::new(TIMESTAMP_INITIAL, Long).default_null().importance(Low).doc("The epoch timestamp used for initial queries that use timestamp criteria. Use -1 to use the current time."))
        .define(key(TIMESTAMP_DELAY, Long, "0", High, "How long to wait after a row with certain timestamp appears before we include it in the result."))
        .define(key(VALIDATE_NON_NULL, Boolean, "true", Low, "By default, the JDBC connector will validate that all incrementing and timestamp tables have NOT NULL set for the columns being used as their ID/timestamp."))
        .define(key(TABLE_WHITELIST, List, "", Medium, "List of tables to include in copying."))
        .define(key(TABLE_BLACKLIST, List, "", Medium, "List of tables to exclude from copying."))
        .define(key(TABLE_INCLUDE_LIST, List, "", Medium, "List of tables to include in copying."))
        .define(key(TABLE_EXCLUDE_LIST, List, "", Medium, "List of tables to exclude from copying."))
        .define(ConfigKey::new(SCHEMA_PATTERN, String).default_null().importance(Medium).doc("Schema pattern to fetch table metadata from the database (SQL LIKE syntax)."))
        .define(ConfigKey::new(CATALOG_PATTERN, String).default_null().importance(Medium).doc("Catalog pattern to fetch table metadata from the database (SQL LIKE syntax)."))
        .define(key(QUERY, String, "", Medium, "If specified, the query to perform to select new or updated rows."))
        .define(key(QUERY_SUFFIX, String, "", Low, "Suffix to append at the end of the generated query."))
        .define(key(QUERY_RETRY_ATTEMPTS, Int, "-1", Low, "Number of times to retry SQL exceptions encountered when executing queries; -1 retries forever.").validator(Validator::at_least(-1.0)))
        .define(key(TRANSACTION_ISOLATION_MODE, String, "DEFAULT", Low, "Mode to control which transaction isolation level is used when running queries against the database: DEFAULT (the database's), READ_UNCOMMITTED, READ_COMMITTED, REPEATABLE_READ, SERIALIZABLE (SQL_SERVER_SNAPSHOT needs SQL Server).").validator(Validator::OneOf(IsolationMode::NAMES.to_vec())))
        .define(ConfigKey::new(TOPIC_PREFIX, String).importance(High).doc("Prefix to prepend to table names to generate the name of the Kafka topic to publish data to, or in the case of a custom query, the full name of the topic to publish to."))
        .define(key(POLL_INTERVAL, Int, "5000", High, "Frequency in ms to poll for new data in each table."))
        .define(key(BATCH_MAX_ROWS, Int, "1000", Low, "Maximum number of rows to include in a single batch when polling for new data.").validator(Validator::at_least(1.0)))
        .define(key(TABLE_POLL_INTERVAL, Long, "60000", Low, "Frequency in ms to poll for new or removed tables."))
        .define(ConfigKey::new(NUMERIC_MAPPING, String).default_null().importance(Low).doc("Map NUMERIC values by precision and optionally scale to integral or decimal types.").validator(Validator::OneOf(vec!["none", "precision_only", "best_fit", "best_fit_eager_double"])))
        .define(key(NUMERIC_PRECISION_MAPPING, Boolean, "false", Low, "Whether or not to attempt mapping NUMERIC values by precision to integral types. Deprecated: numeric.mapping, when set, wins; true means precision_only."))
        .define(key(TIMESTAMP_GRANULARITY, String, "connect_logical", Low, "Define the granularity of the Timestamp column: connect_logical (Connect's Timestamp logical type), micros_long / nanos_long (epoch micro/nanoseconds), micros_string / nanos_string (the same as a string), micros_iso_datetime_string / nanos_iso_datetime_string (yyyy-MM-dd'T'HH:mm:ss.SSSSSS[SSS] in db.timezone).").validator(Validator::OneOf(TimestampGranularity::NAMES.to_vec())))
}

/// `JdbcSinkConnector`'s keys (`topics`/`topics.regex` belong to the framework).
pub fn sink_config_def() -> ConfigDef {
    use ConfigType::*;
    use Importance::*;
    common_def()
        .define(key(INSERT_MODE, String, "insert", High, "The insertion mode to use.").validator(Validator::OneOf(vec!["insert", "upsert", "update"])))
        .define(key(PK_MODE, String, "none", High, "The primary key mode.").validator(Validator::OneOf(vec!["none", "kafka", "record_key", "record_value"])))
        .define(key(PK_FIELDS, List, "", Medium, "List of comma-separated primary key field names. The runtime interpretation of this config depends on the pk.mode."))
        .define(key(FIELDS_WHITELIST, List, "", Medium, "List of comma-separated record value field names. If empty, all fields from the record value are utilized."))
        .define(key(FIELDS_INCLUDE_LIST, List, "", Medium, "List of comma-separated record value field names. If empty, all fields from the record value are utilized."))
        .define(key(TABLE_NAME_FORMAT, String, "${topic}", Medium, "A format string for the destination table name, which may contain '${topic}' as a placeholder for the originating topic name."))
        .define(key(AUTO_CREATE, Boolean, "false", Medium, "Whether to automatically create the destination table based on record schema if it is found to be missing by issuing CREATE."))
        .define(key(AUTO_EVOLVE, Boolean, "false", Medium, "Whether to automatically add columns in the table schema when found to be missing relative to the record schema by issuing ALTER."))
        .define(key(DELETE_ENABLED, Boolean, "false", Medium, "Whether to treat null record values as deletes. Requires pk.mode to be record_key."))
        .define(key(BATCH_SIZE, Int, "3000", Medium, "Specifies how many records to attempt to batch together for insertion into the destination table, when possible.").validator(Validator::at_least(1.0)))
        .define(key(MAX_RETRIES, Int, "10", Medium, "The maximum number of times to retry on errors before failing the task.").validator(Validator::at_least(0.0)))
        .define(key(RETRY_BACKOFF, Int, "3000", Medium, "The time in milliseconds to wait following an error before a retry attempt is made.").validator(Validator::at_least(0.0)))
        .define(key(DATE_TIMEZONE, String, "DB_TIMEZONE", Low, "The zone Date values are written in. Ferry writes a Connect Date as its calendar day whatever the zone (the UTC behaviour); DB_TIMEZONE is accepted and equal when db.timezone is UTC or east of it.").validator(Validator::OneOf(vec!["DB_TIMEZONE", "UTC"])))
        .define(key(TIMESTAMP_FIELDS_LIST, List, "", Medium, "Record value fields (INT64 or STRING, not nested) holding epoch timestamps at the precision of timestamp.precision.mode, written to (and auto-created as) timestamp columns."))
        .define(key(TIMESTAMP_PRECISION_MODE, String, "microseconds", Low, "The unit of the timestamp.fields.list values: epoch microseconds or nanoseconds (nanoseconds beyond the microsecond are dropped: the columns hold microseconds).").validator(Validator::OneOf(vec!["microseconds", "nanoseconds"])))
        .define(key(REPLACE_NULL_WITH_DEFAULT, Boolean, "true", Low, "Whether a null field whose schema has a default is written as the default (true) or as NULL (false)."))
}

/// Connect's per-key validation plus the cross-key rules of `parse`: an error of `parse` is
/// reported on the key its message names (the first declared key found in it), so the REST
/// validate answer shows it where the user has to change something.
pub(crate) fn validate_with(
    def: &ConfigDef,
    props: &Props,
    parse: impl Fn(&Props) -> Result<()>,
) -> Vec<ferry_api::ConfigValue> {
    let mut values = def.validate(props);
    if values.iter().any(|v| !v.errors.is_empty()) {
        return values;
    }
    if let Err(e) = parse(props) {
        let msg = e.message().to_owned();
        let at: Vec<usize> = match values
            .iter()
            .position(|v| msg.contains(&format!("configuration {}", v.name)))
        {
            Some(i) => vec![i],
            // A rule between keys ("Cannot use both a and b") is reported on each, as Connect does.
            None => values
                .iter()
                .enumerate()
                .filter(|(_, v)| names_key(&msg, &v.name))
                .map(|(i, _)| i)
                .collect(),
        };
        for i in if at.is_empty() { vec![0] } else { at } {
            if let Some(v) = values.get_mut(i) {
                v.errors.push(msg.clone());
            }
        }
    }
    values
}

/// Whether `msg` names `key` as a whole word (`query` is not named by `query.suffix`; a
/// sentence's full stop after the key does not count as part of a name).
fn names_key(msg: &str, key: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    msg.match_indices(key).any(|(i, _)| {
        let before = msg[..i].chars().next_back();
        let mut after = msg[i + key.len()..].chars();
        let continues = match after.next() {
            Some('.') => after.next().is_some_and(word),
            Some(c) => word(c),
            None => false,
        };
        !before.is_some_and(|c| word(c) || c == '.') && !continues
    })
}

/// The connection part of a parsed config.
pub(crate) fn connection_settings(config: &Config) -> Result<ConnectionSettings> {
    let url = JdbcUrl::parse(config.string(CONNECTION_URL).unwrap_or_default())?;
    if let Some(d) = config.string(DIALECT_NAME).filter(|d| !d.is_empty()) {
        let ok = match url.kind {
            crate::url::DbKind::MySql => d.eq_ignore_ascii_case("MySqlDatabaseDialect"),
            crate::url::DbKind::Postgres => d.eq_ignore_ascii_case("PostgreSqlDatabaseDialect"),
        };
        if !ok {
            return Err(ConnectError::config(format!(
                "Invalid value {d} for configuration {DIALECT_NAME}: does not match the {} URL in {CONNECTION_URL}",
                url.kind
            )));
        }
    }
    Ok(ConnectionSettings {
        url,
        user: config.string(CONNECTION_USER).map(str::to_owned),
        password: config.password(CONNECTION_PASSWORD).map(str::to_owned),
        timezone: DbTimeZone::parse(config.string(DB_TIMEZONE).unwrap_or("UTC"))?,
        attempts: config.int(CONNECTION_ATTEMPTS).max(1) as u32,
        backoff_ms: config.long(CONNECTION_BACKOFF).max(0) as u64,
    })
}

/// The source `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Bulk,
    Incrementing,
    Timestamp,
    TimestampIncrementing,
}

/// `transaction.isolation.mode`: the session isolation level the source's queries run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum IsolationMode {
    /// The database's default; nothing is set.
    #[default]
    Default,
    ReadUncommitted,
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

impl IsolationMode {
    /// Confluent's values (`SQL_SERVER_SNAPSHOT` is accepted by the validator and refused by
    /// `parse`, as Confluent refuses it outside SQL Server).
    pub(crate) const NAMES: [&'static str; 6] = [
        "DEFAULT",
        "READ_UNCOMMITTED",
        "READ_COMMITTED",
        "REPEATABLE_READ",
        "SERIALIZABLE",
        "SQL_SERVER_SNAPSHOT",
    ];

    pub(crate) fn parse(s: &str) -> Result<IsolationMode> {
        Ok(match s.trim().to_ascii_uppercase().as_str() {
            "READ_UNCOMMITTED" => IsolationMode::ReadUncommitted,
            "READ_COMMITTED" => IsolationMode::ReadCommitted,
            "REPEATABLE_READ" => IsolationMode::RepeatableRead,
            "SERIALIZABLE" => IsolationMode::Serializable,
            "SQL_SERVER_SNAPSHOT" => {
                return Err(ConnectError::config(format!(
                    "Invalid value {s} for configuration {TRANSACTION_ISOLATION_MODE}: Isolation mode of `SQL_SERVER_SNAPSHOT` can only be configured with a Sql Server Dialect"
                )))
            }
            _ => IsolationMode::Default,
        })
    }

    /// The SQL level name (`READ COMMITTED`), None for the database default.
    pub(crate) fn sql_level(self) -> Option<&'static str> {
        match self {
            IsolationMode::Default => None,
            IsolationMode::ReadUncommitted => Some("READ UNCOMMITTED"),
            IsolationMode::ReadCommitted => Some("READ COMMITTED"),
            IsolationMode::RepeatableRead => Some("REPEATABLE READ"),
            IsolationMode::Serializable => Some("SERIALIZABLE"),
        }
    }
}

/// The source task's settings.
#[derive(Debug, Clone)]
pub(crate) struct SourceSettings {
    pub(crate) connection: ConnectionSettings,
    pub(crate) mode: Mode,
    /// `incrementing.column.name` (None: autodetect, or the mapping).
    pub(crate) incrementing_column: Option<String>,
    /// `timestamp.column.name`.
    pub(crate) timestamp_columns: Vec<String>,
    /// `incrementing.column.mapping`.
    pub(crate) incrementing_mapping: ColumnMapping,
    /// `timestamp.columns.mapping`.
    pub(crate) timestamp_mapping: ColumnMapping,
    pub(crate) timestamp_initial: Option<i64>,
    pub(crate) timestamp_delay_ms: i64,
    pub(crate) validate_non_null: bool,
    pub(crate) include: Vec<String>,
    pub(crate) exclude: Vec<String>,
    pub(crate) schema_pattern: Option<String>,
    pub(crate) catalog_pattern: Option<String>,
    pub(crate) table_types: Vec<String>,
    pub(crate) query: Option<String>,
    pub(crate) query_suffix: String,
    /// `query.retry.attempts`: failed queries retried before the task fails (None: forever).
    pub(crate) query_retry_attempts: Option<u32>,
    /// `transaction.isolation.mode`.
    pub(crate) isolation: IsolationMode,
    pub(crate) topic_prefix: String,
    pub(crate) poll_interval_ms: u64,
    pub(crate) batch_max_rows: usize,
    pub(crate) table_poll_interval_ms: u64,
    /// `numeric.mapping`, `timestamp.granularity` and `db.timezone` for the record values.
    pub(crate) mapping: MappingRules,
    pub(crate) quote: QuoteMode,
}

impl SourceSettings {
    /// Parses and checks the cross-key rules; errors name the keys.
    pub(crate) fn parse(props: &Props) -> Result<Self> {
        let c = source_config_def().parse(props)?;
        let list = |a: &str, b: &str| -> Vec<String> {
            let mut v = c.list(a).to_vec();
            v.extend(c.list(b).iter().cloned());
            v
        };
        let mode = match c
            .string(MODE)
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "bulk" => Mode::Bulk,
            "incrementing" => Mode::Incrementing,
            "timestamp" => Mode::Timestamp,
            _ => Mode::TimestampIncrementing,
        };
        let include = list(TABLE_WHITELIST, TABLE_INCLUDE_LIST);
        let exclude = list(TABLE_BLACKLIST, TABLE_EXCLUDE_LIST);
        if !include.is_empty() && !exclude.is_empty() {
            return Err(ConnectError::config(format!(
                "Only one of {TABLE_WHITELIST}/{TABLE_INCLUDE_LIST} or {TABLE_BLACKLIST}/{TABLE_EXCLUDE_LIST} can be set"
            )));
        }
        let query = c.string(QUERY).filter(|q| !q.is_empty()).map(str::to_owned);
        if query.is_some() && (!include.is_empty() || !exclude.is_empty()) {
            return Err(ConnectError::config(format!(
                "Do not specify table filtering ({TABLE_WHITELIST}, {TABLE_BLACKLIST}) with {QUERY}"
            )));
        }
        let timestamp_columns: Vec<String> = c
            .list(TIMESTAMP_COLUMN)
            .iter()
            .filter(|s| !s.trim().is_empty())
            .cloned()
            .collect();
        let incrementing_column = c
            .string(INCREMENTING_COLUMN)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let timestamp_mapping =
            ColumnMapping::parse(MappingKind::Timestamp, c.list(TIMESTAMP_COLUMNS_MAPPING))?;
        let incrementing_mapping = ColumnMapping::parse(
            MappingKind::Incrementing,
            c.list(INCREMENTING_COLUMN_MAPPING),
        )?;
        for (legacy, set, mapping, mapped) in [
            (
                TIMESTAMP_COLUMN,
                !timestamp_columns.is_empty(),
                TIMESTAMP_COLUMNS_MAPPING,
                !timestamp_mapping.is_empty(),
            ),
            (
                INCREMENTING_COLUMN,
                incrementing_column.is_some(),
                INCREMENTING_COLUMN_MAPPING,
                !incrementing_mapping.is_empty(),
            ),
        ] {
            if set && mapped {
                return Err(ConnectError::config(format!(
                    "Cannot use both {legacy} and {mapping}. Use {mapping} for new implementations."
                )));
            }
        }
        if matches!(mode, Mode::Timestamp | Mode::TimestampIncrementing)
            && timestamp_columns.is_empty()
            && timestamp_mapping.is_empty()
        {
            return Err(ConnectError::config(format!(
                "Invalid value for configuration {TIMESTAMP_COLUMN}: mode {} requires at least one timestamp column",
                c.string(MODE).unwrap_or_default()
            )));
        }
        let isolation = IsolationMode::parse(c.string(TRANSACTION_ISOLATION_MODE).unwrap_or(""))?;
        let connection = connection_settings(&c)?;
        let mapping = MappingRules {
            // The deprecated boolean counts only when numeric.mapping is unset (Confluent's rule).
            numeric: match c.string(NUMERIC_MAPPING) {
                None if c.boolean(NUMERIC_PRECISION_MAPPING) => NumericMapping::PrecisionOnly,
                m => NumericMapping::parse(m),
            },
            timestamps: TimestampGranularity::parse(c.string(TIMESTAMP_GRANULARITY).unwrap_or("")),
            zone: connection.timezone,
        };
        Ok(SourceSettings {
            connection,
            mode,
            incrementing_column,
            timestamp_columns,
            incrementing_mapping,
            timestamp_mapping,
            timestamp_initial: match c.value(TIMESTAMP_INITIAL) {
                Some(ParsedValue::Long(v)) => Some(*v),
                _ => None,
            },
            timestamp_delay_ms: c.long(TIMESTAMP_DELAY).max(0),
            validate_non_null: c.boolean(VALIDATE_NON_NULL),
            include,
            exclude,
            schema_pattern: c
                .string(SCHEMA_PATTERN)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            catalog_pattern: c
                .string(CATALOG_PATTERN)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            table_types: c.list(TABLE_TYPES).to_vec(),
            query,
            query_suffix: c.string(QUERY_SUFFIX).unwrap_or_default().to_owned(),
            query_retry_attempts: u32::try_from(c.int(QUERY_RETRY_ATTEMPTS)).ok(),
            isolation,
            topic_prefix: c.string(TOPIC_PREFIX).unwrap_or_default().to_owned(),
            poll_interval_ms: c.int(POLL_INTERVAL).max(0) as u64,
            batch_max_rows: c.int(BATCH_MAX_ROWS).max(1) as usize,
            table_poll_interval_ms: c.long(TABLE_POLL_INTERVAL).max(0) as u64,
            mapping,
            quote: QuoteMode::parse(c.string(QUOTE_SQL_IDENTIFIERS).unwrap_or("always")),
        })
    }
}

/// `insert.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InsertMode {
    Insert,
    Upsert,
    Update,
}

/// `pk.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PkMode {
    None,
    Kafka,
    RecordKey,
    RecordValue,
}

impl PkMode {
    /// The upper-case name Confluent's messages use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PkMode::None => "NONE",
            PkMode::Kafka => "KAFKA",
            PkMode::RecordKey => "RECORD_KEY",
            PkMode::RecordValue => "RECORD_VALUE",
        }
    }
}

/// The sink task's settings.
#[derive(Debug, Clone)]
pub(crate) struct SinkSettings {
    pub(crate) connection: ConnectionSettings,
    pub(crate) insert_mode: InsertMode,
    pub(crate) pk_mode: PkMode,
    pub(crate) pk_fields: Vec<String>,
    pub(crate) fields_whitelist: Vec<String>,
    pub(crate) table_name_format: String,
    pub(crate) auto_create: bool,
    pub(crate) auto_evolve: bool,
    pub(crate) delete_enabled: bool,
    pub(crate) batch_size: usize,
    pub(crate) max_retries: u32,
    pub(crate) retry_backoff_ms: u64,
    pub(crate) quote: QuoteMode,
    pub(crate) connector_name: String,
    /// `replace.null.with.default`: a null field with a schema default is written as the default.
    pub(crate) replace_null_with_default: bool,
    /// `timestamp.fields.list`: value fields holding epoch timestamps.
    pub(crate) timestamp_fields: Vec<String>,
    /// `timestamp.precision.mode`: their unit.
    pub(crate) timestamp_precision: EpochUnit,
}

/// The unit of `timestamp.fields.list` values (`timestamp.precision.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EpochUnit {
    Micros,
    Nanos,
}

impl SinkSettings {
    /// Parses and checks the cross-key rules; errors name the keys.
    pub(crate) fn parse(props: &Props) -> Result<Self> {
        let c = sink_config_def().parse(props)?;
        let insert_mode = match c
            .string(INSERT_MODE)
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "upsert" => InsertMode::Upsert,
            "update" => InsertMode::Update,
            _ => InsertMode::Insert,
        };
        let pk_mode = match c
            .string(PK_MODE)
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "kafka" => PkMode::Kafka,
            "record_key" => PkMode::RecordKey,
            "record_value" => PkMode::RecordValue,
            _ => PkMode::None,
        };
        let delete_enabled = c.boolean(DELETE_ENABLED);
        if delete_enabled && pk_mode != PkMode::RecordKey {
            return Err(ConnectError::config(format!(
                "Invalid value {} for configuration {PK_MODE}: Primary key mode must be 'record_key' when delete support is enabled",
                c.string(PK_MODE).unwrap_or_default()
            )));
        }
        if insert_mode != InsertMode::Insert && pk_mode == PkMode::None {
            return Err(ConnectError::config(format!(
                "Invalid value none for configuration {PK_MODE}: {INSERT_MODE}={} needs primary key columns; set {PK_MODE}",
                c.string(INSERT_MODE).unwrap_or_default()
            )));
        }
        let pk_fields = c.list(PK_FIELDS).to_vec();
        if pk_mode == PkMode::Kafka && !pk_fields.is_empty() && pk_fields.len() != 3 {
            return Err(ConnectError::config(format!(
                "Invalid value {} for configuration {PK_FIELDS}: PK mode for Kafka coordinates requires exactly three fields (topic, partition, offset)",
                pk_fields.join(",")
            )));
        }
        let mut fields_whitelist = c.list(FIELDS_WHITELIST).to_vec();
        fields_whitelist.extend(c.list(FIELDS_INCLUDE_LIST).iter().cloned());
        Ok(SinkSettings {
            connection: connection_settings(&c)?,
            insert_mode,
            pk_mode,
            pk_fields,
            fields_whitelist,
            table_name_format: c.string(TABLE_NAME_FORMAT).unwrap_or("${topic}").to_owned(),
            auto_create: c.boolean(AUTO_CREATE),
            auto_evolve: c.boolean(AUTO_EVOLVE),
            delete_enabled,
            batch_size: c.int(BATCH_SIZE).max(1) as usize,
            max_retries: c.int(MAX_RETRIES).max(0) as u32,
            retry_backoff_ms: c.int(RETRY_BACKOFF).max(0) as u64,
            quote: QuoteMode::parse(c.string(QUOTE_SQL_IDENTIFIERS).unwrap_or("always")),
            connector_name: props.get("name").cloned().unwrap_or_default(),
            replace_null_with_default: c.boolean(REPLACE_NULL_WITH_DEFAULT),
            timestamp_fields: c.list(TIMESTAMP_FIELDS_LIST).to_vec(),
            timestamp_precision: match c.string(TIMESTAMP_PRECISION_MODE) {
                Some("nanoseconds") => EpochUnit::Nanos,
                _ => EpochUnit::Micros,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn source_parses_confluent_keys() {
        let s = SourceSettings::parse(&props(&[
            ("connection.url", "jdbc:mysql://h/db"),
            ("connection.password", "secret"),
            ("mode", "timestamp+incrementing "),
            ("timestamp.column.name", "updated_at, created_at"),
            ("incrementing.column.name", "id"),
            ("table.whitelist", "a, b"),
            ("topic.prefix", "mysql-"),
            ("numeric.mapping", "BEST_FIT"),
            ("validate.non.null", "false"),
        ]))
        .unwrap();
        assert_eq!(s.mode, Mode::TimestampIncrementing);
        assert_eq!(s.timestamp_columns, ["updated_at", "created_at"]);
        assert_eq!(s.include, ["a", "b"]);
        assert_eq!(s.batch_max_rows, 1000);
        assert_eq!(s.poll_interval_ms, 5000);
        assert_eq!(s.mapping.numeric, NumericMapping::BestFit);
        assert_eq!(s.mapping.timestamps, TimestampGranularity::ConnectLogical);
        assert_eq!(s.connection.password.as_deref(), Some("secret"));
        assert!(!s.validate_non_null);
    }

    #[test]
    fn source_errors_name_keys() {
        let base = [
            ("connection.url", "jdbc:postgresql://h/db"),
            ("topic.prefix", "p"),
        ];
        let table: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("mode", "nope")], "Invalid value nope for configuration mode: String must be one of (case insensitive): bulk, timestamp, incrementing, timestamp+incrementing"),
            (vec![("mode", "timestamp")], "Invalid value for configuration timestamp.column.name: mode timestamp requires at least one timestamp column"),
            (vec![("mode", "bulk"), ("table.whitelist", "a"), ("table.blacklist", "b")], "Only one of table.whitelist/table.include.list or table.blacklist/table.exclude.list can be set"),
            (vec![("mode", "bulk"), ("connection.url", "jdbc:sqlserver://h")], "Invalid value jdbc:sqlserver://h for configuration connection.url"),
            (vec![("mode", "bulk"), ("db.timezone", "Mars/Base")], "Invalid value Mars/Base for configuration db.timezone"),
        ];
        for (extra, msg) in table {
            let mut p = props(&base);
            p.extend(props(&extra));
            let err = SourceSettings::parse(&p).unwrap_err();
            assert!(err.message().starts_with(msg), "{extra:?}: {err}");
        }
    }

    #[test]
    fn source_query_and_isolation_keys() {
        let base = [
            ("connection.url", "jdbc:postgresql://h/db"),
            ("topic.prefix", "p"),
            ("mode", "bulk"),
        ];
        let s = SourceSettings::parse(&props(&base)).unwrap();
        assert_eq!(
            (s.query_retry_attempts, s.isolation),
            (None, IsolationMode::Default)
        );
        let mut p = props(&base);
        p.extend(props(&[
            ("query.retry.attempts", "3"),
            ("transaction.isolation.mode", "read_committed"),
        ]));
        let s = SourceSettings::parse(&p).unwrap();
        assert_eq!(s.query_retry_attempts, Some(3));
        for (extra, want) in [
            (
                vec![("numeric.precision.mapping", "true")],
                NumericMapping::PrecisionOnly,
            ),
            (
                vec![
                    ("numeric.precision.mapping", "true"),
                    ("numeric.mapping", "best_fit"),
                ],
                NumericMapping::BestFit,
            ),
        ] {
            let mut p = props(&base);
            p.extend(props(&extra));
            assert_eq!(
                SourceSettings::parse(&p).unwrap().mapping.numeric,
                want,
                "{extra:?}"
            );
        }
        assert_eq!(s.isolation.sql_level(), Some("READ COMMITTED"));
        let table: Vec<(&str, &str, &str)> = vec![
            ("transaction.isolation.mode", "SQL_SERVER_SNAPSHOT", "Isolation mode of `SQL_SERVER_SNAPSHOT` can only be configured with a Sql Server Dialect"),
            ("transaction.isolation.mode", "CHAOS", "Invalid value CHAOS for configuration transaction.isolation.mode"),
            ("query.retry.attempts", "-2", "Invalid value -2 for configuration query.retry.attempts"),
        ];
        for (k, v, msg) in table {
            let mut p = props(&base);
            p.insert(k.into(), v.into());
            let err = SourceSettings::parse(&p).unwrap_err();
            assert!(err.message().contains(msg), "{k}={v}: {err}");
        }
    }

    /// Sink keys Ferry accepts for compatibility: the values that equal its behaviour pass,
    /// those it cannot honour are refused with a reason.
    #[test]
    fn sink_compatibility_keys() {
        let table = [
            ("date.timezone", "UTC", true),
            ("date.timezone", "db_timezone", true),
            ("date.timezone", "Europe/Paris", false),
            ("timestamp.precision.mode", "nanoseconds", true),
            ("timestamp.precision.mode", "millis", false),
            ("replace.null.with.default", "true", true),
            ("replace.null.with.default", "false", true),
        ];
        for (k, v, ok) in table {
            let p = props(&[("connection.url", "jdbc:postgresql://h/db"), (k, v)]);
            let got = SinkSettings::parse(&p);
            assert_eq!(got.is_ok(), ok, "{k}={v}: {:?}", got.err());
            if let Err(e) = got {
                assert!(e.message().contains(k), "{e}");
            }
        }
    }

    #[test]
    fn sink_cross_key_rules() {
        let base = [("connection.url", "jdbc:postgresql://h/db")];
        let ok = SinkSettings::parse(&props(&base)).unwrap();
        assert_eq!(
            (ok.insert_mode, ok.pk_mode, ok.batch_size, ok.max_retries),
            (InsertMode::Insert, PkMode::None, 3000, 10)
        );
        let table: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (
                vec![("delete.enabled", "true"), ("pk.mode", "record_value")],
                "Primary key mode must be 'record_key' when delete support is enabled",
            ),
            (
                vec![("insert.mode", "upsert")],
                "insert.mode=upsert needs primary key columns",
            ),
            (
                vec![("pk.mode", "kafka"), ("pk.fields", "a,b")],
                "requires exactly three fields",
            ),
        ];
        for (extra, msg) in table {
            let mut p = props(&base);
            p.extend(props(&extra));
            let err = SinkSettings::parse(&p).unwrap_err();
            assert!(err.message().contains(msg), "{extra:?}: {err}");
        }
    }

    #[test]
    fn validate_reports_cross_key_errors_on_their_key() {
        let p = props(&[
            ("connection.url", "jdbc:mysql://h/db"),
            ("insert.mode", "upsert"),
        ]);
        let values = validate_with(&sink_config_def(), &p, |p| {
            SinkSettings::parse(p).map(|_| ())
        });
        let with_errors: Vec<(&str, &[String])> = values
            .iter()
            .filter(|v| !v.errors.is_empty())
            .map(|v| (v.name.as_str(), v.errors.as_slice()))
            .collect();
        assert_eq!(with_errors.len(), 1, "{with_errors:?}");
        assert_eq!(with_errors[0].0, "pk.mode");
        assert!(with_errors[0].1[0].contains("needs primary key columns"));
    }

    #[test]
    fn validate_reports_a_conflict_on_both_keys() {
        let p = props(&[
            ("connection.url", "jdbc:mysql://h/db"),
            ("topic.prefix", "t"),
            ("mode", "timestamp"),
            ("timestamp.column.name", "ts"),
            ("timestamp.columns.mapping", ".*:[ts]"),
        ]);
        let values = validate_with(&source_config_def(), &p, |p| {
            SourceSettings::parse(p).map(|_| ())
        });
        let with_errors: Vec<&str> = values
            .iter()
            .filter(|v| !v.errors.is_empty())
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(
            with_errors,
            ["timestamp.column.name", "timestamp.columns.mapping"]
        );
        assert!(names_key("Use query.suffix.", "query.suffix"));
        assert!(!names_key("Use query.suffix.", "query"));
        assert!(!names_key(
            "the timestamp.columns.mapping key",
            "timestamp.column"
        ));
    }

    #[test]
    fn validate_hides_the_password() {
        let values = sink_config_def().validate(&props(&[
            ("connection.url", "jdbc:mysql://h/db"),
            ("connection.password", "pw"),
        ]));
        let pw = values
            .iter()
            .find(|v| v.name == CONNECTION_PASSWORD)
            .unwrap();
        assert_eq!(pw.value.as_deref(), Some("[hidden]"));
        assert!(values.iter().all(|v| v.errors.is_empty()), "{values:?}");
    }
}
