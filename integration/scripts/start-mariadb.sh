#!/usr/bin/env bash
# Starts a private MariaDB server (apt mariadb-server) on a free port with its
# datadir under STATEDIR, creates the database `ferry`, and prints its JDBC URL
# (jdbc:mariadb://127.0.0.1:PORT/ferry?user=root&password=ferry) once it
# answers. Binlog is on (ROW, full images) so CDC tests can share the server.
# TLS is on too (same port; clients choose): the server certificate is made by
# make-tls-certs.sh in STATEDIR/tls, whose ca.pem signed it.
#
# Usage: start-mariadb.sh STATEDIR
#   STATEDIR gets my.cnf, data/, tls/, mariadb.sock, mariadb.pid, mariadb.port,
#   mariadb.url and mariadb.log. Stop it with stop-mariadb.sh STATEDIR.
# Tests read the URL from FERRY_TEST_MYSQL_URL.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 ]] || die "usage: $0 STATEDIR"
ensure_apt_packages mariadb-server mariadb-client
mkdir -p "$1"
state_dir="$(cd "$1" && pwd)"
pid_file="$state_dir/mariadb.pid"
if [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    die "a MariaDB from $state_dir is still running (pid $(cat "$pid_file")); stop-mariadb.sh it first"
fi

user_args=()
((EUID == 0)) && user_args=(--user=root)
"$(dirname "${BASH_SOURCE[0]}")/make-tls-certs.sh" "$state_dir/tls"
port=$(free_port)
cnf="$state_dir/my.cnf"
client_password=
[[ -d $state_dir/data/mysql ]] && client_password="password=ferry"
cat >"$cnf" <<CNF
[mysqld]
datadir=$state_dir/data
socket=$state_dir/mariadb.sock
pid-file=$pid_file
port=$port
bind-address=127.0.0.1
log_bin=$state_dir/data/mysql-bin
binlog_format=ROW
binlog_row_image=FULL
binlog_row_metadata=FULL
server_id=1
gtid_strict_mode=ON
innodb_buffer_pool_size=32M
innodb_log_file_size=16M
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
ssl-ca=$state_dir/tls/ca.pem
ssl-cert=$state_dir/tls/server.pem
ssl-key=$state_dir/tls/server.key
[client]
socket=$state_dir/mariadb.sock
port=$port
user=root
$client_password
CNF

if [[ ! -d $state_dir/data/mysql ]]; then
    log "initialising MariaDB datadir in $state_dir/data"
    mariadb-install-db --defaults-file="$cnf" "${user_args[@]}" \
        --auth-root-authentication-method=normal --skip-test-db \
        >>"$state_dir/mariadb.log" 2>&1 || {
        tail -n 20 "$state_dir/mariadb.log" >&2
        die "mariadb-install-db failed"
    }
    fresh=1
else
    fresh=0
fi

setsid mariadbd --defaults-file="$cnf" "${user_args[@]}" </dev/null >>"$state_dir/mariadb.log" 2>&1 &
server=$!
deadline=$((SECONDS + 60))
until mariadb-admin --defaults-file="$cnf" --connect-timeout=1 ping >/dev/null 2>&1; do
    if ! kill -0 "$server" 2>/dev/null; then
        tail -n 20 "$state_dir/mariadb.log" >&2
        die "mariadbd exited; log: $state_dir/mariadb.log"
    fi
    ((SECONDS < deadline)) || die "MariaDB did not answer within 60s; log: $state_dir/mariadb.log"
    sleep 0.1
done

if ((fresh)); then
    # TCP clients authenticate with a password; the socket stays open for the scripts.
    mariadb --defaults-file="$cnf" -e "
        CREATE DATABASE IF NOT EXISTS ferry;
        CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
        ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY 'ferry';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
        ALTER USER 'root'@'localhost' IDENTIFIED BY 'ferry';
        FLUSH PRIVILEGES;" || die "cannot create the test database"
    # From now on the client tools need the password (mariadb-admin ping answers either way).
    echo "password=ferry" >>"$cnf"
fi
echo "$port" >"$state_dir/mariadb.port"
url="jdbc:mariadb://127.0.0.1:$port/ferry?user=root&password=ferry"
echo "$url" >"$state_dir/mariadb.url"
log "MariaDB ready on 127.0.0.1:$port (pid $server)"
echo "$url"
