//! Run-time log levels, as Connect's `/admin/loggers` exposes them (COMPAT §1.2).
//!
//! Connect names loggers after Java classes and speaks log4j levels; Ferry logs with `tracing`.
//! [`LogLevels`] keeps Connect's view (logger name → log4j level, with the time it was last
//! changed through REST) and turns it into an [`EnvFilter`] that it swaps into the running
//! subscriber through a reload handle. Logger names are kept exactly as given: Rust targets such
//! as `ferry_worker::rest` take effect as tracing targets, Java names such as
//! `org.apache.kafka.connect` are accepted and reported back but match no Rust event. `root` is
//! the default level.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tracing_subscriber::filter::{Directive, LevelFilter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter};

/// The name Connect gives the root logger.
pub const ROOT_LOGGER: &str = "root";

/// A log4j level, as `/admin/loggers` accepts and reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log4jLevel {
    /// Nothing is logged.
    Off,
    /// log4j's FATAL; tracing has no such level, so it logs errors.
    Fatal,
    /// Errors.
    Error,
    /// Warnings.
    Warn,
    /// Information.
    Info,
    /// Debugging.
    Debug,
    /// Tracing.
    Trace,
    /// log4j's ALL; the same as TRACE in tracing.
    All,
}

impl Log4jLevel {
    /// The upper-case log4j name Connect reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Log4jLevel::Off => "OFF",
            Log4jLevel::Fatal => "FATAL",
            Log4jLevel::Error => "ERROR",
            Log4jLevel::Warn => "WARN",
            Log4jLevel::Info => "INFO",
            Log4jLevel::Debug => "DEBUG",
            Log4jLevel::Trace => "TRACE",
            Log4jLevel::All => "ALL",
        }
    }

    /// The tracing filter the level stands for.
    pub fn level_filter(self) -> LevelFilter {
        match self {
            Log4jLevel::Off => LevelFilter::OFF,
            Log4jLevel::Fatal | Log4jLevel::Error => LevelFilter::ERROR,
            Log4jLevel::Warn => LevelFilter::WARN,
            Log4jLevel::Info => LevelFilter::INFO,
            Log4jLevel::Debug => LevelFilter::DEBUG,
            Log4jLevel::Trace | Log4jLevel::All => LevelFilter::TRACE,
        }
    }
}

impl fmt::Display for Log4jLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Log4jLevel {
    type Err = String;
    /// Parses a log4j level name, case-insensitively. The error is Connect's 404 message.
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "OFF" => Log4jLevel::Off,
            "FATAL" => Log4jLevel::Fatal,
            "ERROR" => Log4jLevel::Error,
            "WARN" => Log4jLevel::Warn,
            "INFO" => Log4jLevel::Info,
            "DEBUG" => Log4jLevel::Debug,
            "TRACE" => Log4jLevel::Trace,
            "ALL" => Log4jLevel::All,
            _ => return Err(format!("invalid log level '{s}'.")),
        })
    }
}

/// One entry of `GET /admin/loggers`: `{"level":"INFO","last_modified":null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggerLevel {
    /// Upper-case log4j level.
    pub level: String,
    /// Epoch milliseconds of the last change through REST; null for levels set at start-up.
    pub last_modified: Option<u64>,
}

/// Swaps a new filter into the running subscriber.
type Reloader = Box<dyn Fn(EnvFilter) -> Result<(), String> + Send + Sync>;

/// Connect's view of the levels: root plus every logger whose level was set explicitly.
#[derive(Debug, Clone)]
struct Levels {
    root: (Log4jLevel, Option<u64>),
    loggers: BTreeMap<String, (Log4jLevel, Option<u64>)>,
}

struct Inner {
    levels: Mutex<Levels>,
    reload: Reloader,
    now_ms: fn() -> u64,
}

/// The worker's log levels, shared by the REST layer and whoever installed the subscriber.
/// Cloning shares the same levels.
#[derive(Clone)]
pub struct LogLevels {
    inner: Arc<Inner>,
}

impl fmt::Debug for LogLevels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLevels")
            .field("levels", &*self.lock())
            .finish()
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Parses the start-up spec: comma-separated items, each a level (the root level, log4j or
/// tracing names) or `logger=level`. Unparseable items are reported on stderr and skipped, so a
/// typo in a log setting never stops the worker.
fn parse_spec(spec: &str) -> Levels {
    let mut levels = Levels {
        root: (Log4jLevel::Info, None),
        loggers: BTreeMap::new(),
    };
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, level) = match item.rsplit_once('=') {
            Some((name, level)) => (Some(name.trim()), level.trim()),
            None => (None, item),
        };
        let Ok(level) = level.parse::<Log4jLevel>() else {
            eprintln!("ignoring log setting '{item}': unknown level '{level}'");
            continue;
        };
        match name {
            None => levels.root = (level, None),
            Some(name) if name.eq_ignore_ascii_case(ROOT_LOGGER) => levels.root = (level, None),
            Some(name) => {
                levels.loggers.insert(name.to_owned(), (level, None));
            }
        }
    }
    levels
}

