#!/usr/bin/env bash
# Ferry's distributed-mode benchmark: how long work is away when the cluster changes, next to
# the floor the group protocol's own settings put under it, on one local broker.
#   1. failover: 3 workers, FAILOVER_CONNECTORS FileStreamSource connectors (1 task each) spread
#      over them; SIGKILL one worker and time until a surviving worker's REST status shows every
#      connector and task the killed worker ran RUNNING on another worker. Once with
#      scheduled.rebalance.max.delay.ms=0 and once with 10000; SAMPLES kills each (the killed
#      worker is replaced and the cluster rebalanced before the next kill). The floor is
#      session.timeout.ms (the coordinator notices the death) + the delay (the leader holds the
#      lost work). Survivors' log lines split the rest: heartbeat notice, group rounds, task start.
#      (The coordinator's session timer runs from the victim's last heartbeat, which can be up to
#      heartbeat.interval.ms before the kill: a sample may beat the nominal floor by that much.)
#   2. join: 3 workers running JOIN_CONNECTORS FileStreamSink connectors x JOIN_TASKS tasks over
#      one topic; start a 4th worker and time from its start until the REST status shows every
#      task RUNNING and the placement balanced over 4 workers; count what moved. SAMPLES times
#      (the 4th worker leaves with SIGTERM in between). No timer floor here: each of the two
#      cooperative rounds (revoke, then assign) waits for members to notice it, up to
#      heartbeat.interval.ms.
# The probes (distributed-failover, distributed-settle) poll GET /connectors?expand=status every
# 20 ms; each printed sample names how long its last request took, which bounds how late the
# probe saw the state (that request costs ~0.1 s per connector here).
# Every sample and the median are printed; worker logs are in the work dir (FERRY_BENCH_KEEP=1).
#
# Usage: bench/distributed.sh
# Environment: FERRY_BENCH_SAMPLES (default 3), FERRY_BENCH_SESSION_MS (session.timeout.ms,
# default 6000: the broker's group.min.session.timeout.ms), FERRY_BENCH_HEARTBEAT_MS
# (heartbeat.interval.ms, default 1000), FERRY_BENCH_DELAYS (default "0 10000"),
# FERRY_BENCH_JOIN_CONNECTORS / FERRY_BENCH_JOIN_TASKS (default 10 x 10), FERRY_BENCH_PARTS
# ("failover join", default both), FERRY_BENCH_NO_BUILD=1 skips the release build,
# FERRY_BENCH_KEEP=1 keeps the work dir.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/scripts/common.sh"
cd "$FERRY_REPO_ROOT"

SAMPLES=${FERRY_BENCH_SAMPLES:-3}
SESSION_MS=${FERRY_BENCH_SESSION_MS:-6000}
HEARTBEAT_MS=${FERRY_BENCH_HEARTBEAT_MS:-1000}
DELAYS=${FERRY_BENCH_DELAYS:-0 10000}
FAILOVER_CONNECTORS=6
JOIN_CONNECTORS=${FERRY_BENCH_JOIN_CONNECTORS:-10}
JOIN_TASKS=${FERRY_BENCH_JOIN_TASKS:-10}
JOIN_DELAY_MS=10000
PARTS=${FERRY_BENCH_PARTS:-failover join}
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-distributed.XXXXXX")"
declare -A PID=() URL=()
STARTED=()

