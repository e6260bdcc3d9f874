#!/usr/bin/env bash
# Transform chain cost, in one run on a local broker:
#   1. in process: transform-chain (InsertField, ReplaceField, RegexRouter + JsonConverter vs
#      JsonConverter alone), the chain's CPU cost relative to the per-record work;
#   2. end to end through Ferry: FileStreamSource -> HoistField -> [InsertField, ReplaceField,
#      RegexRouter] -> JsonConverter -> Kafka vs the same without the three transforms, records/s
#      from process start until the topic holds every record.
# Usage: bench/transforms.sh   (FERRY_BENCH_RECORDS, default 1000000; FERRY_BENCH_BUILD=0 skips the build)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/scripts/common.sh"
cd "$FERRY_REPO_ROOT"
RECORDS=${FERRY_BENCH_RECORDS:-1000000}
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-transforms.XXXXXX")"
FERRY_PID=
cleanup() {
    [[ -n $FERRY_PID ]] && kill -KILL "$FERRY_PID" 2>/dev/null || true
    "$FERRY_SCRIPTS/stop-broker.sh" "$WORK/broker" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
[[ ${FERRY_BENCH_BUILD:-1} == 0 ]] || cargo build --release -p ferry -p ferry-bench
BIN="$(cargo_target_dir)/release"
"$BIN/transform-chain" --records "$RECORDS" | tee "$WORK/in-process.out"
BOOTSTRAP="$("$FERRY_SCRIPTS/start-broker.sh" "$WORK/broker")"
"$BIN/gen-lines" --out "$WORK/input.txt" --records "$RECORDS" --size 100

# run NAME TOPIC_MEASURED EXTRA_TRANSFORMS: one Ferry run; prints the watermarks probe's RESULT.
run() {
    local name=$1 measured=$2 chain=$3 port
    port=$(free_port)
    "$BIN/create-topic" --bootstrap "$BOOTSTRAP" --topic "$measured" --partitions 1
    cat >"$WORK/$name-worker.properties" <<PROPS
bootstrap.servers=$BOOTSTRAP
listeners=http://127.0.0.1:$port
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename=$WORK/$name.offsets
offset.flush.interval.ms=10000
PROPS
    cat >"$WORK/$name.properties" <<PROPS
name=$name
connector.class=FileStreamSource
file=$WORK/input.txt
topic=$name-raw
transforms=hoist$chain
transforms.hoist.type=org.apache.kafka.connect.transforms.HoistField\$Value
transforms.hoist.field=line
transforms.insert.type=org.apache.kafka.connect.transforms.InsertField\$Value
transforms.insert.static.field=pipeline
transforms.insert.static.value=ferry
transforms.replace.type=org.apache.kafka.connect.transforms.ReplaceField\$Value
transforms.replace.renames=line:text
transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter
transforms.route.regex=(.*)-raw
transforms.route.replacement=\$1-clean
PROPS
    "$BIN/watermarks" --bootstrap "$BOOTSTRAP" --topic "$measured" --wait-for "$RECORDS" --size 100 >"$WORK/$name.out" &
    local probe=$!
    "$BIN/ferry" standalone "$WORK/$name-worker.properties" "$WORK/$name.properties" >"$WORK/$name.log" 2>&1 &
    FERRY_PID=$!
    wait "$probe" || { tail -n 20 "$WORK/$name.log" >&2; die "$name: probe failed"; }
    kill -TERM "$FERRY_PID"; wait "$FERRY_PID" || true; FERRY_PID=
    grep '^RESULT' "$WORK/$name.out"
}
plain=$(run plain plain-raw "")
chain=$(run chain chain-clean ",insert,replace,route")
rate() { tr ' ' '\n' <<<"$1" | sed -n 's/^records_per_sec=//p'; }
p=$(rate "$plain"); c=$(rate "$chain")
cat <<SUMMARY

============ Ferry transform chain benchmark ============
in process  $(grep '^RESULT' "$WORK/in-process.out" | cut -d' ' -f3-)
end to end  without chain $p records/s, with InsertField+ReplaceField+RegexRouter $c records/s
            ratio $(awk -v a="$c" -v b="$p" 'BEGIN { printf "%.2f", a / b }')   (goal >= 0.7)
==========================================================
SUMMARY
