#!/usr/bin/env bash
# Ferry's test command: installs and starts the services the tests need,
# builds the workspace and runs every unit and integration test.
#
# Usage: ./integration/test.sh [CARGO_TEST_ARGS...] [-- TEST_BINARY_ARGS...]
#   no arguments           cargo test --workspace
#   -p ferry-integration   only that package (any cargo test selection works)
#   -- some_test_name      a filter passed to the test binaries
# Environment:
#   FERRY_CACHE            where built services are cached (default ~/.cache/ferry)
#   FERRY_TEST_SERVICES    services to start (default: "kafka kafka_b mariadb postgres"); each NAME has
#                          service_NAME_{install,start,stop} functions below
#   FERRY_TEST_THREADS     test threads per test binary (default 4: the tests
#                          mostly wait on I/O, so 2 cores can run 4)
#   FERRY_TEST_TIMEOUT     limit for the whole test run (default 40m)
#   FERRY_KEEP_STATE=1     keep service state dirs and logs after the run
#   CARGO_TARGET_DIR       honoured, as by cargo
# Exits with the status of cargo test.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scripts/common.sh"
cd "$FERRY_REPO_ROOT"

read -r -a SERVICES <<<"${FERRY_TEST_SERVICES:-kafka kafka_b mariadb postgres}"
THREADS=${FERRY_TEST_THREADS:-4}
STATE="$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.XXXXXX")"
STARTED=()

# --- services -----------------------------------------------------------------
# Each service has three functions. install: slow, cached, safe to run beside
# the cargo build (no apt-get: prerequisites are installed first). start: run
# it under $STATE/NAME and export the variables the tests read. stop: idempotent.

# FERRY_BROKER=quick swaps nisshi for the quick-start broker (development only:
# its watermarks are wrong after multi-record batches).
service_kafka_install() {
    if [[ ${FERRY_BROKER:-nisshi} == quick ]]; then
        "$FERRY_SCRIPTS/install-quick-broker.sh"
    else
        "$FERRY_SCRIPTS/install-broker.sh"
    fi
}
service_kafka_start() {
    FERRY_TEST_BOOTSTRAP="$("$FERRY_SCRIPTS/start-broker.sh" "$STATE/kafka")"
    export FERRY_TEST_BOOTSTRAP
    log "FERRY_TEST_BOOTSTRAP=$FERRY_TEST_BOOTSTRAP"
}
service_kafka_stop() { "$FERRY_SCRIPTS/stop-broker.sh" "$STATE/kafka"; }

# A second, independent cluster (cluster id B) for the MirrorMaker 2 tests.
service_kafka_b_install() { service_kafka_install; }
service_kafka_b_start() {
    FERRY_TEST_BOOTSTRAP_B="$("$FERRY_SCRIPTS/start-broker.sh" "$STATE/kafka_b" --cluster-id B)"
    export FERRY_TEST_BOOTSTRAP_B
    log "FERRY_TEST_BOOTSTRAP_B=$FERRY_TEST_BOOTSTRAP_B"
}
service_kafka_b_stop() { "$FERRY_SCRIPTS/stop-broker.sh" "$STATE/kafka_b"; }

# MariaDB (apt mariadb-server, binlog on) and PostgreSQL 15 for the JDBC tests. Their
# packages are installed with the prerequisites (apt must not run beside another apt).
service_mariadb_install() { :; }
service_mariadb_start() {
    FERRY_TEST_MYSQL_URL="$("$FERRY_SCRIPTS/start-mariadb.sh" "$STATE/mariadb" | tail -n 1)"
    export FERRY_TEST_MYSQL_URL
    # The CA of the server's TLS certificate (start-mariadb.sh makes it there).
    export FERRY_TEST_MYSQL_TLS_CA="$STATE/mariadb/tls/ca.pem"
    log "FERRY_TEST_MYSQL_URL=$FERRY_TEST_MYSQL_URL"
}
service_mariadb_stop() { "$FERRY_SCRIPTS/stop-mariadb.sh" "$STATE/mariadb"; }
service_postgres_install() { :; }
service_postgres_start() {
    FERRY_TEST_POSTGRES_URL="$("$FERRY_SCRIPTS/start-postgres.sh" "$STATE/postgres" | tail -n 1)"
    export FERRY_TEST_POSTGRES_URL
    # The CA of the server's TLS certificate (start-postgres.sh makes it there).
    export FERRY_TEST_POSTGRES_TLS_CA="$STATE/postgres/tls/ca.pem"
    log "FERRY_TEST_POSTGRES_URL=$FERRY_TEST_POSTGRES_URL"
}
service_postgres_stop() { "$FERRY_SCRIPTS/stop-postgres.sh" "$STATE/postgres"; }

