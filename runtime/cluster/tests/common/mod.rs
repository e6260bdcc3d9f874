//! Shared helpers of the integration tests: the broker address and unique names.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

/// The broker from `FERRY_TEST_BOOTSTRAP`, or `None` (with a message) to skip the test.
pub(crate) fn bootstrap(test: &str) -> Option<String> {
    match std::env::var("FERRY_TEST_BOOTSTRAP") {
        Ok(b) if !b.trim().is_empty() => Some(b),
        _ => {
            eprintln!(
                "SKIPPED {test}: FERRY_TEST_BOOTSTRAP is not set (start a broker with \
                 integration/scripts/start-broker.sh DIR and export its address)"
            );
            None
        }
    }
}

/// A name unique to this test process and call, so reruns against one broker never collide.
pub(crate) fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
