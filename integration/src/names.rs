//! Unique names and ports, so that tests running in parallel (and repeated runs
//! against one long-lived broker) never collide.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
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
/// kernel), and never one this process handed out before: the kernel may offer
/// a just-released port again, and two workers started back to back on the
/// same port left one of them unbound while the test counted it as running.
/// Another process may still take the port before it is used.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind 127.0.0.1:0 to find a free port");
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_never_handed_out_twice() {
        let ports: BTreeSet<u16> = (0..200).map(|_| free_port()).collect();
        assert_eq!(ports.len(), 200);
    }

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
