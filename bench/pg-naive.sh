#!/usr/bin/env bash
# The naive PostgreSQL peer: the allocator a platform team would hand-roll on PostgreSQL
# (bench/pg-naive.sql: next-fit as ../shared/peers/redis/alloc.lua, one row per held pid, the
# space's row locked per alloc), driven by pgbench: 50 clients, one client thread, one
# transaction per alloc, synchronous_commit on. A fresh database, dropped at the end.
#
#   bench/pg-naive.sh                  # about 30 s; docs/benchmarks.md ("The naive PostgreSQL peer")
#   SPACES=16 WARMUP=5 DURATION=15 CLIENTS=50 bench/pg-naive.sh
#
# stdout, the last two lines (bench/all.sh reads them):
#   pg-naive latency_ms avg=A
#   pg-naive allocs/s N
# SPACES > 1: each alloc picks one of the spaces at random (pgbench's random()), so allocs of
# different spaces do not wait for each other's lock. Every space has pid_max 4,194,304: none fills.
set -euo pipefail
cd "$(dirname "$0")/.."

WARMUP=${WARMUP:-5} DURATION=${DURATION:-15} CLIENTS=${CLIENTS:-50} SPACES=${SPACES:-1}
PID_MAX=4194304
for v in WARMUP DURATION CLIENTS SPACES; do
  [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} > 0)) || { echo "bench/pg-naive.sh: $v must be a whole number above 0" >&2; exit 2; }
done
PGBENCH=${PGBENCH:-$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)}
[[ -x $PGBENCH ]] || { echo "bench/pg-naive.sh: no pgbench (PGBENCH names it)" >&2; exit 2; }
db=pidspace_naive_$$

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pidspace-pg-naive.XXXXXX")
bench_pid='' db_made=0
log() { echo "$(date +%H:%M:%S) $*" >&2; }
pg_admin() { # a command line run as user postgres, from a directory it may read, without PGUSER & co.
  local clean=(env -u PGHOST -u PGPORT -u PGUSER -u PGPASSWORD -u PGDATABASE)
  if (($(id -u) == 0)); then (cd / && "${clean[@]}" su postgres -c "$1"); else "${clean[@]}" bash -c "$1"; fi
}
cleanup() {
  set +e
  [[ -n $bench_pid ]] && kill "$bench_pid" 2>/dev/null && wait "$bench_pid" 2>/dev/null
  ((db_made)) && { pg_admin "dropdb --if-exists $db" || log "could not drop database $db"; }
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=pidspace PGPASSWORD=pidspace PGDATABASE=$db
pg_admin "createdb -O pidspace $db"
db_made=1
psql -X -q -v ON_ERROR_STOP=1 -f bench/pg-naive.sql
psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO naive_space SELECT s, $PID_MAX, 299 FROM generate_series(1, $SPACES) s"
[[ $(psql -X -A -t -c 'SHOW synchronous_commit') == on ]] || { log "synchronous_commit is not on"; exit 1; }
printf '\\set space random(1, %d)\nSELECT naive_alloc(:space);\n' "$SPACES" >"$tmp/alloc.sql"

run() { # seconds, output file: pgbench in the background, so Ctrl-C reaches the trap
  "$PGBENCH" -n -c "$CLIENTS" -j 1 -T "$1" -f "$tmp/alloc.sql" >"$2" 2>"$2.err" & bench_pid=$!
  local rc=0
  wait "$bench_pid" || rc=$?
  bench_pid=''
  ((rc == 0)) || { cat "$2" "$2.err" >&2; log "pgbench failed ($rc)"; exit 1; }
}
load0=$(cut -d' ' -f1 /proc/loadavg)
log "database $db, $SPACES space(s) of pid_max $PID_MAX; warm-up ${WARMUP}s, then ${DURATION}s measured, $CLIENTS clients"
run "$WARMUP" "$tmp/warmup.txt"
before=$(psql -X -A -t -c 'SELECT count(*) FROM naive_pid')
run "$DURATION" "$tmp/run.txt"
after=$(psql -X -A -t -c 'SELECT count(*) FROM naive_pid')
cat "$tmp/run.txt" >&2

tps=$(awk '/^tps = / {printf "%d", $3}' "$tmp/run.txt")
latency=$(awk '/^latency average = / {print $4}' "$tmp/run.txt")
done_tx=$(awk '/number of transactions actually processed/ {print $NF}' "$tmp/run.txt")
failed=$(awk '/number of failed transactions/ {print $5}' "$tmp/run.txt")
full=$(psql -X -A -t -c "SELECT count(*) FROM naive_space WHERE (SELECT count(*) FROM naive_pid p WHERE p.space = naive_space.space) >= pid_max - 300")
# Cross-checks: every processed transaction stored one row, and no vpid is held twice (the key)
log "rows stored in the measured run: $((after - before)) (pgbench: $done_tx transactions, ${failed:-0} failed); full spaces: $full"
((after - before == done_tx)) || log "WARNING: rows stored and transactions differ"
echo "pg-naive: $CLIENTS clients, $SPACES space(s), ${DURATION}s after ${WARMUP}s of warm-up; load $load0 -> $(cut -d' ' -f1 /proc/loadavg); $(psql -X -A -t -c 'SELECT version()' | cut -d' ' -f1-2)"
echo "pg-naive latency_ms avg=$latency"
echo "pg-naive allocs/s $tps"
