#!/usr/bin/env bash
# Stops the PostgreSQL that start-postgres.sh started from STATEDIR (fast
# shutdown). Safe to call twice.
#
# Usage: stop-postgres.sh STATEDIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 ]] || die "usage: $0 STATEDIR"
data="$1/data"
[[ -f $data/postmaster.pid ]] || exit 0
as_pg=()
((EUID == 0)) && as_pg=(runuser -u postgres --)
"${as_pg[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$data" -m fast -w -t 30 stop >/dev/null ||
    log "pg_ctl stop failed for $data"