/// The tracing filter for `levels`. Loggers whose names cannot be a tracing target (they contain
/// characters the directive syntax reserves) are kept in the REST view but left out here.
fn env_filter(levels: &Levels) -> EnvFilter {
    let mut filter =
        EnvFilter::default().add_directive(Directive::from(levels.root.0.level_filter()));
    for (name, (level, _)) in &levels.loggers {
        if name.contains(['=', ',', '[', ']', '{', '}', ' ']) {
            continue;
        }
        if let Ok(directive) = format!("{name}={}", level.level_filter()).parse::<Directive>() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

impl LogLevels {
    /// Levels that drive `handle` (the reload handle of an [`EnvFilter`] layer), starting from
    /// `spec` (see [`init_logging`]). The filter is applied at once.
    pub fn from_handle<S: 'static>(handle: reload::Handle<EnvFilter, S>, spec: &str) -> Self {
        let reload: Reloader = Box::new(move |f| handle.reload(f).map_err(|e| e.to_string()));
        Self::with_parts(parse_spec(spec), reload, epoch_ms)
    }

    fn with_parts(levels: Levels, reload: Reloader, now_ms: fn() -> u64) -> Self {
        let this = LogLevels {
            inner: Arc::new(Inner {
                levels: Mutex::new(levels),
                reload,
                now_ms,
            }),
        };
        this.apply(&this.lock());
        this
    }

    fn lock(&self) -> MutexGuard<'_, Levels> {
        // A panic while holding the lock leaves the map consistent (every write is one insert).
        self.inner.levels.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn apply(&self, levels: &Levels) {
        if let Err(e) = (self.inner.reload)(env_filter(levels)) {
            tracing::warn!("could not apply new log levels: {e}");
        }
    }

    /// `GET /admin/loggers`: root plus every explicitly set logger, sorted by name.
    pub fn all(&self) -> BTreeMap<String, LoggerLevel> {
        let levels = self.lock();
        let entry = |(level, modified): &(Log4jLevel, Option<u64>)| LoggerLevel {
            level: level.as_str().to_owned(),
            last_modified: *modified,
        };
        let mut out: BTreeMap<String, LoggerLevel> = levels
            .loggers
            .iter()
            .map(|(name, l)| (name.clone(), entry(l)))
            .collect();
        out.insert(ROOT_LOGGER.to_owned(), entry(&levels.root));
        out
    }

    /// `GET /admin/loggers/{name}`: the level of root or of an explicitly set logger; None for a
    /// logger nobody set (Connect's 404).
    pub fn get(&self, name: &str) -> Option<LoggerLevel> {
        let levels = self.lock();
        let (level, modified) = if name.eq_ignore_ascii_case(ROOT_LOGGER) {
            levels.root
        } else {
            *levels.loggers.get(name)?
        };
        Some(LoggerLevel {
            level: level.as_str().to_owned(),
            last_modified: modified,
        })
    }

    /// `PUT /admin/loggers/{namespace}`: sets `namespace` and every set logger whose name starts
    /// with it (all of them for `root`), as Connect does. Returns the affected names, sorted.
    pub fn set(&self, namespace: &str, level: Log4jLevel) -> Vec<String> {
        let now = (self.inner.now_ms)();
        let mut levels = self.lock();
        let mut affected = Vec::new();
        let is_root = namespace.eq_ignore_ascii_case(ROOT_LOGGER);
        if is_root {
            levels.root = (level, Some(now));
            affected.push(ROOT_LOGGER.to_owned());
        } else {
            levels
                .loggers
                .insert(namespace.to_owned(), (level, Some(now)));
        }
        for (name, entry) in levels.loggers.iter_mut() {
            if is_root || name.starts_with(namespace) {
                *entry = (level, Some(now));
                affected.push(name.clone());
            }
        }
        affected.sort();
        tracing::info!("Setting level of namespace {namespace} and children to {level}");
        self.apply(&levels);
        affected
    }
}

/// Installs the process-wide subscriber (plain text to stderr) and returns the levels that
/// `/admin/loggers` changes. Called once by the binary.
///
/// `spec` is a comma-separated list of a root level and `logger=level` items, levels in log4j
/// or tracing spelling: `INFO`, `warn,ferry_worker=debug`, `INFO,org.apache.kafka.connect=DEBUG`.
pub fn init_logging(spec: &str) -> LogLevels {
    let (filter, handle) = reload::Layer::new(EnvFilter::default());
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr));
    if let Err(e) = registry.try_init() {
        eprintln!("logging was already initialised: {e}");
    }
    LogLevels::from_handle(handle, spec)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tracing::Level;

    /// The time every change is stamped with in tests.
    pub(crate) const NOW: u64 = 1_700_000_000_000;

    /// Levels that drive nothing, for tests of the REST mapping.
    pub(crate) fn detached(spec: &str) -> LogLevels {
        LogLevels::with_parts(parse_spec(spec), Box::new(|_| Ok(())), || NOW)
    }

    fn names(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    #[test]
    fn parses_log4j_levels_case_insensitively() {
        let table = [
            ("off", Log4jLevel::Off, LevelFilter::OFF),
            ("Fatal", Log4jLevel::Fatal, LevelFilter::ERROR),
            ("ERROR", Log4jLevel::Error, LevelFilter::ERROR),
            ("warn", Log4jLevel::Warn, LevelFilter::WARN),
            ("INFO", Log4jLevel::Info, LevelFilter::INFO),
            ("debug", Log4jLevel::Debug, LevelFilter::DEBUG),
            ("TRACE", Log4jLevel::Trace, LevelFilter::TRACE),
            ("all", Log4jLevel::All, LevelFilter::TRACE),
        ];
        for (text, level, filter) in table {
            assert_eq!(text.parse::<Log4jLevel>(), Ok(level), "{text}");
            assert_eq!(level.level_filter(), filter, "{text}");
        }
        assert_eq!(
            "VERBOSE".parse::<Log4jLevel>(),
            Err("invalid log level 'VERBOSE'.".to_owned())
        );
    }

    #[test]
    fn start_up_spec_sets_root_and_loggers_without_timestamps() {
        let logs = detached("warn, org.apache.kafka=DEBUG,bogus=LOUD");
        let all = logs.all();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["org.apache.kafka", "root"]);
        assert_eq!(
            all["root"],
            LoggerLevel {
                level: "WARN".into(),
                last_modified: None
            }
        );
        assert_eq!(
            all["org.apache.kafka"],
            LoggerLevel {
                level: "DEBUG".into(),
                last_modified: None
            }
        );
        assert_eq!(logs.get("bogus"), None);
        assert_eq!(logs.get("ROOT").unwrap().level, "WARN");
    }

    #[test]
    fn setting_a_prefix_changes_the_loggers_under_it() {
        let logs = detached("INFO");
        assert_eq!(
            names(&logs.set("org.apache.kafka.connect.runtime.Worker", Log4jLevel::Trace)),
            ["org.apache.kafka.connect.runtime.Worker"]
        );
        assert_eq!(
            names(&logs.set("org.apache.kafka", Log4jLevel::Debug)),
            [
                "org.apache.kafka",
                "org.apache.kafka.connect.runtime.Worker"
            ]
        );
        let worker = logs.get("org.apache.kafka.connect.runtime.Worker").unwrap();
        assert_eq!(
            worker,
            LoggerLevel {
                level: "DEBUG".into(),
                last_modified: Some(NOW)
            }
        );
        // root is untouched by a child's change, and `root` reaches every set logger.
        assert_eq!(
            logs.get("root").unwrap(),
            LoggerLevel {
                level: "INFO".into(),
                last_modified: None
            }
        );
        assert_eq!(
            names(&logs.set("root", Log4jLevel::Error)),
            [
                "org.apache.kafka",
                "org.apache.kafka.connect.runtime.Worker",
                "root"
            ]
        );
        assert!(logs
            .all()
            .values()
            .all(|l| l.level == "ERROR" && l.last_modified == Some(NOW)));
    }

    #[test]
    fn levels_reach_the_subscriber_through_the_reload_handle() {
        let (layer, handle) = reload::Layer::new(EnvFilter::default());
        let subscriber = tracing_subscriber::registry().with(layer);
        let logs = LogLevels::from_handle(handle, "INFO,org.apache.kafka=DEBUG");
        tracing::subscriber::with_default(subscriber, || {
            assert!(tracing::enabled!(target: "ferry_worker::rest", Level::INFO));
            assert!(!tracing::enabled!(target: "ferry_worker::rest", Level::DEBUG));
            logs.set("ferry_worker", Log4jLevel::Debug);
            assert!(tracing::enabled!(target: "ferry_worker::rest", Level::DEBUG));
            assert!(!tracing::enabled!(target: "other_crate", Level::DEBUG));
            logs.set("root", Log4jLevel::Off);
            assert!(!tracing::enabled!(target: "ferry_worker::rest", Level::ERROR));
            assert!(!tracing::enabled!(target: "other_crate", Level::ERROR));
        });
    }
}
