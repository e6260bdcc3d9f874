//! Errors carry two facts: whose fault it is ([`ErrorKind`]) and whether retrying can help
//! (`retriable`). The engine maps them onto Connect's behaviour: retriable errors are retried with
//! backoff within `errors.retry.timeout`, everything else fails the task (or is tolerated per
//! `errors.tolerance` on the stages where Connect tolerates errors).

use std::fmt;

/// Whose fault an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user's configuration is wrong (a missing key, a bad value). Never retriable.
    Config,
    /// A record does not fit its schema or cannot be converted (Connect's `DataException`).
    Data,
    /// The external system failed or refused (database down, broker unreachable).
    External,
    /// A bug or an impossible state inside Ferry or a plugin.
    Internal,
}

impl ErrorKind {
    /// The Java exception class name Connect users know this kind by; used at the head of `trace`.
    pub fn java_class(self, retriable: bool) -> &'static str {
        match (self, retriable) {
            (_, true) => "org.apache.kafka.connect.errors.RetriableException",
            (ErrorKind::Config, _) => "org.apache.kafka.common.config.ConfigException",
            (ErrorKind::Data, _) => "org.apache.kafka.connect.errors.DataException",
            _ => "org.apache.kafka.connect.errors.ConnectException",
        }
    }
}

/// The one error type of the plugin API.
#[derive(Debug)]
pub struct ConnectError {
    kind: ErrorKind,
    retriable: bool,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Result with [`ConnectError`].
pub type Result<T, E = ConnectError> = std::result::Result<T, E>;

impl ConnectError {
    /// A new error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnectError {
            kind,
            retriable: false,
            message: message.into(),
            source: None,
        }
    }
    /// A configuration error; the message should name the key at fault.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    /// A data error (Connect's `DataException`).
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data, message)
    }
    /// A failure of an external system that retrying will not fix.
    pub fn external(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::External, message)
    }
    /// A failure of an external system that may pass (Connect's `RetriableException`).
    pub fn retriable(message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::External, message);
        e.retriable = true;
        e
    }
    /// An internal error (a bug, an impossible state).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    /// Attaches the underlying cause; it appears in [`ConnectError::trace`].
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
    /// Prefixes the message with context (`"{context}: {message}"`), keeping kind and cause.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
    /// Whose fault this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// Whether retrying the same operation may succeed.
    pub fn is_retriable(&self) -> bool {
        self.retriable
    }
    /// The message without the cause chain.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The Java-style exception class name of this error (for DLQ headers and traces).
    pub fn java_class(&self) -> &'static str {
        self.kind.java_class(self.retriable)
    }
    /// The error chain as Connect shows it in a FAILED status `trace`: the error, then each cause
    /// on a `Caused by:` line.
    pub fn trace(&self) -> String {
        let mut out = format!("{}: {}", self.java_class(), self.message);
        let mut cause: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static));
        while let Some(c) = cause {
            out.push_str("\nCaused by: ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for ConnectError {
    fn from(e: std::io::Error) -> Self {
        let retriable = matches!(
            e.kind(),
            std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
        );
        let mut err = ConnectError::external(e.to_string()).with_source(e);
        err.retriable = retriable;
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_lists_the_cause_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = ConnectError::external("cannot open /x").with_source(io);
        assert_eq!(
            e.trace(),
            "org.apache.kafka.connect.errors.ConnectException: cannot open /x\nCaused by: no such file"
        );
        assert!(!e.is_retriable());
        assert!(ConnectError::retriable("later").is_retriable());
    }
}
