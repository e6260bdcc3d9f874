#!/usr/bin/env bash
# Stops the MariaDB that start-mariadb.sh started from STATEDIR: SIGTERM, then
# SIGKILL after 20 seconds. Safe to call twice.
#
# Usage: stop-mariadb.sh STATEDIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 ]] || die "usage: $0 STATEDIR"
pid_file="$1/mariadb.pid"
[[ -f $pid_file ]] || exit 0
pid=$(cat "$pid_file")
# Only signal the pid if it is still a MariaDB server (pids get reused).
if grep -qa mariadbd "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "mariadbd $pid ignored SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
fi
rm -f "$pid_file"
