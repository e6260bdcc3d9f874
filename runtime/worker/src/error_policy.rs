//! The connector's error-handling settings (COMPAT §8) as the task runners apply them to the
//! converter and transform stages: tolerance, logging, and the retry schedule for retriable errors
//! (`errors.retry.timeout`, backoff from 300 ms doubling up to `errors.retry.delay.max.ms`).

use std::time::{Duration, Instant};

use ferry_api::Props;

/// Parsed `errors.*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPolicy {
    /// `errors.tolerance=all`: skip records failing conversion or transformation.
    pub tolerate_all: bool,
    /// `errors.log.enable`.
    pub log_errors: bool,
    /// `errors.log.include.messages`.
    pub log_messages: bool,
    /// `errors.retry.timeout`: None = retry forever (-1), zero = no retries.
    pub retry_timeout: Option<Duration>,
    /// `errors.retry.delay.max.ms`.
    pub retry_delay_max: Duration,
    /// Ferry extension: `ferry.errors.deadletterqueue.source.enable` sends failed source records
    /// to `errors.deadletterqueue.topic.name` (Kafka Connect ignores DLQ keys on sources).
    pub source_dlq: bool,
}

/// The first backoff of a retried operation (Connect's `RetryWithToleranceOperator`).
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(300);

impl ErrorPolicy {
    /// Reads the policy from a connector config (already validated, so lenient here).
    pub fn from_connector_config(props: &Props) -> Self {
        let flag = |k: &str| {
            props
                .get(k)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        };
        let long = |k: &str, d: i64| {
            props
                .get(k)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(d)
        };
        let timeout = long("errors.retry.timeout", 0);
        ErrorPolicy {
            tolerate_all: props
                .get("errors.tolerance")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("all")),
            log_errors: flag("errors.log.enable"),
            log_messages: flag("errors.log.include.messages"),
            retry_timeout: (timeout >= 0).then(|| Duration::from_millis(timeout as u64)),
            retry_delay_max: Duration::from_millis(
                long("errors.retry.delay.max.ms", 60_000).max(0) as u64,
            ),
            source_dlq: flag("ferry.errors.deadletterqueue.source.enable"),
        }
    }

    /// A retry schedule for one operation started now.
    pub fn retries(&self) -> RetrySchedule {
        RetrySchedule {
            deadline: self.retry_timeout.map(|t| Instant::now() + t),
            next: FIRST_RETRY_DELAY,
            max: self.retry_delay_max.max(Duration::from_millis(1)),
        }
    }
}

/// Delays between retries of one operation, ending at the retry timeout.
#[derive(Debug, Clone)]
pub struct RetrySchedule {
    deadline: Option<Instant>,
    next: Duration,
    max: Duration,
}

impl RetrySchedule {
    /// The delay before the next attempt, or None when the timeout does not leave room for one.
    pub fn next_delay(&mut self) -> Option<Duration> {
        let delay = self.next.min(self.max);
        if let Some(deadline) = self.deadline {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            // Never sleep past the deadline; the last attempt happens at it.
            let left = deadline - now;
            self.next = (self.next * 2).min(self.max);
            return Some(delay.min(left));
        }
        self.next = (self.next * 2).min(self.max);
        Some(delay)
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
    fn defaults_mean_no_retries() {
        let p = ErrorPolicy::from_connector_config(&Props::new());
        assert!(!p.tolerate_all);
        assert_eq!(p.retry_timeout, Some(Duration::ZERO));
        assert_eq!(p.retries().next_delay(), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_forever_with_minus_one() {
        let p = ErrorPolicy::from_connector_config(&props(&[
            ("errors.retry.timeout", "-1"),
            ("errors.retry.delay.max.ms", "1000"),
            ("errors.tolerance", "ALL"),
        ]));
        assert!(p.tolerate_all);
        let mut s = p.retries();
        let delays: Vec<u128> = (0..5)
            .map(|_| s.next_delay().unwrap().as_millis())
            .collect();
        assert_eq!(delays, [300, 600, 1000, 1000, 1000]);
    }
}
