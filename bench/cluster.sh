#!/usr/bin/env bash
# Several nodes of one cluster on one PostgreSQL: does a second node add throughput, and what does
# a request cost that lands on a node that does not host its space? A fresh database, N nodes on
# it (127.0.0.1 only), the storm's closed loop over HTTP with load sent to every node.
#
#   bench/cluster.sh --nodes 2 --duration 60 --hop      # about 3 minutes
#   bench/cluster.sh --nodes 1 --duration 10 --warmup 5 -- --containers 8
#
# docs/benchmarks.md ("Several nodes on one PostgreSQL") says how to read it. stdout, for
# bench/all.sh; the last line always:
#   hop owner_us=A other_us=B                   (--hop: mean latency of a single alloc, wrk -t1 -c8)
#   hop_rate owner_req/s=R1 other_req/s=R2      (--hop: the two request rates)
#   hop_p50 owner_us=C other_us=D               (--hop: the median latencies, less moved by stalls)
#   cluster nodes=N allocs/s=X p99_ms=Y         (the storm, all nodes together)
# Progress, the storm's summary and wrk's output go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: bench/cluster.sh --nodes N --duration S [--warmup S] [--hop] [--keep] [-- STORM OPTIONS...]
Starts N pidspace nodes (1-3) of one cluster on a fresh PostgreSQL database and runs
`pidspace storm --url ... --loop closed` against all of them; prints the total allocs/s and p99.
  --nodes N        nodes in the cluster, 1 to 3
  --duration S     seconds of the storm that are measured
  --warmup S       seconds of storm before that, not counted (default: 30)
  --hop            then, on 2 or more nodes: single allocs (wrk -t1 -c8 -d15s) on one space
                   through the node that hosts it and through another node
  --keep           keep the logs (the directory is printed)
  -- STORM OPTIONS passed to the storm, e.g. --containers 8 --forkers 2
Environment: CLUSTER_DB (default pidspace_cluster_PID), the database created and dropped as user
postgres; PIDSPACE_JDBC_USER and PIDSPACE_JDBC_PASSWORD as conf/postgres.conf reads them.
EOF
}
bad() { echo "bench/cluster.sh: $1" >&2; echo "Try 'bench/cluster.sh --help'." >&2; exit 2; }

nodes='' duration='' warmup=30 hop=0 keep=0 storm_args=()
while (($#)); do
  case $1 in
    --nodes) nodes=${2:-}; shift 2 || bad "--nodes needs a value" ;;
    --nodes=*) nodes=${1#*=}; shift ;;
    --duration) duration=${2:-}; shift 2 || bad "--duration needs a value" ;;
    --duration=*) duration=${1#*=}; shift ;;
    --warmup) warmup=${2:-}; shift 2 || bad "--warmup needs a value" ;;
    --warmup=*) warmup=${1#*=}; shift ;;
    --hop) hop=1; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; storm_args=("$@"); break ;;
    *) bad "unknown option '$1' (storm options go after --)" ;;
  esac
done
[[ $nodes =~ ^[123]$ ]] || bad "--nodes must be 1, 2 or 3"
[[ $duration =~ ^[0-9]+$ ]] && ((duration > 0)) || bad "--duration must be a whole number of seconds above 0"
[[ $warmup =~ ^[0-9]+$ ]] || bad "--warmup must be a whole number of seconds"
((hop == 0 || nodes >= 2)) || bad "--hop needs at least 2 nodes: with one, every request lands on its space's node"
for a in "${storm_args[@]}"; do
  case ${a%%=*} in
    --url | --json | --duration | --warmup | --loop | --clock | --persistence | --data-dir | --compare | --report | --no-progress)
      bad "the script sets ${a%%=*} itself; it may not be passed to the storm" ;;
  esac
