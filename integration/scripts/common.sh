# shellcheck shell=bash
# Shared helpers for Ferry's service scripts. Source it; do not run it.
#
# Everything that outlives one run (built brokers, virtualenvs) lives under
# $FERRY_CACHE so a CI machine with a warm cache skips the slow installs, and
# nothing is ever written into the clone.

FERRY_CACHE="${FERRY_CACHE:-$HOME/.cache/ferry}"
export FERRY_CACHE
mkdir -p "$FERRY_CACHE"

# Absolute path of the repository root (two levels above this file).
FERRY_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FERRY_SCRIPTS="$FERRY_REPO_ROOT/integration/scripts"

# The pinned test broker and where install-broker.sh puts it.
NISSHI_VERSION=0.8.1
NISSHI_ROOT="$FERRY_CACHE/nisshi-$NISSHI_VERSION"
NISSHI_BIN="$NISSHI_ROOT/bin/nisshi"

# Log to stderr so that stdout stays free for the one value a script prints.
log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$(basename "$0")" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Prints a TCP port that nothing listens on right now (the kernel picks it).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# port_open HOST PORT: true when a TCP connection to HOST:PORT succeeds.
port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for_port HOST PORT SECONDS [PID]: polls until HOST:PORT accepts
# connections. Fails when SECONDS pass or, if PID is given, when PID exits.
wait_for_port() {
    local host=$1 port=$2 secs=$3 pid=${4:-}
    local deadline=$((SECONDS + secs))
    until port_open "$host" "$port"; do
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            log "process $pid exited before $host:$port opened"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "timed out after ${secs}s waiting for $host:$port"
            return 1
        fi
        sleep 0.05
    done
}

# ensure_apt_packages PKG...: installs the Debian packages that are missing
# (the machine runs as root; sudo is used when it does not).
ensure_apt_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing apt packages: ${missing[*]}"
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
}

# cargo_target_dir: the workspace's target directory (honours CARGO_TARGET_DIR
# and .cargo/config.toml, because cargo itself answers).
cargo_target_dir() {
    (cd "$FERRY_REPO_ROOT" && cargo metadata --format-version 1 --no-deps) |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}
