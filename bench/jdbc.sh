#!/usr/bin/env bash
# Ferry's JDBC benchmark: Ferry's JDBC connectors against the raw database clients on the same
# machine, in one go, on a local broker, PostgreSQL 15 and MariaDB 10.11.
#   1. sink into PostgreSQL: Ferry's JdbcSinkConnector (insert, pk.mode none, auto.create) reading
#      a topic of N JsonConverter envelopes, from process start until the last row is in the
#      table (jdbc-wait-count: looks for it in the table's last pages, then checks count(*) is N),
#      vs COPY … FROM STDIN of the same N rows by tokio-postgres (jdbc-load)
#   2. sink into MariaDB: the same (polling count(*) until it is N), vs LOAD DATA LOCAL INFILE
#      by mysql_async
#   Both sinks are also measured against jdbc-kafka-load: the same topic → table pipeline
#   written by hand for this one row type (rdkafka with Ferry's consumer settings, serde into
#   the known struct, one streamed COPY / LOAD DATA) — what any Kafka → database pipeline can
#   reach on this machine, where the broker, the database and the pipeline share the cores.
#   3. source, for each database: Ferry's JdbcSourceConnector (incrementing on id, JsonConverter
#      without schemas) copying an N-row table into a topic, from process start until the high
#      watermark is N (watermarks), vs one streaming SELECT by the raw client (jdbc-select) — a
#      DB → Kafka pipeline against a DB read only — and vs SELECT + produce of every row as JSON
#      (jdbc-select --topic), the same pipeline minus Ferry.
# Both sinks write identical rows (checked after each run); the raw tables are created LIKE the
# table Ferry's auto.create made, so both sides load into the same column types.
#
# Every measurement runs FERRY_BENCH_JDBC_ROUNDS times (default 3), Ferry and its baselines in
# turn, and the summary gives each one's median (every round's rate in brackets): on this shared
# 2-core machine one run of the same binary swings by ±30%, the loaders' too.
#
# Usage: bench/jdbc.sh
# Environment: FERRY_BENCH_JDBC_RECORDS (default 200000), FERRY_BENCH_JDBC_BATCH_MAX_ROWS (the
# source's batch.max.rows, default 10000), FERRY_BENCH_JDBC_MAX_POLL_RECORDS (the sink consumer's
# max.poll.records, i.e. rows per sink transaction; default: Kafka's 500), FERRY_BENCH_NO_BUILD=1
# skips the cargo build, FERRY_BENCH_KEEP=1 keeps the work dir.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../integration/scripts/common.sh"
cd "$FERRY_REPO_ROOT"

RECORDS=${FERRY_BENCH_JDBC_RECORDS:-200000}
ROUNDS=${FERRY_BENCH_JDBC_ROUNDS:-3}
BATCH_MAX_ROWS=${FERRY_BENCH_JDBC_BATCH_MAX_ROWS:-10000}
MAX_POLL_RECORDS=${FERRY_BENCH_JDBC_MAX_POLL_RECORDS:-}
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-jdbc.XXXXXX")"
FERRY_PID=

