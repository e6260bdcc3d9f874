//! Waiting on conditions with a deadline: the only synchronisation tests use.

use std::thread;
use std::time::{Duration, Instant};

/// Deadline for anything a healthy system does "at once" (a record arriving,
/// a connector starting). Generous because CI machines are slow and shared;
/// a healthy run never waits for it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Calls `probe` until it returns `Some`, and returns that value. Polls every
/// 10 ms at first, backing off to 200 ms. Panics after `timeout`, naming
/// `what` was awaited, so a failing test says what never happened.
pub fn wait_until<T>(timeout: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    wait_until_ok(timeout, what, || probe().ok_or("not yet"))
}

/// [`wait_until`] for probes that can say how far things got: `Err(state)`
/// means "not yet", and the last state is in the timeout panic (e.g. "412 of
/// 1000 records").
pub fn wait_until_ok<T, S: std::fmt::Display>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<T, S>,
) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        let state = match probe() {
            Ok(value) => return value,
            Err(state) => state,
        };
        let now = Instant::now();
        if now >= deadline {
            panic!("timed out after {timeout:?} waiting for {what} (last: {state})");
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_first_some() {
        let mut calls = 0;
        let got = wait_until(Duration::from_secs(5), "third call", || {
            calls += 1;
            (calls == 3).then_some(calls)
        });
        assert_eq!(got, 3);
    }

    #[test]
    #[should_panic(expected = "waiting for the impossible")]
    fn panics_with_what_was_awaited() {
        wait_until(Duration::from_millis(30), "the impossible", || None::<()>);
    }
}
