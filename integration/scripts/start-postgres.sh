#!/usr/bin/env bash
# Starts a private PostgreSQL 15 (apt postgresql-15) on a free port with its
# data directory under STATEDIR and prints its JDBC URL
# (jdbc:postgresql://127.0.0.1:PORT/postgres?user=postgres) once it accepts
# connections. Trust authentication on 127.0.0.1 only; wal_level=logical.
# TLS is on too (same port; clients choose): the server certificate is made by
# make-tls-certs.sh in STATEDIR/tls, whose ca.pem signed it.
#
# Usage: start-postgres.sh STATEDIR
#   STATEDIR gets data/, tls/, postgres.port, postgres.url and postgres.log.
#   Stop it with stop-postgres.sh STATEDIR.
# Tests read the URL from FERRY_TEST_POSTGRES_URL.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 ]] || die "usage: $0 STATEDIR"
ensure_apt_packages postgresql-15
bin=/usr/lib/postgresql/15/bin
mkdir -p "$1"
state_dir="$(cd "$1" && pwd)"
data="$state_dir/data"

# initdb and pg_ctl refuse to run as root: run them as `postgres`, which must
# reach the state dir (its parents are made traversable).
as_pg=()
if ((EUID == 0)); then
    as_pg=(runuser -u postgres --)
    chmod 755 "$state_dir"
    d=$state_dir
    while [[ $d != / ]]; do
        d=$(dirname "$d")
        chmod o+x "$d" 2>/dev/null || true
    done
    touch "$state_dir/postgres.log"
    chown postgres "$state_dir" "$state_dir/postgres.log"
fi

if [[ -f $data/postmaster.pid ]] && "${as_pg[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    die "a PostgreSQL from $state_dir is still running; stop-postgres.sh it first"
fi

if [[ ! -f $data/PG_VERSION ]]; then
    log "initialising PostgreSQL cluster in $data"
    "${as_pg[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
        --locale=C.UTF-8 >>"$state_dir/postgres.log" 2>&1 || {
        tail -n 20 "$state_dir/postgres.log" >&2
        die "initdb failed"
    }
fi

"$(dirname "${BASH_SOURCE[0]}")/make-tls-certs.sh" "$state_dir/tls"
# The key must belong to the server's user and be private to it.
((EUID == 0)) && chown -R postgres "$state_dir/tls"

port=$(free_port)
cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$state_dir'
wal_level = logical
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 50
ssl = on
ssl_cert_file = '$state_dir/tls/server.pem'
ssl_key_file = '$state_dir/tls/server.key'
CONF

"${as_pg[@]}" "$bin/pg_ctl" -D "$data" -l "$state_dir/postgres.log" -w -t 60 start >/dev/null || {
    tail -n 20 "$state_dir/postgres.log" >&2
    die "PostgreSQL did not start; log: $state_dir/postgres.log"
}
wait_for_port 127.0.0.1 "$port" 30 || die "PostgreSQL is not listening on $port"
echo "$port" >"$state_dir/postgres.port"
url="jdbc:postgresql://127.0.0.1:$port/postgres?user=postgres"
echo "$url" >"$state_dir/postgres.url"
log "PostgreSQL ready on 127.0.0.1:$port"
echo "$url"
