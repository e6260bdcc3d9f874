#!/usr/bin/env python3
"""Checks that a Kafka-protocol broker answers a Metadata request.

Usage: kafka_probe.py HOST:PORT [TIMEOUT_SECONDS]

An open port is not enough to call a broker ready, and no Kafka client is
installed before the workspace is built, so this speaks the protocol itself:
ApiVersions v0 (which every broker supports) to learn the Metadata versions,
then a non-flexible Metadata request (v1..v8) for all topics. Exit status 0 and
one line "brokers=N host:port" when at least one broker is listed.
"""
import socket
import struct
import sys

API_VERSIONS, METADATA = 18, 3


def request(sock, api_key, version, correlation_id, body=b""):
    client_id = b"ferry-probe"
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    payload = header + body
    sock.sendall(struct.pack(">i", len(payload)) + payload)
    size = struct.unpack(">i", read_exact(sock, 4))[0]
    response = read_exact(sock, size)
    got = struct.unpack(">i", response[:4])[0]
    if got != correlation_id:
        raise RuntimeError(f"correlation id {got}, expected {correlation_id}")
    return response[4:]


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise RuntimeError("connection closed by broker")
        data += chunk
    return data


def metadata_version(api_versions_body):
    error, count = struct.unpack(">hi", api_versions_body[:6])
    if error != 0:
        raise RuntimeError(f"ApiVersions error code {error}")
    for i in range(count):
        key, lo, hi = struct.unpack(">hhh", api_versions_body[6 + 6 * i : 12 + 6 * i])
        if key == METADATA:
            candidates = [v for v in range(1, 9) if lo <= v <= hi]
            if not candidates:
                raise RuntimeError(f"broker supports Metadata v{lo}..v{hi} only (no v1..v8)")
            return max(candidates)
    raise RuntimeError("broker does not list the Metadata API")


def metadata_body(version):
    body = struct.pack(">i", -1)  # null topic array: all topics
    if version >= 4:
        body += b"\x00"  # allow_auto_topic_creation = false
    if version >= 8:
        body += b"\x00\x00"  # no authorized-operations lists
    return body


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        version = metadata_version(request(sock, API_VERSIONS, 0, 1))
        body = request(sock, METADATA, version, 2, metadata_body(version))
    pos = 4 if version >= 3 else 0  # throttle_time_ms
    (brokers,) = struct.unpack(">i", body[pos : pos + 4])
    if brokers < 1:
        raise RuntimeError("Metadata lists no brokers")
    pos += 4 + 4  # count, node_id
    (host_len,) = struct.unpack(">h", body[pos : pos + 2])
    advertised = body[pos + 2 : pos + 2 + host_len].decode()
    (adv_port,) = struct.unpack(">i", body[pos + 2 + host_len : pos + 6 + host_len])
    print(f"brokers={brokers} {advertised}:{adv_port} metadata=v{version}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the caller only needs a reason and a status
        print(f"probe failed: {e}", file=sys.stderr)
        sys.exit(1)
