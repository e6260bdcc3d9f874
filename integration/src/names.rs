//! Unique names and ports, so that tests running in parallel (and repeated runs
//! against one long-lived broker) never collide.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `"{prefix}-{pid}-{n}-{micros}"`: unique within this process (the counter)
/// and across processes and runs (pid and clock). Valid as a topic, connector
/// or group name.
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() % 1_000_000_000)
        .unwrap_or_default();
    format!("{prefix}-{}-{n}-{micros}", std::process::id())
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (chosen by the
/// kernel). Another process may still take it before it is used; the kernel
/// hands ephemeral ports out in turn, which makes that rare.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0 to find a free port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_keep_the_prefix() {
        let a = unique_name("topic");
        let b = unique_name("topic");
        assert_ne!(a, b);
        assert!(a.starts_with("topic-"));
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
