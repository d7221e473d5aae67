#!/usr/bin/env bash
# Every headline figure of README.md and docs/benchmarks.md from one command: each figure three
# times, its peer (the seed's design, Redis, the in-process storm, one node, ...) run next to it in
# the same run, alternated; one markdown table on stdout, every raw number in bench/out/.
#
#   bench/all.sh                          # about 35 minutes on 2 cores (the estimate is printed first)
#   bench/all.sh --quick                  # 1 run each, short durations: checks the script, a few minutes
#   bench/all.sh --only http-h2,replay
#
# docs/benchmarks.md ("bench/all.sh") says what each key runs and how to read the table.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_KEYS=(core batches storm-url-h2 storm-url-pg http-h2 http-pg cluster2 replay memory)
EXTRA_KEYS=(batches-pg) # run only when named in --only

usage() {
  cat <<EOF
Usage: bench/all.sh [--quick] [--only KEY[,KEY...]]
Runs each headline figure $RUNS_FULL times with its peer in the same run and prints one markdown table
(figure, median, min-max, peer, ratio, goal, date, commit, load average); raw numbers go to
bench/out/all-<date>.tsv. Builds the jar and the JMH classes first (mvn -o).
  --quick      one run of each, short durations (minutes, for checking the script)
  --only KEYS  these keys only, comma-separated: ${ALL_KEYS[*]} ${EXTRA_KEYS[*]}
               (batches-pg, the batches figure on PostgreSQL, runs only when named)
  -h, --help   this text
Environment: PEERS_DIR (default ../shared/peers), where redis/alloc.lua is; CLUSTER_SH and
PG_NAIVE_SH (default bench/cluster.sh, bench/pg-naive.sh), the scripts cluster2 and http-pg call.
Needs wrk, redis-server, redis-benchmark, jq, python3, a JDK 17, Maven's offline repository, and
PostgreSQL on 127.0.0.1:5432 with role pidspace (databases are made and dropped as user postgres).
EOF
}
bad() { echo "bench/all.sh: $1" >&2; echo "Try 'bench/all.sh --help'." >&2; exit 2; }

RUNS_FULL=3 quick=0 only=''
while (($#)); do
  case $1 in
    --quick) quick=1; shift ;;
    --only) only=${2:-}; shift 2 || bad "--only needs a value" ;;
    --only=*) only=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) bad "unknown option '$1'" ;;
  esac
done
keys=("${ALL_KEYS[@]}")
if [[ -n $only ]]; then
  IFS=, read -ra keys <<<"$only"
  for k in "${keys[@]}"; do
    [[ " ${ALL_KEYS[*]} ${EXTRA_KEYS[*]} " == *" $k "* ]] || bad "unknown key '$k' (keys: ${ALL_KEYS[*]} ${EXTRA_KEYS[*]})"
  done
fi

# Durations: the full run's are docs/benchmarks.md's commands and the peers' README; --quick's only
# check that every step runs and parses.
if ((quick)); then
  RUNS=1 JMH_CORE=(-f 1 -wi 1 -w 1s -i 1 -r 1s) JMH_BATCHES=(-f 1 -wi 1 -w 2s -i 1 -r 2s)
  STORM_WARMUP=3 STORM_DURATION=5 HTTP_WARMUP=3 HTTP_DURATION=3 REDIS_N=100000 TRACE_N=100000
  CLUSTER_WARMUP=3 CLUSTER_S=5 NAIVE_WARMUP=2 NAIVE_DURATION=3
else
  RUNS=$RUNS_FULL JMH_CORE=(-f 1 -wi 2 -w 2s -i 3 -r 2s) JMH_BATCHES=(-f 1 -wi 2 -w 10s -i 3 -r 5s)
  STORM_WARMUP=20 STORM_DURATION=40 HTTP_WARMUP=20 HTTP_DURATION=15 REDIS_N=600000 TRACE_N=1000000
  # Two node JVMs on 2 cores still spend half their CPU in the JIT 50 s after they start (profiled):
  # the cluster's storms warm up 60 s, so the figure is the nodes' and not the compiler's
  CLUSTER_WARMUP=60 CLUSTER_S=30 NAIVE_WARMUP=5 NAIVE_DURATION=15