cleanup() {
    [[ -n $FERRY_PID ]] && kill -KILL "$FERRY_PID" 2>/dev/null || true
    "$FERRY_SCRIPTS/stop-broker.sh" "$WORK/broker" || true
    "$FERRY_SCRIPTS/stop-postgres.sh" "$WORK/postgres" || true
    "$FERRY_SCRIPTS/stop-mariadb.sh" "$WORK/mariadb" || true
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
for b in ferry create-topic watermarks jdbc-produce jdbc-load jdbc-kafka-load jdbc-select jdbc-wait-count; do
    [[ -x $BIN/$b ]] || die "$BIN/$b was not built"
done
if pgrep -x rustc >/dev/null; then
    log "warning: rustc is running on this machine; the numbers below share the CPU with it"
fi

BOOTSTRAP="$("$FERRY_SCRIPTS/start-broker.sh" "$WORK/broker")"
PG_URL="$("$FERRY_SCRIPTS/start-postgres.sh" "$WORK/postgres")"
MY_URL="$("$FERRY_SCRIPTS/start-mariadb.sh" "$WORK/mariadb")"

# sql_pg SQL / sql_my SQL: run SQL with the database's own client; rows as tab-separated text.
sql_pg() {
    psql -h 127.0.0.1 -p "$(cat "$WORK/postgres/postgres.port")" -U postgres -d postgres \
        -Atq -F $'\t' -v ON_ERROR_STOP=1 -c "$1"
}
sql_my() { mariadb --defaults-file="$WORK/mariadb/my.cnf" -D ferry -N -B -e "$1"; }

# MariaDB 10.11 ships with local_infile ON; if a server config turned it off, the baseline
# turns it on for this private server only.
INFILE_NOTE="local_infile was already ON"
if [[ $(sql_my "SELECT @@GLOBAL.local_infile") != 1 ]]; then
    sql_my "SET GLOBAL local_infile=1"
    INFILE_NOTE="local_infile was OFF; the benchmark ran SET GLOBAL local_infile=1 as root"
fi
log "MariaDB: $INFILE_NOTE"

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
offset.flush.interval.ms=1000
# The raw consumer's setting (the test broker does not answer a waiting fetch early).
consumer.fetch.wait.max.ms=50
PROPS
    if [[ -n $MAX_POLL_RECORDS ]]; then
        echo "consumer.max.poll.records=$MAX_POLL_RECORDS" >>"$1"
    fi
}

# run_ferry NAME CONNECTOR_FILE PROBE_OUTPUT PROBE...: starts the probe, then Ferry with one
# connector; waits for the probe; stops Ferry.
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
    cat "$out"
}

log "input: $RECORDS JsonConverter envelopes (id int64, name string, amount double, active boolean, created Timestamp, price Decimal(2)) into topic bench_rows"
"$BIN/create-topic" --bootstrap "$BOOTSTRAP" --topic bench_rows --partitions 1
"$BIN/jdbc-produce" --bootstrap "$BOOTSTRAP" --topic bench_rows --records "$RECORDS" | tee "$WORK/produce.out"

# sink DB URL SQL_FN LIKE_SQL CHECKSUM_SQL: ROUNDS rounds of: Ferry's sink from bench_rows into
# table bench_rows (dropped first: auto.create makes it each round), then the raw loader into
# bench_raw and the hand-written pipeline into bench_pipe (both created by LIKE_SQL); the three
# tables must hold the same rows.
sink() {
    local db=$1 url=$2 sql=$3 like=$4 checksum=$5 r t
    for r in $(seq 1 "$ROUNDS"); do
        log "sink into $db, round $r/$ROUNDS: Ferry's JdbcSinkConnector, topic bench_rows → table bench_rows"
        "$sql" "DROP TABLE IF EXISTS bench_rows" >/dev/null
        cat >"$WORK/$db-sink.properties" <<PROPS
name=bench-$db-sink-$r
connector.class=io.confluent.connect.jdbc.JdbcSinkConnector
tasks.max=1
topics=bench_rows
connection.url=$url
insert.mode=insert
pk.mode=none
auto.create=true
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=true
PROPS
        run_ferry "$db-sink-r$r" "$WORK/$db-sink.properties" "$WORK/$db-ferry-sink.r$r.out" \
            "$BIN/jdbc-wait-count" --url "$url" --table bench_rows --records "$RECORDS" \
            --last-id "$RECORDS" --interval-ms 50
        for t in bench_raw bench_pipe; do
            "$sql" "DROP TABLE IF EXISTS $t" >/dev/null
            "$sql" "${like//bench_raw/$t}"
        done
        log "sink into $db, round $r/$ROUNDS: raw loader into bench_raw"
        "$BIN/jdbc-load" --url "$url" --table bench_raw --records "$RECORDS" |
            tee "$WORK/$db-raw-load.r$r.out"
        log "sink into $db, round $r/$ROUNDS: hand-written Kafka → $db pipeline into bench_pipe"
        "$BIN/jdbc-kafka-load" --bootstrap "$BOOTSTRAP" --topic bench_rows --url "$url" \
            --table bench_pipe --records "$RECORDS" | tee "$WORK/$db-raw-pipe.r$r.out"
    done
    local a b c
    a=$("$sql" "${checksum//TABLE/bench_rows}")
    b=$("$sql" "${checksum//TABLE/bench_raw}")
    c=$("$sql" "${checksum//TABLE/bench_pipe}")
    [[ $a == "$b" ]] || die "$db: Ferry's table and the raw loader's differ: $a vs $b"
    [[ $a == "$c" ]] || die "$db: Ferry's table and the raw pipeline's differ: $a vs $c"
    log "sink into $db: the three tables hold the same rows ($a)"
}