cleanup() {
    local w
    for w in "${STARTED[@]}"; do
        kill -KILL "${PID[$w]}" 2>/dev/null || true
    done
    "$FERRY_SCRIPTS/stop-broker.sh" "$WORK/broker" || true
    if [[ ${FERRY_BENCH_KEEP:-0} == 1 ]]; then
        log "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ ${FERRY_BENCH_NO_BUILD:-0} != 1 ]]; then
    log "cargo build --release -p ferry -p ferry-bench"
    cargo build --release -p ferry -p ferry-bench
fi
BIN="$(cargo_target_dir)/release"
FERRY="$BIN/ferry"
[[ -x $FERRY && -x $BIN/distributed-failover && -x $BIN/distributed-settle ]] ||
    die "release binaries missing in $BIN"

BOOTSTRAP="$("$FERRY_SCRIPTS/start-broker.sh" "$WORK/broker")"

# field FILE KEY: KEY's value on the last RESULT line of FILE.
field() { grep '^RESULT ' "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# median N...: the middle value (the lower middle for an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f s", ms / 1000 }'; }
now_ms() { date +%s%3N; }

# log_ms AFTER_MS BEFORE_MS PATTERN FIRST|LAST LOG...: the epoch ms of the first (or last) line
# matching PATTERN stamped within [AFTER_MS, BEFORE_MS] in the workers' logs (tracing's RFC 3339
# UTC stamps), or nothing.
log_ms() {
    python3 - "$@" <<'PY'
import re, sys
from datetime import datetime
after, before, pattern, which, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
stamp = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z")
found = []
for path in files:
    for line in open(path, errors="replace"):
        m = stamp.match(line)
        if not m or not re.search(pattern, line):
            continue
        t = datetime.fromisoformat(m.group(1) + "+00:00").timestamp() + float(m.group(2) or 0)
        ms = int(round(t * 1000))
        if after <= ms <= before:
            found.append(ms)
if found:
    print(min(found) if which == "FIRST" else max(found))
PY
}

# write_worker FILE PORT GROUP DELAY_MS: a distributed worker's properties.
write_worker() {
    cat >"$1" <<PROPS
bootstrap.servers=$BOOTSTRAP
listeners=http://127.0.0.1:$2
group.id=$3
config.storage.topic=$3-configs
offset.storage.topic=$3-offsets
status.storage.topic=$3-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.storage.partitions=5
status.storage.partitions=2
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
offset.flush.interval.ms=1000
scheduled.rebalance.max.delay.ms=$4
session.timeout.ms=$SESSION_MS
heartbeat.interval.ms=$HEARTBEAT_MS
PROPS
}

# start_worker NAME GROUP DELAY_MS: starts `ferry distributed` and waits for its REST API.
start_worker() {
    local name=$1 port
    port=$(free_port)
    write_worker "$WORK/$name.properties" "$port" "$2" "$3"
    NO_COLOR=1 "$FERRY" distributed "$WORK/$name.properties" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    URL[$name]="http://127.0.0.1:$port"
    STARTED+=("$name")
    wait_for_port 127.0.0.1 "$port" 60 "${PID[$name]}" || die "$name did not start (log $WORK/$name.log)"
}

# reap NAME: waits for the worker's exit (the shell's "Killed" notice silenced).
reap() { { wait "${PID[$1]}"; } 2>/dev/null || true; }

# kill_worker NAME SIGNAL: signals the worker and reaps it.
kill_worker() {
    kill "-$2" "${PID[$1]}" 2>/dev/null || true
    reap "$1"
}

# stop_workers NAME...: SIGTERM to all at once, then reaps them (one after another would hand
# each leaver's work to the rest just as they are told to stop).
stop_workers() {
    local w
    for w in "$@"; do kill -TERM "${PID[$w]}" 2>/dev/null || true; done
    for w in "$@"; do reap "$w"; done
}

# put_connector URL NAME JSON: creates a connector, retrying while the cluster answers 409
# (a rebalance in progress) or is not ready.
put_connector() {
    local code deadline=$((SECONDS + 60))
    while :; do
        code=$(curl -s -o "$WORK/put.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
            --data "$3" "$1/connectors/$2/config") || code=000
        [[ $code == 200 || $code == 201 ]] && return 0
        ((SECONDS < deadline)) || die "PUT $2: HTTP $code $(cat "$WORK/put.out")"
        sleep 0.2
    done
}

# worker_id NAME: the id the status topic uses for NAME (its advertised host:port).
worker_id() { echo "${URL[$1]#http://}"; }

FAILOVER_LINES=()
# failover DELAY_MS: part 1 for one delay setting, SAMPLES kills.
failover() {
    local delay=$1 group="bench-failover-$1-$RANDOM" i next out
    local samples=() detects=() rounds=() starts=() requests=()
    log "failover, scheduled.rebalance.max.delay.ms=$delay: 3 workers, $FAILOVER_CONNECTORS FileStreamSource connectors"
    local w1=f$delay-w1 w2=f$delay-w2 victim=f$delay-w3
    start_worker "$w1" "$group" "$delay"
    start_worker "$w2" "$group" "$delay"
    start_worker "$victim" "$group" "$delay"
    printf 'line %s\n' 1 2 3 >"$WORK/input.txt"
    for i in $(seq 1 "$FAILOVER_CONNECTORS"); do
        put_connector "${URL[$w1]}" "src-$i" \
            "{\"connector.class\":\"FileStreamSource\",\"tasks.max\":\"1\",\"file\":\"$WORK/input.txt\",\"topic\":\"bench-dist-$group\"}"
    done
    "$BIN/distributed-settle" --rest "${URL[$w1]}" --connectors "$FAILOVER_CONNECTORS" \
        --tasks "$FAILOVER_CONNECTORS" --workers 3 >"$WORK/settle.out" 2>"$WORK/settle.trace"
    cat "$WORK/settle.out" >&2
    for i in $(seq 1 "$SAMPLES"); do
        out="$WORK/failover-$delay-$i.out"
        # The shell reports the killed job on its own stderr while this group runs: silenced.
        {
            "$BIN/distributed-failover" --rest "${URL[$w1]}" --victim-pid "${PID[$victim]}" \
                --victim "$(worker_id "$victim")" >"$out" 2>&3
            reap "$victim"
        } 3>&2 2>/dev/null
        cat "$out" >&2
        local ms killed seen detect assigned
        ms=$(field "$out" ms)
        killed=$(field "$out" killed_at_ms)
        seen=$((killed + ms))
        # Survivors' view: the first rejoin after the kill (the coordinator dropped the member
        # and a heartbeat told them), and the last assignment before the work was seen RUNNING.
        detect=$(log_ms "$killed" "$seen" 'rejoining the group' FIRST "$WORK/$w1.log" "$WORK/$w2.log")
        assigned=$(log_ms "$killed" "$seen" 'assigned .* revoked' LAST "$WORK/$w1.log" "$WORK/$w2.log")
        samples+=("$ms")
        requests+=("$(field "$out" request_ms)")
        if [[ -n $detect && -n $assigned ]]; then
            detects+=("$((detect - killed))")
            rounds+=("$((assigned - detect))")
            starts+=("$((seen - assigned))")
        fi
        FAILOVER_LINES+=("$(printf 'delay %5s ms  sample %d: %s  (%s connectors + %s tasks moved; survivors rejoined +%s ms, last assignment +%s ms; status request %s ms)' \
            "$delay" "$i" "$(secs "$ms")" "$(field "$out" connectors)" "$(field "$out" tasks)" \
            "${detect:+$((detect - killed))}" "${assigned:+$((assigned - killed))}" "$(field "$out" request_ms)")")
        # Replace the victim and let the cluster rebalance before the next kill.
        next="f$delay-w$((i + 3))"
        start_worker "$next" "$group" "$delay"
        "$BIN/distributed-settle" --rest "${URL[$w1]}" --connectors "$FAILOVER_CONNECTORS" \
            --tasks "$FAILOVER_CONNECTORS" --workers 3 >"$WORK/settle.out" 2>"$WORK/settle.trace"
        victim=$next
    done
    local med floor held=
    med=$(median "${samples[@]}")
    ((delay > 0)) && held=" incl. the $(secs "$delay") delay"
    floor=$((SESSION_MS + delay))
    FAILOVER_LINES+=("$(printf 'delay %5s ms  median %s; floor = session.timeout %s + delay %s = %s -> overhead %s (of which up to %s is the status request that saw it)' \
        "$delay" "$(secs "$med")" "$(secs "$SESSION_MS")" "$(secs "$delay")" "$(secs "$floor")" "$(secs $((med - floor)))" \
        "$(secs "$(median "${requests[@]}")")")")
    if ((${#detects[@]} > 0)); then
        FAILOVER_LINES+=("$(printf '               median split: kill -> survivors rejoin %s (session.timeout %s + heartbeat notice), -> last assignment %s (rounds%s), -> RUNNING in REST %s' \
            "$(secs "$(median "${detects[@]}")")" "$(secs "$SESSION_MS")" "$(secs "$(median "${rounds[@]}")")" \
            "$held" "$(secs "$(median "${starts[@]}")")")")
    fi
    stop_workers "$w1" "$w2" "$victim"
}

JOIN_LINES=()
# join: part 2, SAMPLES joins of a 4th worker.
join() {
    local group="bench-join-$RANDOM" i start out tasks=$((JOIN_CONNECTORS * JOIN_TASKS))
    local samples=() moved=() joined=() handed=() running=() requests=()
    log "join: 3 workers, $JOIN_CONNECTORS FileStreamSink connectors x $JOIN_TASKS tasks, then a 4th worker"
    "$BIN/create-topic" --bootstrap "$BOOTSTRAP" --topic "bench-dist-$group" --partitions "$JOIN_TASKS"
    for i in 1 2 3; do start_worker "j-w$i" "$group" "$JOIN_DELAY_MS"; done
    for i in $(seq 1 "$JOIN_CONNECTORS"); do
        put_connector "${URL[j-w1]}" "sink-$i" \
            "{\"connector.class\":\"FileStreamSink\",\"tasks.max\":\"$JOIN_TASKS\",\"file\":\"$WORK/sink-$i.txt\",\"topics\":\"bench-dist-$group\"}"
    done
    "$BIN/distributed-settle" --rest "${URL[j-w1]}" --connectors "$JOIN_CONNECTORS" --tasks "$tasks" \
        --workers 3 --save "$WORK/join-before.json" >"$WORK/settle.out" 2>"$WORK/settle.trace"
    cat "$WORK/settle.out" >&2
    for i in $(seq 1 "$SAMPLES"); do
        out="$WORK/join-$i.out"
        start=$(now_ms)
        start_worker "j-new$i" "$group" "$JOIN_DELAY_MS"
        "$BIN/distributed-settle" --rest "${URL[j-w1]}" --connectors "$JOIN_CONNECTORS" --tasks "$tasks" \
            --workers 4 --since-ms "$start" --before "$WORK/join-before.json" >"$out" 2>"$WORK/join-$i.trace"
        cat "$WORK/join-$i.trace" "$out" >&2
        local ms first work
        ms=$(field "$out" ms)
        # The new worker's first assignment (empty: it has joined the group), then the one that
        # hands it tasks (the follow-up round after the others revoked them).
        first=$(log_ms "$start" "$((start + ms))" 'assigned .* revoked' FIRST "$WORK/j-new$i.log")
        work=$(log_ms "$start" "$((start + ms))" 'assigned .*tasks: \[TaskId.* revoked' FIRST "$WORK/j-new$i.log")
        samples+=("$ms")
        moved+=("$(field "$out" moved_tasks)")
        requests+=("$(field "$out" request_ms)")
        if [[ -n $first && -n $work ]]; then
            joined+=("$((first - start))")
            handed+=("$((work - first))")
            running+=("$((start + ms - work))")
        fi
        JOIN_LINES+=("$(printf 'sample %d: %s  (moved %s tasks, %s connectors; new worker joined +%s ms, got its tasks +%s ms; status request %s ms)' \
            "$i" "$(secs "$ms")" "$(field "$out" moved_tasks)" "$(field "$out" moved_connectors)" \
            "${first:+$((first - start))}" "${work:+$((work - start))}" "$(field "$out" request_ms)")")
        # The 4th worker leaves cleanly; its work returns to the three (after the held delay).
        kill_worker "j-new$i" TERM
        "$BIN/distributed-settle" --rest "${URL[j-w1]}" --connectors "$JOIN_CONNECTORS" --tasks "$tasks" \
            --workers 3 --save "$WORK/join-before.json" >"$WORK/settle.out" 2>"$WORK/settle.trace"
    done
    JOIN_LINES+=("$(printf 'median %s for %s tasks (median %s moved; up to %s of it is the status request that saw it); floor: no timer (2 rounds, each noticed within heartbeat.interval %s)' \
        "$(secs "$(median "${samples[@]}")")" "$tasks" "$(median "${moved[@]}")" "$(secs "$(median "${requests[@]}")")" "$(secs "$HEARTBEAT_MS")")")
    if ((${#joined[@]} > 0)); then
        JOIN_LINES+=("       median split: start -> joined (process start, internal topics read, first round) $(secs "$(median "${joined[@]}")"), -> its tasks assigned (revoke round + assign round) $(secs "$(median "${handed[@]}")"), -> all RUNNING in REST $(secs "$(median "${running[@]}")")")
    fi
    stop_workers j-w1 j-w2 j-w3
}

for part in $PARTS; do
    case $part in
    failover) for delay in $DELAYS; do failover "$delay"; done ;;
    join) join ;;
    *) die "unknown part $part (FERRY_BENCH_PARTS: failover join)" ;;
    esac
done

{
    echo
    echo "================ Ferry distributed-mode benchmark ================"
    echo "machine:  $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); broker ${FERRY_BROKER:-nisshi} on $BOOTSTRAP"
    echo "workers:  session.timeout.ms=$SESSION_MS heartbeat.interval.ms=$HEARTBEAT_MS, $SAMPLES samples each"
    if ((${#FAILOVER_LINES[@]} > 0)); then
        echo
        echo "failover: SIGKILL of 1 of 3 workers -> all its connectors and tasks RUNNING on the others"
        echo "          ($FAILOVER_CONNECTORS FileStreamSource connectors; timed through a survivor's REST status)"
        printf '%s\n' "${FAILOVER_LINES[@]}"
        echo "(the session timer starts at the victim's last heartbeat, up to heartbeat.interval before the kill)"
    fi
    if ((${#JOIN_LINES[@]} > 0)); then
        echo
        echo "join:     3 -> 4 workers, $JOIN_CONNECTORS FileStreamSink x $JOIN_TASKS tasks, scheduled.rebalance.max.delay.ms=$JOIN_DELAY_MS"
        echo "          (from the 4th worker's start to every task RUNNING and balanced over 4 workers)"
        printf '%s\n' "${JOIN_LINES[@]}"
    fi
    echo "=================================================================="
}