fi
PEERS_DIR=${PEERS_DIR:-../shared/peers}
CLUSTER_SH=${CLUSTER_SH:-bench/cluster.sh} PG_NAIVE_SH=${PG_NAIVE_SH:-bench/pg-naive.sh}

# Seconds a key's runs take here (2 cores), for the estimate printed at the start
estimate() {
  local q=$quick naive=0
  [[ -x $PG_NAIVE_SH ]] && naive=1
  case $1 in
    core) echo $((q ? 15 : 50)) ;;
    batches | batches-pg) echo $((q ? 15 : 45)) ;;
    storm-url-h2 | storm-url-pg) echo $((2 * (STORM_WARMUP + STORM_DURATION) + 20)) ;;
    http-h2) echo $((HTTP_WARMUP + HTTP_DURATION + (q ? 5 : 15) + 5)) ;; # Redis: 600,000 calls at 40-150 k/s
    http-pg) echo $((HTTP_WARMUP + HTTP_DURATION + (q ? 5 : 15) + 5 + (naive ? NAIVE_WARMUP + NAIVE_DURATION + 5 : 0))) ;;
    cluster2) echo $((2 * (CLUSTER_WARMUP + CLUSTER_S) + 40 + 40)) ;; # node starts; the hop's 40 s of wrk
    replay) echo $((q ? 3 : 6)) ;;
    memory) echo 12 ;;
  esac
}

missing=()
for c in wrk redis-server redis-benchmark redis-cli jq python3 java mvn curl psql; do
  command -v "$c" >/dev/null || missing+=("$c")
