#!/usr/bin/env bash
# Starts a Kafka-protocol broker on a free port and prints its bootstrap
# address (127.0.0.1:PORT) once it answers a Metadata request.
#
# Usage: start-broker.sh STATEDIR [--quick] [--sqlite] [--port PORT] [--cluster-id ID]
#   STATEDIR      created if missing; receives broker.port, broker.pid,
#                 broker.bootstrap and broker.log (and broker.db with --sqlite)
#   --quick       use the quick-start broker (tansu from PyPI) instead of nisshi;
#                 FERRY_BROKER=quick does the same
#   --sqlite      durable storage (survives a restart with the same STATEDIR)
#                 instead of memory
#   --port PORT   listen on PORT instead of a free one
#   --cluster-id  cluster id (default ferry-test); two brokers are two clusters
# Stop it with stop-broker.sh STATEDIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -ge 1 ]] || die "usage: $0 STATEDIR [--quick] [--sqlite] [--port PORT] [--cluster-id ID]"
state_dir=$1
shift
kind=${FERRY_BROKER:-nisshi}
storage=memory
port=
cluster_id=ferry-test
while [[ $# -gt 0 ]]; do
    case $1 in
    --quick) kind=quick ;;
    --sqlite) storage=sqlite ;;
    --port) port=$2; shift ;;
    --cluster-id) cluster_id=$2; shift ;;
    *) die "unknown option $1" ;;
    esac
    shift
done

mkdir -p "$state_dir"
state_dir="$(cd "$state_dir" && pwd)"
if [[ -f $state_dir/broker.pid ]] && kill -0 "$(cat "$state_dir/broker.pid")" 2>/dev/null; then
    die "a broker from $state_dir is still running (pid $(cat "$state_dir/broker.pid")); stop-broker.sh it first"
fi

case $kind in
nisshi)
    bin="$("$FERRY_SCRIPTS/install-broker.sh")"
    extra=(--group-initial-rebalance-delay 0s)
    engine_name=nisshi
    ;;
quick)
    bin="$("$FERRY_SCRIPTS/install-quick-broker.sh")"
    extra=()
    engine_name=tansu
    ;;
*) die "FERRY_BROKER must be nisshi or quick, not $kind" ;;
esac

if [[ $storage == sqlite ]]; then
    engine="sqlite://broker.db" # relative to the broker's working dir, STATEDIR
else
    engine="memory://$engine_name/"
fi

# A port picked free can be taken before the broker binds it; try a few.
fixed_port=$port
for attempt in 1 2 3; do
    port=${fixed_port:-$(free_port)}
    url="tcp://127.0.0.1:$port"
    (
        cd "$state_dir"
        exec setsid "$bin" broker --cluster-id "$cluster_id" --listener-url "$url" \
            --advertised-listener-url "$url" --storage-engine "$engine" "${extra[@]}" \
            </dev/null >>"$state_dir/broker.log" 2>&1
    ) &
    pid=$!
    if wait_for_port 127.0.0.1 "$port" 30 "$pid"; then
        break
    fi
    kill -9 "$pid" 2>/dev/null || true
    [[ -z $fixed_port && $attempt -lt 3 ]] || {
        tail -n 20 "$state_dir/broker.log" >&2
        die "broker did not start; log: $state_dir/broker.log"
    }
    log "broker did not come up on port $port; retrying on another port"
done

echo "$pid" >"$state_dir/broker.pid"
echo "$port" >"$state_dir/broker.port"
echo "127.0.0.1:$port" >"$state_dir/broker.bootstrap"

deadline=$((SECONDS + 30))
until probe=$(python3 "$FERRY_SCRIPTS/kafka_probe.py" "127.0.0.1:$port" 2 2>&1); do
    if ((SECONDS >= deadline)) || ! kill -0 "$pid" 2>/dev/null; then
        tail -n 20 "$state_dir/broker.log" >&2
        die "broker on port $port does not answer Metadata: $probe"
    fi
    sleep 0.1
done
log "$kind broker pid $pid on 127.0.0.1:$port ($engine): $probe"
echo "127.0.0.1:$port"
