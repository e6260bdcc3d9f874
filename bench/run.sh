#!/usr/bin/env bash
# Ferry's benchmark: Ferry against the raw Kafka client on the same machine,
# in one go, on a local broker.
#   1. source: raw-produce of N records vs Ferry's FileStreamSource reading an
#      N-line file into a topic (until the topic's high watermarks sum to N)
#   2. sink:   raw-consume of the topic to a file vs Ferry's FileStreamSink
#      writing it to a file (until the file holds N lines)
#   3. start-up: ms from process start to REST ready, and idle RSS
#
# Usage: bench/run.sh
# Environment: FERRY_BENCH_RECORDS (default 1000000), FERRY_BENCH_SIZE (bytes
# per record, default 100), FERRY_BENCH_PARTITIONS (default 1), FERRY_BROKER
# (nisshi, default; the quick broker's watermarks are wrong, so it cannot
# time the source), FERRY_BENCH_KEEP=1 keeps the work dir.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/scripts/common.sh"
cd "$FERRY_REPO_ROOT"

RECORDS=${FERRY_BENCH_RECORDS:-1000000}
SIZE=${FERRY_BENCH_SIZE:-100}
PARTITIONS=${FERRY_BENCH_PARTITIONS:-1}
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench.XXXXXX")"
FERRY_PID=

cleanup() {
    [[ -n $FERRY_PID ]] && kill -KILL "$FERRY_PID" 2>/dev/null || true
    "$FERRY_SCRIPTS/stop-broker.sh" "$WORK/broker" || true
    if [[ ${FERRY_BENCH_KEEP:-0} == 1 ]]; then
        log "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "cargo build --release -p ferry -p ferry-bench"
cargo build --release -p ferry -p ferry-bench
BIN="$(cargo_target_dir)/release"
FERRY="$BIN/ferry"
[[ -x $FERRY ]] || die "$FERRY was not built"

BOOTSTRAP="$("$FERRY_SCRIPTS/start-broker.sh" "$WORK/broker")"

# field FILE KEY: KEY's value on the last RESULT line of FILE.
field() { grep '^RESULT ' "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# write_worker FILE REST_PORT: worker.properties for a benchmark worker.
write_worker() {
    cat >"$1" <<PROPS
bootstrap.servers=$BOOTSTRAP
listeners=http://127.0.0.1:$2
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.storage.file.filename=$WORK/connect.offsets.$2
offset.flush.interval.ms=10000
# The raw consumer's setting (the test broker does not answer a waiting fetch early).
consumer.fetch.wait.max.ms=50
PROPS
}

# run_ferry NAME CONNECTOR_FILE PROBE_OUTPUT PROBE...: starts the probe, then
# Ferry with one connector; waits for the probe; stops Ferry.
run_ferry() {
    local name=$1 connector=$2 out=$3
    shift 3
    local port
    port=$(free_port)
    write_worker "$WORK/$name-worker.properties" "$port"
    "$@" >"$out" &
    local probe=$!
    "$FERRY" standalone "$WORK/$name-worker.properties" "$connector" >"$WORK/$name-ferry.log" 2>&1 &
    FERRY_PID=$!
    if ! wait "$probe"; then
        tail -n 30 "$WORK/$name-ferry.log" >&2
        die "$name: the probe failed (ferry log above)"
    fi
    kill -TERM "$FERRY_PID" 2>/dev/null || true
    wait "$FERRY_PID" || true
    FERRY_PID=
}

log "1/3 source: $RECORDS records of $SIZE bytes, $PARTITIONS partition(s)"
"$BIN/create-topic" --bootstrap "$BOOTSTRAP" --topic bench-raw --partitions "$PARTITIONS"
"$BIN/raw-produce" --bootstrap "$BOOTSTRAP" --topic bench-raw --records "$RECORDS" --size "$SIZE" |
    tee "$WORK/raw-produce.out"
"$BIN/gen-lines" --out "$WORK/input.txt" --records "$RECORDS" --size "$SIZE"
"$BIN/create-topic" --bootstrap "$BOOTSTRAP" --topic bench-ferry-source --partitions "$PARTITIONS"
cat >"$WORK/source.properties" <<PROPS
name=bench-source
connector.class=FileStreamSource
tasks.max=1
file=$WORK/input.txt
topic=bench-ferry-source
PROPS
run_ferry source "$WORK/source.properties" "$WORK/ferry-source.out" \
    "$BIN/watermarks" --bootstrap "$BOOTSTRAP" --topic bench-ferry-source --wait-for "$RECORDS" --size "$SIZE"
cat "$WORK/ferry-source.out"

log "2/3 sink: the same $RECORDS records from topic bench-raw to a file"
"$BIN/raw-consume" --bootstrap "$BOOTSTRAP" --topic bench-raw --records "$RECORDS" --out "$WORK/raw-out.txt" |
    tee "$WORK/raw-consume.out"
cmp -s "$WORK/raw-out.txt" "$WORK/input.txt" || log "note: raw-consume output differs from the input (order across partitions?)"
cat >"$WORK/sink.properties" <<PROPS
name=bench-sink
connector.class=FileStreamSink
tasks.max=1
file=$WORK/sink-out.txt
topics=bench-raw
PROPS
run_ferry sink "$WORK/sink.properties" "$WORK/ferry-sink.out" \
    "$BIN/wait-file" --path "$WORK/sink-out.txt" --records "$RECORDS" --size "$SIZE"
cat "$WORK/ferry-sink.out"
if ((PARTITIONS == 1)) && ! cmp -s "$WORK/sink-out.txt" "$WORK/input.txt"; then
    die "Ferry's sink output differs from the records produced"
fi

log "3/3 start-up: REST ready time and idle RSS with no connectors"
port=$(free_port)
write_worker "$WORK/idle-worker.properties" "$port"
"$BIN/startup" --bin "$FERRY" --worker "$WORK/idle-worker.properties" --port "$port" | tee "$WORK/startup.out"

raw_p=$(field "$WORK/raw-produce.out" records_per_sec)
fer_p=$(field "$WORK/ferry-source.out" records_per_sec)
raw_c=$(field "$WORK/raw-consume.out" records_per_sec)
fer_c=$(field "$WORK/ferry-sink.out" records_per_sec)
cat <<SUMMARY

==================== Ferry benchmark ====================
machine:  $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); broker ${FERRY_BROKER:-nisshi} on $BOOTSTRAP
records:  $RECORDS x $SIZE bytes, $PARTITIONS partition(s)

source    raw-produce            $(printf '%10s' "$raw_p") records/s  $(field "$WORK/raw-produce.out" mb_per_sec) MB/s
          Ferry FileStreamSource $(printf '%10s' "$fer_p") records/s  $(field "$WORK/ferry-source.out" mb_per_sec) MB/s
          Ferry / raw            $(ratio "$fer_p" "$raw_p")
sink      raw-consume            $(printf '%10s' "$raw_c") records/s  $(field "$WORK/raw-consume.out" mb_per_sec) MB/s
          Ferry FileStreamSink   $(printf '%10s' "$fer_c") records/s  $(field "$WORK/ferry-sink.out" mb_per_sec) MB/s
          Ferry / raw            $(ratio "$fer_c" "$raw_c")
start-up  REST ready after       $(field "$WORK/startup.out" ready_ms) ms
          idle RSS               $(field "$WORK/startup.out" rss_idle_kb) kB (peak $(field "$WORK/startup.out" rss_peak_kb) kB)
(Ferry times include process start; the raw clients' include client creation.)
=========================================================
SUMMARY