done
((${#missing[@]} == 0)) || bad "missing: ${missing[*]}"
[[ -f $PEERS_DIR/redis/alloc.lua ]] || bad "no $PEERS_DIR/redis/alloc.lua (set PEERS_DIR)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pidspace-all.XXXXXX")
mkdir -p bench/out
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=bench/out/all-$stamp.tsv
printf 'key\tmetric\trun\tside\tvalue\tstarted_utc\tload_before\tload_after\tnote\n' >"$results"
: >"$tmp/pids" && : >"$tmp/dbs" && : >"$tmp/failed" && : >"$tmp/keytimes"

log() { echo "$(date -u +%H:%M:%S) $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# --- processes and databases: each is written down when made, so the EXIT trap finds it
stop_pid() { # pid: SIGTERM (a node leaves its cluster, Redis flushes its AOF), KILL after 30 s
  local p=$1 i
  kill -TERM "$p" 2>/dev/null || return 0
  for ((i = 0; i < 120; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
bg() { # log, command...: starts it in the background; its pid in $bg_pid
  "${@:2}" >"$1" 2>&1 &
  bg_pid=$!
  echo "$bg_pid" >>"$tmp/pids"
}
stop_all() {
  local p
  for p in $(tac "$tmp/pids" 2>/dev/null); do stop_pid "$p"; done
  : >"$tmp/pids"
}
pg_admin() { # SQL on stdin, as user postgres
  if (($(id -u) == 0)); then
    (cd / && su postgres -c 'PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres')
  else
    PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres
  fi
}
db_seq=0
new_db() { # -> $db, a fresh database owned by pidspace
  db_seq=$((db_seq + 1))
  db=pidspace_all_$$_$db_seq
  echo "$db" >>"$tmp/dbs"
  echo "CREATE DATABASE $db OWNER pidspace;" | pg_admin || fail "could not create database $db"
}
drop_dbs() {
  local d
  for d in $(cat "$tmp/dbs" 2>/dev/null); do
    echo "DROP DATABASE IF EXISTS $d WITH (FORCE);" | pg_admin >/dev/null 2>&1 || log "could not drop database $d"
  done
  : >"$tmp/dbs"
}
journal_rows() { # db: events in it (a step that wrote none measured something else)
  PGPASSWORD=pidspace psql -X -A -t -h 127.0.0.1 -U pidspace -d "$1" -c 'SELECT count(*) FROM event_journal'
}
cleanup() {
  set +e
  stop_all
  drop_dbs
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'log "interrupted: stopping what it started"; exit 130' INT
trap 'exit 143' TERM

# --- steps and what they record
fail() { echo "bench/all.sh: $key: $*" >&2; exit 1; } # inside a key's subshell: that key fails
step_no=0 steps_total=0
step() { # what: the progress line; sets the run's start time and load
  step_no=$((step_no + 1))
  step_start=$(date -u +%H:%M) step_load=$(load1)
  log "[$key $step_no/$steps_total] $*"
}
record() { # metric, run, side (figure|peer|peer2), value[, note]
  [[ $4 =~ ^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]] || fail "$1 run $2 ($3): not a number: '$4'"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$1" "$2" "$3" "$4" "$(date -u +%F) $step_start" \
    "$step_load" "$(load1)" "${5:-}" >>"$results"
}

# --- the node, as docs/benchmarks.md starts it: ports the kernel picks, bound to 127.0.0.1
start_node() { # h2|pg [db] -> $node_pid, $node_url
  local log=$tmp/node-$key-$step_no.log url='' i
  if [[ $1 == pg ]]; then
    PIDSPACE_JDBC_URL="jdbc:postgresql://127.0.0.1:5432/$2?connectTimeout=10" bg "$log" \
      java -jar target/pidspace.jar node --config conf/postgres.conf --host 127.0.0.1 --port 0 \
      --http-port 0 --management-port 0
  else
    bg "$log" java -jar target/pidspace.jar node --host 127.0.0.1 --port 0 --http-port 0 \
      --management-port 0 --data-dir "$tmp/node-data-$key-$step_no"
  fi
  node_pid=$bg_pid
  for ((i = 0; i < 240; i++)); do # 120 s: the URL in its log, then the registry answers through the journal
    kill -0 "$node_pid" 2>/dev/null || { tail -20 "$log" >&2; fail "the node exited while starting"; }
    [[ -n $url ]] || url=$(sed -n 's/.*HTTP API \(http:[^,]*\),.*/\1/p' "$log")
    [[ -n $url ]] && curl -sf -o /dev/null --max-time 5 "$url/v1/spaces" && break
    sleep 0.5
  done
  ((i < 240)) || { tail -20 "$log" >&2; fail "the node was not ready in 120 s (its log's end above)"; }
  node_url=$url
}

storm_figures() { # json, metric prefix, run, side: allocs/s and fork p99 in ms
  [[ -s $1 ]] || fail "the storm wrote no JSON"
  record "$2" "$3" "$4" "$(jq -r '.runs[0].counts.allocs_per_second' "$1")" \
    "forks $(jq -r '.runs[0].counts.forks' "$1"), errors $(jq -r '.runs[0].counts.errors' "$1")"
  record "$2-p99" "$3" "$4" "$(jq -r '.runs[0].latency.p99_us / 1000' "$1")"
}
STORM_ARGS=(--loop closed --duration "${STORM_DURATION}s" --warmup "${STORM_WARMUP}s" --no-progress)

# --- the keys; each runs in a subshell of its own, so a failed step fails its key only
jmh() { # JMH's own arguments: -rf json into $tmp/jmh.json
  java -cp "target/classes:target/test-classes:$(cat "$tmp/cp.txt")" org.openjdk.jmh.Main "$@" \
    -rf json -rff "$tmp/jmh.json" >"$tmp/jmh.log" 2>&1 || { tail -20 "$tmp/jmh.log" >&2; fail "JMH failed (log above)"; }
}
jmh_score() { # benchmark method, pidMax param or '' -> its score
  jq -r --arg b "$1" --arg p "$2" '.[] | select((.benchmark | endswith("." + $b)) and ($p == "" or .params.pidMax == $p))
    | .primaryMetric.score' "$tmp/jmh.json"
}

run_core() {
  steps_total=$RUNS
  local r m
  for ((r = 1; r <= RUNS; r++)); do
    step "run $r: PidMapBenchmark, PidMap and SeedPidmap, 1 thread, pid_max 32768 and 4194304 (one JMH run)"
    jmh 'PidMapBenchmark\.(pidMap|seedPidmap)_1thread' "${JMH_CORE[@]}"
    for m in 32768 4194304; do
      record "core-$m" "$r" figure "$(jmh_score pidMap_1thread "$m")"
      record "core-$m" "$r" peer "$(jmh_score seedPidmap_1thread "$m")"
    done
  done
}

run_batches() { # h2|pg
  steps_total=$RUNS
  local r pg=()
  for ((r = 1; r <= RUNS; r++)); do
    step "run $r: DurableAllocBenchmark.asyncBatches on $1"
    if [[ $1 == pg ]]; then
      new_db
      pg=(-jvmArgsAppend "-Dconfig.file=$PWD/conf/postgres.conf"
        -jvmArgsAppend "-Dpidspace.jdbc.url=jdbc:postgresql://127.0.0.1:5432/$db")
    fi
    jmh 'DurableAllocBenchmark\.asyncBatches' -p groupCommit=true -p spaces=1 -p reservation=16384 "${JMH_BATCHES[@]}" "${pg[@]}"
    if [[ $1 == pg ]]; then
      (($(journal_rows "$db") > 0)) || fail "the benchmark wrote nothing to $db: it did not run on PostgreSQL"
      drop_dbs
    fi
    record "$key" "$r" figure "$(jmh_score asyncBatches '')"
  done
}

run_storm() { # h2|pg
  steps_total=$((2 * RUNS))
  local r json peer_cmd rc
  for ((r = 1; r <= RUNS; r++)); do
    step "run $r: storm --url against one node on $1 ($((STORM_WARMUP + STORM_DURATION)) s)"
    [[ $1 == pg ]] && new_db
    start_node "$1" "${db:-}"
    json=$tmp/storm-url-$r.json
    rc=0
    java -jar target/pidspace.jar storm --url "$node_url" "${STORM_ARGS[@]}" --json "$json" >"$tmp/storm.log" 2>&1 || rc=$?
    ((rc == 0)) || { tail -5 "$tmp/storm.log" >&2; fail "storm --url failed (exit $rc; 1 when any fork erred)"; }
    [[ $1 == pg ]] && { (($(journal_rows "$db") > 0)) || fail "the node wrote nothing to $db"; }
    storm_figures "$json" "$key" "$r" figure
    stop_all
    drop_dbs

    step "run $r: the same storm in process, durable on $1 ($((STORM_WARMUP + STORM_DURATION)) s)"
    json=$tmp/storm-in-$r.json
    if [[ $1 == pg ]]; then
      new_db
      peer_cmd=(java -Dconfig.file=conf/postgres.conf "-Dpidspace.jdbc.url=jdbc:postgresql://127.0.0.1:5432/$db"
        -jar target/pidspace.jar storm --persistence jdbc)
    else
      peer_cmd=(java -jar target/pidspace.jar storm --persistence jdbc --data-dir "$tmp/storm-data-$r")
    fi
    rc=0
    "${peer_cmd[@]}" "${STORM_ARGS[@]}" --json "$json" >"$tmp/storm.log" 2>&1 || rc=$?
    ((rc == 0)) || { tail -5 "$tmp/storm.log" >&2; fail "the in-process storm failed (exit $rc)"; }
    [[ $1 == pg ]] && { (($(journal_rows "$db") > 0)) || fail "the in-process storm wrote nothing to $db"; }
    storm_figures "$json" "$key" "$r" peer
    drop_dbs
    rm -rf "$tmp/storm-data-$r"
  done
}

free_port() { # one nobody answers on, below the usual ephemeral range (Redis cannot pick one and say which)
  local p
  for _ in {1..50}; do
    p=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  fail "no free port found"
}

run_http() { # h2|pg: one durable node and one Redis for the key's runs, fresh spaces and keys each run
  local naive=0 r space n2xx secs errs out rps
  [[ $1 == pg && -x $PG_NAIVE_SH ]] && naive=1
  steps_total=$((1 + RUNS * (2 + naive)))
  step "a durable node on $1 and Redis (AOF everysec), both on 127.0.0.1"
  [[ $1 == pg ]] && new_db
  start_node "$1" "${db:-}"
  local redis_port
  redis_port=$(free_port)
  mkdir "$tmp/redis-$key"
  bg "$tmp/redis.log" redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$tmp/redis-$key" --save '' \
    --appendonly yes --appendfsync everysec
  rcli() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }
  for _ in {1..40}; do [[ $(rcli ping 2>/dev/null) == PONG ]] && break; sleep 0.25; done
  [[ $(rcli ping 2>/dev/null) == PONG ]] || { cat "$tmp/redis.log" >&2; fail "Redis did not start"; }
  local sha
  sha=$(rcli SCRIPT LOAD "$(cat "$PEERS_DIR/redis/alloc.lua")")
  echo 'wrk.method = "POST"' >"$tmp/post.lua"
  for ((r = 1; r <= RUNS; r++)); do
    step "run $r: wrk -t2 -c50 POST single allocs, node on $1 (${HTTP_WARMUP} s warm-up, ${HTTP_DURATION} s measured)"
    for space in $((2 * r - 1)) $((2 * r)); do # the first warms up, the second is measured
      curl -sf -o /dev/null -X POST "$node_url/v1/spaces" -d "{\"id\": $space, \"pidMax\": 4194304}" \
        --retry 20 --retry-delay 1 || fail "could not create space $space"
    done
    wrk -t2 -c50 -d"${HTTP_WARMUP}s" --timeout 10s -s "$tmp/post.lua" "$node_url/v1/spaces/$((2 * r - 1))/pids" \
      >/dev/null || fail "wrk (warm-up) failed"
    out=$tmp/wrk-$r.txt
    wrk -t2 -c50 -d"${HTTP_DURATION}s" --timeout 10s --latency -s "$tmp/post.lua" \
      "$node_url/v1/spaces/$((2 * r))/pids" >"$out" || fail "wrk failed"
    ! grep -q Non-2xx "$out" || fail "answers other than 2xx: $(grep Non-2xx "$out")"
    read -r n2xx secs < <(awk '/requests in/ {n = $1; t = ($4 ~ /m,$/ ? 60 : 1) * $4} END {print n, t}' "$out")
    errs=$(grep -h 'Socket errors' "$out" | sed 's/^ *//') || true
    record "$key" "$r" figure "$(awk -v n="$n2xx" -v t="$secs" 'BEGIN {printf "%d", n / t}')" \
      "p99 $(awk '$1 == "99%" {print $2}' "$out"); allocated $(curl -sf "$node_url/v1/spaces/$((2 * r))" |
        sed 's/.*"allocated":\([0-9]*\).*/\1/') of $n2xx 2xx${errs:+; $errs}"

    step "run $r: Redis peer, redis-benchmark -c 50 -n $REDIS_N EVALSHA (one client thread)"
    # A fresh key would answer -1 from the second call on (BITPOS past a short string's end), so
    # the bitmap starts at full length, as in bench/http-vs-redis.sh; the count below checks it.
    rcli DEL pid:bm pid:last >/dev/null
    rcli SETBIT pid:bm 4194303 0 >/dev/null
    redis-benchmark -h 127.0.0.1 -p "$redis_port" -c 50 -n "$REDIS_N" --csv EVALSHA "$sha" 2 pid:bm pid:last 300 4194304 \
      >"$tmp/rb.csv" || fail "redis-benchmark failed"
    rps=$(tail -1 "$tmp/rb.csv" | cut -d, -f2 | tr -d '"')
    local held
    held=$(rcli BITCOUNT pid:bm)
    ((held == REDIS_N)) || fail "Redis handed out $held pids for $REDIS_N calls: its figure would count refusals"
    record "$key" "$r" peer "$rps" "p99 $(tail -1 "$tmp/rb.csv" | cut -d, -f7 | tr -d '"') ms; $held pids held"

    if ((naive)); then
      step "run $r: $PG_NAIVE_SH, the naive PostgreSQL allocator"
      WARMUP=$NAIVE_WARMUP DURATION=$NAIVE_DURATION "$PG_NAIVE_SH" >"$tmp/naive.log" 2>&1 || { tail -5 "$tmp/naive.log" >&2; fail "$PG_NAIVE_SH failed"; }
      rps=$(sed -n 's/^pg-naive allocs\/s \([0-9.]*\).*/\1/p' "$tmp/naive.log" | tail -1)
      [[ -n $rps ]] || fail "$PG_NAIVE_SH printed no line 'pg-naive allocs/s N'"
      record "$key-naive" "$r" peer "$rps"
      record "$key-naive" "$r" figure "$(awk -v n="$n2xx" -v t="$secs" 'BEGIN {printf "%d", n / t}')"
    fi
  done
  [[ $1 == pg ]] && { (($(journal_rows "$db") > 0)) || fail "the node wrote nothing to $db"; }
  stop_all
  drop_dbs
}

run_cluster2() { # bench/cluster.sh (helper "cluster"): two nodes on one PostgreSQL, then one node
  [[ -x $CLUSTER_SH ]] || fail "$CLUSTER_SH is not there (or not executable)"
  steps_total=$((2 * RUNS))
  local r line
  cluster_line() { # the log: its last 'cluster nodes=N allocs/s=X p99_ms=Y' -> $allocs $p99
    line=$(grep -E '^cluster nodes=[0-9]+ allocs/s=[0-9.]+ p99_ms=[0-9.]+' "$1" | tail -1)
    [[ -n $line ]] || fail "$CLUSTER_SH printed no line 'cluster nodes=N allocs/s=X p99_ms=Y'"
    allocs=$(sed 's/.* allocs\/s=\([0-9.]*\).*/\1/' <<<"$line") p99=$(sed 's/.* p99_ms=\([0-9.]*\).*/\1/' <<<"$line")
  }
  for ((r = 1; r <= RUNS; r++)); do
    step "run $r: $CLUSTER_SH --nodes 2 --warmup $CLUSTER_WARMUP --duration $CLUSTER_S --hop"
    "$CLUSTER_SH" --nodes 2 --warmup "$CLUSTER_WARMUP" --duration "$CLUSTER_S" --hop >"$tmp/cluster.log" 2>&1 ||
      { tail -5 "$tmp/cluster.log" >&2; fail "$CLUSTER_SH --nodes 2 failed"; }
    cluster_line "$tmp/cluster.log"
    record cluster2 "$r" figure "$allocs"
    record cluster2-p99 "$r" figure "$p99"
    line=$(grep -E '^hop owner_us=[0-9.]+ other_us=[0-9.]+' "$tmp/cluster.log" | tail -1)
    [[ -n $line ]] || fail "$CLUSTER_SH --hop printed no line 'hop owner_us=A other_us=B'"
    record cluster2-hop "$r" figure "$(sed 's/.* other_us=\([0-9.]*\).*/\1/' <<<"$line")"
    record cluster2-hop "$r" peer "$(sed 's/.* owner_us=\([0-9.]*\).*/\1/' <<<"$line")"

    step "run $r: $CLUSTER_SH --nodes 1 --warmup $CLUSTER_WARMUP --duration $CLUSTER_S"
    "$CLUSTER_SH" --nodes 1 --warmup "$CLUSTER_WARMUP" --duration "$CLUSTER_S" >"$tmp/cluster.log" 2>&1 ||
      { tail -5 "$tmp/cluster.log" >&2; fail "$CLUSTER_SH --nodes 1 failed"; }
    cluster_line "$tmp/cluster.log"
    record cluster2 "$r" peer "$allocs"
    record cluster2-p99 "$r" peer "$p99"
  done
}

run_replay() {
  steps_total=$((RUNS + 1))
  step "bench/make-trace.py $TRACE_N"
  python3 bench/make-trace.py "$TRACE_N" >"$tmp/trace.txt" || fail "make-trace.py failed"
  local r t0 t1
  for ((r = 1; r <= RUNS; r++)); do
    step "run $r: replay of $TRACE_N commands"
    t0=$EPOCHREALTIME
    java -jar target/pidspace.jar replay <"$tmp/trace.txt" >"$tmp/answers.txt" 2>"$tmp/replay.log" ||
      { tail -5 "$tmp/replay.log" >&2; fail "replay failed"; }
    t1=$EPOCHREALTIME
    (($(wc -l <"$tmp/answers.txt") > 0)) || fail "replay answered nothing"
    record replay "$r" figure "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')"
  done
}

run_memory() {
  steps_total=$RUNS
  local r out
  for ((r = 1; r <= RUNS; r++)); do
    step "run $r: MemoryFootprint, 512 spaces and 1,000,000 live pids"
    out=$(java -cp "target/classes:target/test-classes:$(cat "$tmp/cp.txt")" io.pidspace.api.MemoryFootprint 2>"$tmp/memory.log") ||
      { tail -5 "$tmp/memory.log" >&2; fail "MemoryFootprint failed"; }
    out=$(grep -m1 'MiB in use' <<<"$out") || fail "MemoryFootprint printed no 'heap N MiB in use'"
    record memory "$r" figure "$(sed -n 's/.*heap \([0-9.]*\) MiB in use.*/\1/p' <<<"$out")" "$out"
  done
}

# --- the run
total=60 # the build
for k in "${keys[@]}"; do total=$((total + $(estimate "$k") * RUNS)); done
((quick)) || for k in "${keys[@]}"; do [[ $k == replay ]] && total=$((total + 5)); done
log "bench/all.sh: ${keys[*]}; $RUNS run(s) each; about $(((total + 59) / 60)) minutes; raw numbers in $results"
log "building the jar and the JMH classes (mvn -o -Pjmh package -DskipTests)"
mvn -o -q -B -Pjmh package -DskipTests >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log" >&2; exit 1; }
mvn -o -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$tmp/cp.txt" >"$tmp/build.log" 2>&1 ||
  { tail -30 "$tmp/build.log" >&2; exit 1; }
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src pom.xml conf || commit="$commit (+ changes)"

for key in "${keys[@]}"; do
  t0=$(date -u '+%F %H:%M')
  # not `( ... ) || rc=$?`: bash ignores set -e in all of a subshell that a || tests
  set +e
  (
    set -e
    trap 'set +e; stop_all; drop_dbs' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    case $key in
      core) run_core ;;
      batches) run_batches h2 ;;
      batches-pg) run_batches pg ;;
      storm-url-h2) run_storm h2 ;;
      storm-url-pg) run_storm pg ;;
      http-h2) run_http h2 ;;
      http-pg) run_http pg ;;
      cluster2) run_cluster2 ;;
      replay) run_replay ;;
      memory) run_memory ;;
    esac
  )
  rc=$?
  set -e
  ((rc == 130 || rc == 143)) && exit "$rc"
  printf '%s\t%s\t%s\n' "$key" "$t0" "$(date -u +%H:%M)" >>"$tmp/keytimes"
  if ((rc)); then
    echo "$key" >>"$tmp/failed"
    log "$key FAILED: its figures are left out of the table"
  fi