# source_bench DB URL SQL_FN SETUP_SQL...: a keyed copy of the rows (bench_src, made by the
# SETUP_SQL statements, one client call each), then ROUNDS rounds of: read by the raw client, by
# the raw client + producer, and by Ferry's source (each round into topics of its own).
source_bench() {
    local db=$1 url=$2 sql=$3 s r
    for s in "${@:4}"; do
        "$sql" "$s" >/dev/null
    done
    for r in $(seq 1 "$ROUNDS"); do
        log "source from $db, round $r/$ROUNDS: raw streaming SELECT of bench_src"
        "$BIN/jdbc-select" --url "$url" --table bench_src --records "$RECORDS" |
            tee "$WORK/$db-raw-select.r$r.out"
        log "source from $db, round $r/$ROUNDS: raw SELECT + produce to raw-$db-r$r-bench_src"
        "$BIN/create-topic" --bootstrap "$BOOTSTRAP" --topic "raw-$db-r$r-bench_src" --partitions 1
        "$BIN/jdbc-select" --url "$url" --table bench_src --records "$RECORDS" \
            --bootstrap "$BOOTSTRAP" --topic "raw-$db-r$r-bench_src" |
            tee "$WORK/$db-raw-select-produce.r$r.out"
        local size=$(($(field "$WORK/$db-raw-select-produce.r$r.out" bytes) / RECORDS))
        log "source from $db, round $r/$ROUNDS: Ferry's JdbcSourceConnector, bench_src → ferry-$db-r$r-bench_src"
        "$BIN/create-topic" --bootstrap "$BOOTSTRAP" --topic "ferry-$db-r$r-bench_src" --partitions 1
        cat >"$WORK/$db-source.properties" <<PROPS
name=bench-$db-source-$r
connector.class=io.confluent.connect.jdbc.JdbcSourceConnector
tasks.max=1
connection.url=$url
mode=incrementing
incrementing.column.name=id
table.whitelist=bench_src
topic.prefix=ferry-$db-r$r-
batch.max.rows=$BATCH_MAX_ROWS
value.converter=org.apache.kafka.connect.json.JsonConverter
value.converter.schemas.enable=false
PROPS
        run_ferry "$db-source-r$r" "$WORK/$db-source.properties" "$WORK/$db-ferry-source.r$r.out" \
            "$BIN/watermarks" --bootstrap "$BOOTSTRAP" --topic "ferry-$db-r$r-bench_src" \
            --wait-for "$RECORDS" --size "$size"
    done
}

log "1/3 sink into PostgreSQL"
sink pg "$PG_URL" sql_pg "CREATE TABLE bench_raw (LIKE bench_rows INCLUDING ALL)" \
    "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM TABLE t"
log "2/3 sink into MariaDB"
sink my "$MY_URL" sql_my "CREATE TABLE bench_raw LIKE bench_rows" \
    "SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, name, amount, active, created, price))) FROM TABLE"

log "3/3 source from PostgreSQL and MariaDB"
source_bench pg "$PG_URL" sql_pg "CREATE TABLE bench_src (LIKE bench_raw INCLUDING ALL);
    ALTER TABLE bench_src ADD PRIMARY KEY (id);
    INSERT INTO bench_src SELECT * FROM bench_raw;" "VACUUM ANALYZE bench_src"
source_bench my "$MY_URL" sql_my "CREATE TABLE bench_src LIKE bench_raw;
    ALTER TABLE bench_src ADD PRIMARY KEY (id);
    INSERT INTO bench_src SELECT * FROM bench_raw; ANALYZE TABLE bench_src;"

