#!/usr/bin/env bash
# Ferry's MirrorMaker 2 benchmark: `ferry mirror` against a raw rdkafka pipe on the same
# machine, in one go, on two local brokers (clusters A and B).
#   1. N records of S bytes are produced to topic T on A (raw-produce)
#   2. raw:   mirror-raw consumes T on A and produces every record (partition, key, value,
#             headers, timestamp) to T-raw on B; timed until B's high watermarks sum to N
#   3. Ferry: `ferry mirror mm2.properties` (A->B, topics=T); timed until `A.T` on B holds N
# Both clocks start just before the process under test starts, so both include client creation
# (and, for Ferry, process start-up and remote-topic creation).
#
# Usage: bench/mirror.sh
# Environment: FERRY_BENCH_RECORDS (default 500000), FERRY_BENCH_SIZE (bytes per record,
# default 100), FERRY_BENCH_PARTITIONS (default 1), FERRY_BENCH_BUILD=0 skips the release
# build, FERRY_BENCH_KEEP=1 keeps the work dir.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/scripts/common.sh"
cd "$FERRY_REPO_ROOT"

RECORDS=${FERRY_BENCH_RECORDS:-500000}
SIZE=${FERRY_BENCH_SIZE:-100}
PARTITIONS=${FERRY_BENCH_PARTITIONS:-1}
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-mirror.XXXXXX")"
TOPIC=bench-mm
FERRY_PID=

cleanup() {
    [[ -n $FERRY_PID ]] && kill -KILL "$FERRY_PID" 2>/dev/null || true
    "$FERRY_SCRIPTS/stop-broker.sh" "$WORK/broker-a" || true
    "$FERRY_SCRIPTS/stop-broker.sh" "$WORK/broker-b" || true
    if [[ ${FERRY_BENCH_KEEP:-0} == 1 ]]; then
        log "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ ${FERRY_BENCH_BUILD:-1} != 0 ]]; then
    log "cargo build --release -p ferry -p ferry-bench"
    cargo build --release -p ferry -p ferry-bench
fi
BIN="$(cargo_target_dir)/release"
FERRY="$BIN/ferry"
[[ -x $FERRY && -x $BIN/mirror-raw ]] || die "release binaries missing in $BIN"

A="$("$FERRY_SCRIPTS/start-broker.sh" "$WORK/broker-a" --cluster-id A)"
B="$("$FERRY_SCRIPTS/start-broker.sh" "$WORK/broker-b" --cluster-id B)"

# field FILE KEY: KEY's value on the last RESULT line of FILE.
field() { grep '^RESULT ' "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# first_ms FILE: ms until the first records were visible on B (watermarks' own line).
first_ms() { sed -n 's/^watermarks: first records visible after \([0-9]*\) ms$/\1/p' "$1" | tail -n 1; }
# steady FILE: records/s from the first visible record to the last (start-up excluded).
steady() {
    awk -v n="$RECORDS" -v s="$(field "$1" seconds)" -v f="$(first_ms "$1")" \
        'BEGIN { d = s - f / 1000; printf "%.0f", (d > 0 ? n / d : 0) }'
}

log "1/3 produce $RECORDS records of $SIZE bytes to $TOPIC on A ($PARTITIONS partition(s))"
"$BIN/create-topic" --bootstrap "$A" --topic "$TOPIC" --partitions "$PARTITIONS"
"$BIN/raw-produce" --bootstrap "$A" --topic "$TOPIC" --records "$RECORDS" --size "$SIZE" |
    tee "$WORK/produce.out"

log "2/3 raw pipe: $TOPIC on A -> $TOPIC-raw on B"
"$BIN/create-topic" --bootstrap "$B" --topic "$TOPIC-raw" --partitions "$PARTITIONS"
"$BIN/watermarks" --bootstrap "$B" --topic "$TOPIC-raw" --wait-for "$RECORDS" --size "$SIZE" \
    >"$WORK/raw.out" &
probe=$!
"$BIN/mirror-raw" --from "$A" --to "$B" --topic "$TOPIC" --target-topic "$TOPIC-raw" \
    --records "$RECORDS" >"$WORK/mirror-raw.out"
wait "$probe" || die "raw pipe: the probe failed"
cat "$WORK/mirror-raw.out" "$WORK/raw.out"

log "3/3 ferry mirror: $TOPIC on A -> A.$TOPIC on B"
cat >"$WORK/mm2.properties" <<PROPS
clusters = A, B
A.bootstrap.servers = $A
B.bootstrap.servers = $B
A->B.enabled = true
A->B.topics = $TOPIC
# Same fetch wait as the raw pipe's consumer (the broker does not answer a waiting fetch early).
A.consumer.fetch.wait.max.ms = 50
replication.factor = 1
checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
offset-syncs.topic.replication.factor = 1
offset.storage.replication.factor = 1
sync.topic.configs.enabled = false
PROPS
"$BIN/watermarks" --bootstrap "$B" --topic "A.$TOPIC" --wait-for "$RECORDS" --size "$SIZE" \
    >"$WORK/ferry.out" &
probe=$!
(cd "$WORK" && exec "$FERRY" mirror mm2.properties) >"$WORK/ferry.log" 2>&1 &
FERRY_PID=$!
if ! wait "$probe"; then
    tail -n 30 "$WORK/ferry.log" >&2
    die "ferry mirror: the probe failed (log above)"
fi
kill -TERM "$FERRY_PID" 2>/dev/null || true
wait "$FERRY_PID" || true
FERRY_PID=
cat "$WORK/ferry.out"

raw=$(field "$WORK/raw.out" records_per_sec)
fer=$(field "$WORK/ferry.out" records_per_sec)
raw_steady=$(steady "$WORK/raw.out")
fer_steady=$(steady "$WORK/ferry.out")
cat <<SUMMARY

================ Ferry MirrorMaker 2 benchmark ================
machine:  $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); brokers ${FERRY_BROKER:-nisshi} A=$A B=$B
records:  $RECORDS x $SIZE bytes, $PARTITIONS partition(s), A -> B

raw pipe (rdkafka)  $(printf '%10s' "$raw") records/s  $(field "$WORK/raw.out" mb_per_sec) MB/s
ferry mirror        $(printf '%10s' "$fer") records/s  $(field "$WORK/ferry.out" mb_per_sec) MB/s
Ferry / raw         $(ratio "$fer" "$raw")
(Both timed from process start until B's high watermarks sum to $RECORDS.)

after the first record reached B (start-up excluded):
raw pipe            $(printf '%10s' "$raw_steady") records/s  (first record after $(first_ms "$WORK/raw.out") ms)
ferry mirror        $(printf '%10s' "$fer_steady") records/s  (first record after $(first_ms "$WORK/ferry.out") ms)
Ferry / raw         $(ratio "$fer_steady" "$raw_steady")
===============================================================
SUMMARY