done

# --- the table: medians, ranges and ratios of the runs, per figure
python3 - "$results" "$tmp/keytimes" "$tmp/failed" "$commit" "$TRACE_N" <<'PY'
import csv, statistics, sys

results, keytimes, failed_file, commit, trace_n = sys.argv[1:6]
rows = list(csv.DictReader(open(results), delimiter="\t"))
times = {k: (a, b) for k, a, b in (l.rstrip("\n").split("\t") for l in open(keytimes))}
failed = {l.strip() for l in open(failed_file) if l.strip()}

# metric: (key, figure, unit, peer, goal text, goal test on (figure, ratio))
GOAL_RATE = 20_000
FIGURES = [
    ("core-32768", "core", "PidMap, pid_max 32,768, 1 thread (ops/s)", "SeedPidmap", "—", None),
    ("core-4194304", "core", "PidMap, pid_max 4,194,304, 1 thread (ops/s)", "SeedPidmap", "—", None),
    ("batches", "batches", "Embedded durable alloc(64) + free, 8 in flight, H2 (pids/s)", None,
     "≥ 1,000,000", ("goal", 1_000_000, "≥")),
    ("batches-pg", "batches-pg", "the same, PostgreSQL (pids/s)", None, "≥ 1,000,000", ("goal", 1_000_000, "≥")),
    ("storm-url-h2", "storm-url-h2", "storm --url, closed loop, one node on H2 (allocs/s)", "in-process storm, H2",
     "≥ 20,000", ("figure", GOAL_RATE, "≥")),
    ("storm-url-h2-p99", "storm-url-h2", "the same, fork p99 (ms)", "in-process storm, H2", "≤ 10", ("figure", 10, "≤")),
    ("storm-url-pg", "storm-url-pg", "storm --url, closed loop, one node on PostgreSQL (allocs/s)",
     "in-process storm, PostgreSQL", "≥ 20,000", ("figure", GOAL_RATE, "≥")),
    ("storm-url-pg-p99", "storm-url-pg", "the same, fork p99 (ms)", "in-process storm, PostgreSQL", "≤ 10",
     ("figure", 10, "≤")),
    ("http-h2", "http-h2", "HTTP single alloc, wrk -t2 -c50, durable node on H2 (allocs/s)", "Redis (peers/redis)",
     "ratio ≥ 1.0", ("ratio", 1.0, "≥")),
    ("http-pg", "http-pg", "HTTP single alloc, wrk -t2 -c50, node on PostgreSQL (allocs/s)", "Redis (peers/redis)",
     "ratio ≥ 1.0", ("ratio", 1.0, "≥")),
    ("http-pg-naive", "http-pg", "the same against the naive PostgreSQL allocator (allocs/s)", "bench/pg-naive.sh",
     "—", None),
    ("cluster2", "cluster2", "two nodes on one PostgreSQL, load on both (allocs/s)", "one node", "ratio ≥ 0.9",
     ("ratio", 0.9, "≥")),
    ("cluster2-p99", "cluster2", "the same, p99 (ms)", "one node", "—", None),
    ("cluster2-hop", "cluster2", "a request on a node that does not own the space (µs)", "on the owner", "—", None),
    ("replay", "replay", f"replay of {int(trace_n):,} commands (s)", None, "—", None),
    ("memory", "memory", "heap of 512 spaces and 1,000,000 live pids (MiB)", None, "< 64", ("goal", 64, "<")),
]