# Still to come (see /work/shared/SERVICES.md): s3 (PyPI moto[s3]; FERRY_TEST_S3_ENDPOINT).

# Debian packages the build and the service scripts need.
prerequisites() {
    # tzdata: db.timezone zone names (jiff, and MariaDB's tz tables) read /usr/share/zoneinfo.
    local packages=(gcc g++ make pkg-config python3 procps util-linux tzdata)
    [[ " ${SERVICES[*]} " == *" mariadb "* ]] && packages+=(mariadb-server mariadb-client)
    [[ " ${SERVICES[*]} " == *" postgres "* ]] && packages+=(postgresql-15)
    ensure_apt_packages "${packages[@]}"
}

# --- run ------------------------------------------------------------------------

cleanup() {
    local status=$? i
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        "service_${STARTED[i]}_stop" || log "stopping ${STARTED[i]} failed"
    done
    if [[ ${FERRY_KEEP_STATE:-0} == 1 || $status -ne 0 ]]; then
        log "service state and logs kept in $STATE"
    else
        rm -rf "$STATE"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Split our arguments at "--": cargo's selection before, test-binary args after.
cargo_args=()
test_args=()
while [[ $# -gt 0 && $1 != -- ]]; do cargo_args+=("$1"); shift; done
[[ $# -gt 0 ]] && shift && test_args=("$@")
((${#cargo_args[@]} > 0)) || cargo_args=(--workspace)

for s in "${SERVICES[@]}"; do
    declare -F "service_${s}_start" >/dev/null || die "unknown service '$s' in FERRY_TEST_SERVICES"
done

command -v cargo >/dev/null || die "cargo is not installed"
# Builds are cached outside the clone (reused by later runs on this machine, never required).
if [[ -z ${CARGO_TARGET_DIR:-} ]]; then
    export CARGO_TARGET_DIR="$FERRY_CACHE/target"
    mkdir -p "$CARGO_TARGET_DIR"
fi
prerequisites

# Service installs (a cold nisshi build is ~31 minutes) run beside the cargo
# build, so the machine's cores are busy during each one's serial phases.
declare -A INSTALL_PIDS=()
for s in "${SERVICES[@]}"; do
    log "installing service $s (log: $STATE/$s-install.log)"
    "service_${s}_install" >"$STATE/$s-install.log" 2>&1 &
    INSTALL_PIDS[$s]=$!
done

build_start=$SECONDS
log "cargo build ${cargo_args[*]} --all-targets"
cargo build "${cargo_args[@]}" --all-targets
if [[ ${cargo_args[*]} != --workspace ]]; then
    # A narrower selection still needs the binary the tests start.
    cargo build -p ferry || log "warning: building the ferry binary failed"
fi
log "build finished in $((SECONDS - build_start))s"

for s in "${SERVICES[@]}"; do
    # Show progress while a long install finishes (CI logs stay alive).
    while kill -0 "${INSTALL_PIDS[$s]}" 2>/dev/null; do
        log "still installing $s: $(tail -n 1 "$STATE/$s-install.log" 2>/dev/null | cut -c1-100)"
        for _ in {1..60}; do
            kill -0 "${INSTALL_PIDS[$s]}" 2>/dev/null || break
            sleep 1
        done
    done
    if ! wait "${INSTALL_PIDS[$s]}"; then
        tail -n 40 "$STATE/$s-install.log" >&2
        die "installing service $s failed"
    fi
done

for s in "${SERVICES[@]}"; do
    "service_${s}_start"
    STARTED+=("$s")
done

FERRY_BIN="$(cargo_target_dir)/debug/ferry"
export FERRY_BIN
[[ -x $FERRY_BIN ]] || log "warning: $FERRY_BIN was not built; tests that start ferry will fail"

test_start=$SECONDS
log "cargo test ${cargo_args[*]} -- --test-threads=$THREADS ${test_args[*]:-}"
set +e
timeout "${FERRY_TEST_TIMEOUT:-40m}" \
    cargo test "${cargo_args[@]}" -- --test-threads="$THREADS" "${test_args[@]}"
status=$?
set -e
((status == 124)) && log "tests timed out after ${FERRY_TEST_TIMEOUT:-40m}"
log "tests finished in $((SECONDS - test_start))s with status $status"
exit "$status"
