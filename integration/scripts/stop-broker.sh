#!/usr/bin/env bash
# Stops the broker that start-broker.sh started from STATEDIR: SIGTERM, then
# SIGKILL if it has not exited within 10 seconds. Safe to call twice.
#
# Usage: stop-broker.sh STATEDIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 ]] || die "usage: $0 STATEDIR"
pid_file="$1/broker.pid"
[[ -f $pid_file ]] || exit 0
pid=$(cat "$pid_file")

# Only signal the pid if it is still a broker (pids get reused).
if grep -qa broker "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "broker $pid ignored SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
fi
rm -f "$pid_file"