def fmt(x):
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) >= 1 else f"{x:.3f}"

def meets(value, limit, op):
    return {"≥": value >= limit, "≤": value <= limit, "<": value < limit}[op]

print("| figure | command key | median | min–max | peer (median) | ratio (median of the runs') | goal | date (UTC) | commit | load avg (min–max) |")
print("|---|---|---:|---:|---:|---:|---|---|---|---|")
keys_run = list(times)
for metric, key, label, peer_label, goal, test in FIGURES:
    if key not in keys_run:
        continue
    start, end = times[key]
    date = start if start.endswith(end) else f"{start}–{end}"
    if key in failed:
        print(f"| {label} | `{key}` | FAILED | | | | {goal} | {date} | {commit} | |")
        continue
    mine = [r for r in rows if r["metric"] == metric]
    if not mine and metric == "http-pg-naive":  # bench/pg-naive.sh is not there: the column says so
        mine = [r for r in rows if r["metric"] == "http-pg" and r["side"] == "figure"]
        peer_label = None
    if not mine:
        continue
    runs = sorted({int(r["run"]) for r in mine})
    fig = {int(r["run"]): float(r["value"]) for r in mine if r["side"] == "figure"}
    peer = {int(r["run"]): float(r["value"]) for r in mine if r["side"] == "peer"}
    loads = [float(r[c]) for r in rows if r["key"] == key for c in ("load_before", "load_after")]
    vals = [fig[r] for r in runs if r in fig]
    med = statistics.median(vals)
    peer_cell, ratio_cell, ratios = "—", "—", []
    if peer:
        ratios = [fig[r] / peer[r] for r in runs if r in fig and r in peer and peer[r]]
        peer_cell = f"{fmt(statistics.median(peer.values()))} ({peer_label})"
        ratio_cell = f"{statistics.median(ratios):.2f}" if ratios else "—"
    elif metric == "http-pg-naive":
        peer_cell = "— (no bench/pg-naive.sh)"
    elif test and test[0] == "goal":
        ratio_cell = f"{med / test[1]:.2f} of the goal"
    if test:
        what, limit, op = test
        checked = ratios if what == "ratio" else vals
        hits = sum(meets(v, limit, op) for v in checked)
        goal = f"{goal}: met in {hits} of {len(checked)}"
    print(f"| {label} | `{key}` | {fmt(med)} | {fmt(min(vals))}–{fmt(max(vals))} | {peer_cell} | {ratio_cell} | {goal} "
          f"| {date} | {commit} | {min(loads):.2f}–{max(loads):.2f} |")
PY
echo
echo "$RUNS run(s) of each, $(nproc) cores, $(java -version 2>&1 | head -1), $(redis-server --version | cut -d' ' -f1-3);" \
  "raw numbers: $results; $SECONDS s in all"
if [[ -s $tmp/failed ]]; then
  echo "bench/all.sh: failed: $(paste -sd' ' "$tmp/failed")" >&2
  exit 1
fi