done
db=${CLUSTER_DB:-pidspace_cluster_$$}
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || bad "CLUSTER_DB must be a plain lower-case identifier, not '$db'"
command -v jq >/dev/null || bad "needs jq"
((hop == 0)) || command -v wrk >/dev/null || bad "--hop needs wrk"
[[ -f target/pidspace.jar ]] || mvn -B -q -o package -DskipTests

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pidspace-cluster.XXXXXX")
node_pids=() client_pid='' db_made=0
log() { echo "$(date +%H:%M:%S) $*" >&2; }
pg_admin() { # a command line run as user postgres, from a directory it may read, without PGUSER & co.
  local clean=(env -u PGHOST -u PGPORT -u PGUSER -u PGPASSWORD -u PGDATABASE)
  if (($(id -u) == 0)); then (cd / && "${clean[@]}" su postgres -c "$1"); else "${clean[@]}" bash -c "$1"; fi
}
stop_pids() { # SIGTERM to all at once (a node leaves its cluster and drains), KILL after 60 s
  local p i
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for ((i = 0; i < 240; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
cleanup() {
  set +e # best effort: one step failing must not skip the next
  [[ -n $client_pid ]] && stop_pids "$client_pid"
  ((${#node_pids[@]})) && stop_pids "${node_pids[@]}"
  ((db_made)) && { pg_admin "dropdb --if-exists $db" || log "could not drop database $db"; }
  if ((keep)); then log "logs kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A client runs in the background and is waited for: in the foreground wrk takes Ctrl-C as its
# own and exits 0, and the script would go on. Its pid is forgotten once it ends.
client() {
  local rc=0
  "$@" & client_pid=$!
  wait "$client_pid" || rc=$?
  client_pid=''
  return "$rc"
}

given=' '
free_port() { # one nobody answers on, below the usual ephemeral range (32768-60999), not given yet
  local p
  for _ in {1..100}; do
    p=$((20000 + RANDOM % 12000))
    [[ $given == *" $p "* ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    given+="$p "; echo "$p"; return
  done
  echo "no free port found" >&2; return 1
}

# --- the database and the nodes
pg_admin "createdb -O pidspace $db"
db_made=1
artery=() http=() mgmt=() seeds=()
for ((i = 0; i < nodes; i++)); do
  artery[i]=$(free_port) http[i]=$(free_port) mgmt[i]=$(free_port)
  seeds+=(--seed "127.0.0.1:${artery[i]}") # the same list on every node: the first forms the cluster
done
start_node() { # index
  local i=$1
  PIDSPACE_JDBC_URL="jdbc:postgresql://127.0.0.1:5432/$db?connectTimeout=10" \
    java -jar target/pidspace.jar node --config conf/postgres.conf --host 127.0.0.1 --port "${artery[i]}" \
    --http-port "${http[i]}" --management-port "${mgmt[i]}" "${seeds[@]}" >"$tmp/node-$i.log" 2>&1 &
  node_pids[i]=$!
}
members_up() { # as node $1 sees them
  curl -sf --max-time 5 "http://127.0.0.1:${mgmt[$1]}/cluster/members" |
    jq '[.members[] | select(.status == "Up")] | length' 2>/dev/null || echo 0
}
await_ready() { # index: Up with every member, /ready (the registry answers through the journal), the API
  local i=$1 t
  for ((t = 0; t < 480; t++)); do # 120 s
    kill -0 "${node_pids[i]}" 2>/dev/null || { tail -20 "$tmp/node-$i.log" >&2; log "node $i exited while starting"; return 1; }
    if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:${mgmt[i]}/ready" &&
      (($(members_up "$i") == nodes)) && curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:${http[i]}/v1/spaces"; then
      return 0
    fi
    sleep 0.25
  done
  log "node $i was not ready in 120 s (log: $tmp/node-$i.log)"; return 1
}
# The first node alone first: it forms the cluster and stores the journal's identity; then the rest.
log "database $db; node 0 (API http://127.0.0.1:${http[0]})"
start_node 0
for ((i = 1; i < nodes; i++)); do log "node $i (API http://127.0.0.1:${http[i]})"; start_node "$i"; done
for ((i = 0; i < nodes; i++)); do await_ready "$i"; done
log "$nodes node(s) Up and ready; load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- the storm, load on every node (round robin)
urls=()
for ((i = 0; i < nodes; i++)); do urls+=(--url "http://127.0.0.1:${http[i]}"); done
allocated() { # pids node $1's API handed out
  curl -sf --max-time 10 "http://127.0.0.1:${mgmt[$1]}/metrics" | awk '/^pidspace_pids_allocated_total/ {printf "%d", $2}'
}
load_before=$(cut -d' ' -f1 /proc/loadavg)
log "storm: ${warmup}s of warm-up, ${duration}s measured ${storm_args[*]}"
client java -jar target/pidspace.jar storm "${urls[@]}" --loop closed --duration "${duration}s" --warmup "${warmup}s" \
  --no-progress --json "$tmp/storm.json" "${storm_args[@]}" >"$tmp/storm.txt" 2>&1 ||
  { cat "$tmp/storm.txt" >&2; log "the storm failed"; exit 1; }
load_after=$(cut -d' ' -f1 /proc/loadavg)
cat "$tmp/storm.txt" >&2
rate=$(jq -r '.runs[0].counts.allocs_per_second | floor' "$tmp/storm.json")
p99=$(jq -r '.runs[0].latency.p99_us / 1000 | . * 100 | round / 100' "$tmp/storm.json")
errors=$(jq -r '.runs[0].counts.errors' "$tmp/storm.json")
((errors == 0)) || log "WARNING: the storm counted $errors errors: $(jq -r '.runs[0].counts.first_error // ""' "$tmp/storm.json")"
for ((i = 0; i < nodes; i++)); do log "node $i's API handed out $(allocated "$i") pids (warm-up included)"; done

# --- one hop: the same single allocs on one space through its node and through another
hop_lines=()
if ((hop)); then
  space=$(curl -sf --max-time 15 -X POST "http://127.0.0.1:${http[0]}/v1/spaces" -d '{"pidMax": 4194304}' \
    --retry 5 --retry-delay 1 | jq -e '.id')
  curl -sf -o /dev/null --max-time 15 -X POST "http://127.0.0.1:${http[0]}/v1/spaces/$space/pids?count=1" # starts it
  # Which node hosts it: the one whose shard region (Akka Management, /cluster/shards) holds its
  # shard, sharding's default placement: |String.hashCode(id) % number-of-shards| (100, pidspace-node.conf).
  shard=$(awk -v s="$space" 'BEGIN {h = 0; for (i = 1; i <= length(s); i++) h = (h * 31 + substr(s, i, 1) + 48) % 4294967296
    if (h >= 2147483648) h -= 4294967296; r = h % 100; print (r < 0 ? -r : r)}')
  owner='' holders=0
  for ((i = 0; i < nodes; i++)); do
    if curl -sf --max-time 10 "http://127.0.0.1:${mgmt[i]}/cluster/shards/PidSpace" |
      jq -e --arg s "$shard" 'any(.regions[]; .shardId == $s)' >/dev/null; then
      owner=$i holders=$((holders + 1))
    fi
  done
  ((holders == 1)) || { log "space $space's shard $shard is on $holders nodes, not 1"; exit 1; }
  other=$(((owner + 1) % nodes))
  log "hop: space $space (shard $shard) lives on node $owner; the other node: $other"
  echo 'wrk.method = "POST"' >"$tmp/post.lua"
  hop_wrk() { # node, seconds, output file
    client wrk -t1 -c8 -d"$2s" --latency -s "$tmp/post.lua" "http://127.0.0.1:${http[$1]}/v1/spaces/$space/pids?count=1" >"$3"
  }
  hop_wrk "$owner" 5 "$tmp/warm-owner.txt" # the JIT settles on both paths; not counted
  hop_wrk "$other" 5 "$tmp/warm-other.txt"
  hop_wrk "$owner" 15 "$tmp/wrk-owner.txt"
  hop_wrk "$other" 15 "$tmp/wrk-other.txt"
  for f in owner other; do echo "wrk through the $f node:" >&2; cat "$tmp/wrk-$f.txt" >&2; done
  mean_us() { # wrk's mean latency in microseconds
    awk '$1 == "Latency" && !done {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
      printf "%d", v * (u == "s" ? 1e6 : u == "ms" ? 1e3 : 1); done = 1}' "$1"
  }
  p50_us() { awk '$1 == "50%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    printf "%d", v * (u == "s" ? 1e6 : u == "ms" ? 1e3 : 1)}' "$1"; }
  rps() { awk '/^Requests\/sec:/ {printf "%d", $2}' "$1"; }
  non2xx=$(cat "$tmp/wrk-owner.txt" "$tmp/wrk-other.txt" | awk '/Non-2xx/ {n += $NF} END {print n + 0}')
  ((non2xx == 0)) || log "WARNING: $non2xx answers that were not 2xx (wrk counts them in its rate)"
  hop_lines+=("hop owner_us=$(mean_us "$tmp/wrk-owner.txt") other_us=$(mean_us "$tmp/wrk-other.txt")")
  hop_lines+=("hop_rate owner_req/s=$(rps "$tmp/wrk-owner.txt") other_req/s=$(rps "$tmp/wrk-other.txt")")
  hop_lines+=("hop_p50 owner_us=$(p50_us "$tmp/wrk-owner.txt") other_us=$(p50_us "$tmp/wrk-other.txt")")
fi

warns=$(cat "$tmp"/node-*.log | grep -cE ' (ERROR|WARN) ' || true)
log "node logs: $warns ERROR or WARN lines"
cat "$tmp"/node-*.log | grep -E ' (ERROR|WARN) ' | head -5 | cut -c1-240 >&2 || true
echo "cluster: $nodes node(s) on PostgreSQL, storm ${duration}s after ${warmup}s ${storm_args[*]}; $(nproc) cores," \
  "load $load_before -> $load_after; commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(date -u +%FT%TZ)"
if ((${#hop_lines[@]})); then printf '%s\n' "${hop_lines[@]}"; fi
echo "cluster nodes=$nodes allocs/s=$rate p99_ms=$p99"
