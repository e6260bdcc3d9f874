#!/usr/bin/env bash
# Installs the pinned Kafka-protocol test broker (nisshi) into $FERRY_CACHE and
# prints the path of its binary.
#
# A cold build takes ~31 minutes on 2 cores, so the binary is cached outside the
# clone and reused. Only one build may run at a time: this script serialises on
# $FERRY_CACHE/nisshi.lock and also waits for any `cargo install nisshi` started
# by other means (which holds no lock) instead of starting a second one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

nisshi_works() {
    [[ -x $NISSHI_BIN ]] && "$NISSHI_BIN" --version >/dev/null 2>&1
}

if nisshi_works; then
    echo "$NISSHI_BIN"
    exit 0
fi

exec 9>"$FERRY_CACHE/nisshi.lock"
if ! flock -n 9; then
    log "another install-broker.sh holds $FERRY_CACHE/nisshi.lock; waiting for it"
    flock 9
fi

# A build started by hand (no lock) is waited for, never duplicated or killed.
waited=0
while pgrep -f "cargo install nisshi" >/dev/null; do
    ((waited % 60 == 0)) && log "a 'cargo install nisshi' is already running; waiting for it (${waited}s so far)"
    sleep 5
    waited=$((waited + 5))
done

if ! nisshi_works; then
    command -v cargo >/dev/null || die "cargo is not installed"
    ensure_apt_packages gcc g++ make pkg-config
    build_log="$FERRY_CACHE/nisshi-build.log"
    log "building nisshi $NISSHI_VERSION (about 31 minutes cold on 2 cores); log: $build_log"
    # Progress goes to stderr too (callers may log it), the full log to a file.
    if ! cargo install "nisshi@$NISSHI_VERSION" --locked --ignore-rust-version \
        --root "$NISSHI_ROOT" --target-dir "$FERRY_CACHE/nisshi-target" 2>&1 | tee "$build_log" >&2; then
        tail -n 30 "$build_log" >&2
        die "cargo install nisshi failed; full log: $build_log"
    fi
fi

nisshi_works || die "$NISSHI_BIN does not run after install"
log "$("$NISSHI_BIN" --version)"
echo "$NISSHI_BIN"
