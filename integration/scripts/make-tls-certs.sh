#!/usr/bin/env bash
# Makes the TLS files of a test database server in DIR (kept when already there):
#   ca.pem                    self-signed CA that signed the server certificate
#   server.pem, server.key    server certificate (subjectAltName IP:127.0.0.1 only — not
#                             localhost, so tests can see verify-full refuse a name the
#                             certificate does not hold) and its unencrypted key
#   other-ca.pem              an unrelated self-signed CA, for tests of a wrong CA
# Used by start-postgres.sh and start-mariadb.sh (DIR = STATEDIR/tls). Prints nothing.
#
# Usage: make-tls-certs.sh DIR
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -eq 1 ]] || die "usage: $0 DIR"
dir=$1
[[ -f $dir/server.pem && -f $dir/server.key && -f $dir/ca.pem && -f $dir/other-ca.pem ]] && exit 0
mkdir -p "$dir"
cd "$dir"
ssl() { openssl "$@" >>openssl.log 2>&1 || die "openssl $1 failed; log: $dir/openssl.log"; }
for ca in ca other-ca; do
    ssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Ferry test $ca" \
        -keyout "$ca.key" -out "$ca.pem"
done
ssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
ssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile server.ext -out server.pem
chmod 600 server.key