# rates NAME: the rows/s of each round of NAME; rate NAME: their median.
rates() {
    local r
    for r in $(seq 1 "$ROUNDS"); do
        field "$WORK/$1.r$r.out" records_per_sec
    done
}
rate() { rates "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
line() { printf '          %-34s %10s rows/s  (%s)\n' "$1" "$(rate "$2")" "$(rates "$2" | paste -sd ' ')"; }
pg_f=$(rate pg-ferry-sink) pg_r=$(rate pg-raw-load) pg_p=$(rate pg-raw-pipe)
my_f=$(rate my-ferry-sink) my_r=$(rate my-raw-load) my_p=$(rate my-raw-pipe)
pgs_f=$(rate pg-ferry-source) pgs_r=$(rate pg-raw-select) pgs_rp=$(rate pg-raw-select-produce)
mys_f=$(rate my-ferry-source) mys_r=$(rate my-raw-select) mys_rp=$(rate my-raw-select-produce)
cat <<SUMMARY

==================== Ferry JDBC benchmark ====================
machine:  $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); broker ${FERRY_BROKER:-nisshi} on $BOOTSTRAP
rows:     $RECORDS x (int64, string ~30 chars, double, boolean, timestamp, decimal(2))
sink:     insert.mode=insert pk.mode=none auto.create=true, max.poll.records ${MAX_POLL_RECORDS:-500 (default)}
source:   mode=incrementing on id (primary key), batch.max.rows=$BATCH_MAX_ROWS, JsonConverter schemas.enable=false
MariaDB:  $INFILE_NOTE

sink PostgreSQL
$(line "raw COPY FROM STDIN" pg-raw-load)
$(line "hand-written Kafka → COPY" pg-raw-pipe)
$(line "Ferry JdbcSinkConnector" pg-ferry-sink)
          Ferry / raw COPY                   $(ratio "$pg_f" "$pg_r")   (goal >= 0.5)
          hand-written pipeline / raw COPY   $(ratio "$pg_p" "$pg_r")
          Ferry / hand-written pipeline      $(ratio "$pg_f" "$pg_p")
sink MariaDB
$(line "raw LOAD DATA LOCAL INFILE" my-raw-load)
$(line "hand-written Kafka → LOAD DATA" my-raw-pipe)
$(line "Ferry JdbcSinkConnector" my-ferry-sink)
          Ferry / raw LOAD DATA              $(ratio "$my_f" "$my_r")   (goal >= 0.3)
          hand-written pipeline / LOAD DATA  $(ratio "$my_p" "$my_r")
          Ferry / hand-written pipeline      $(ratio "$my_f" "$my_p")
source PostgreSQL
$(line "raw streaming SELECT" pg-raw-select)
$(line "raw SELECT + produce" pg-raw-select-produce)
$(line "Ferry JdbcSourceConnector → topic" pg-ferry-source)
          Ferry / raw SELECT                 $(ratio "$pgs_f" "$pgs_r")   (goal >= 0.7)
          Ferry / raw SELECT + produce       $(ratio "$pgs_f" "$pgs_rp")
source MariaDB
$(line "raw streaming SELECT" my-raw-select)
$(line "raw SELECT + produce" my-raw-select-produce)
$(line "Ferry JdbcSourceConnector → topic" my-ferry-source)
          Ferry / raw SELECT                 $(ratio "$mys_f" "$mys_r")   (goal >= 0.7)
          Ferry / raw SELECT + produce       $(ratio "$mys_f" "$mys_rp")
(Ferry times run from process start to the last row visible, polled every 50 ms (or 2% of the
elapsed time, if longer) for the sinks — PostgreSQL: the last row looked for in the table's last
pages; MariaDB: count(*), which scans the table and so takes some CPU from Ferry — and every
10 ms for the source;
the raw clients' times include connecting. Ferry's source writes to Kafka, the raw SELECT only
reads: that ratio compares a DB → Kafka pipeline with a DB read; SELECT + produce is the same
pipeline minus Ferry. The hand-written sink pipelines read the same topic with Ferry's consumer
settings and load one streamed COPY / LOAD DATA: the most a Kafka → database path reaches here.)
==============================================================
SUMMARY
