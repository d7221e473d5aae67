#!/usr/bin/env bash
# Soak: does the journal level off? One durable node on a fresh journal, the storm's closed loop
# over HTTP in one-minute segments, and after each minute one row: the journal's size, the
# node's heap after a GC and the pids it counts allocated that nobody holds. A verdict at the end.
#
#   bench/soak.sh --journal postgres --minutes 30 --restart-every 10
#   bench/soak.sh --journal both --minutes 3 -- --containers 8 --forkers 2
#
# docs/benchmarks.md ("Soak: does the journal level off?") says how to read it. Exits 0 only when
# every journal soaked levelled off and no pid leaked; 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<'EOF'
Usage: bench/soak.sh [--journal postgres|h2|both] [--minutes N] [--restart-every M] [--keep]
                     [-- STORM OPTIONS...]
Runs one pidspace node on a fresh journal and `pidspace storm --url ... --loop closed` against it
in one-minute segments; prints a row a minute and a verdict per journal.
  --journal J         postgres (a database of its own, dropped at the end), h2 (a fresh data
                      directory) or both, one after the other (default: postgres)
  --minutes N         segments of one minute per journal, at least 2 (default: 30)
  --restart-every M   stop the node with SIGTERM after every M-th minute and start it again on
                      the same journal (default: 0, never)
  --keep              keep the node logs and the storm's JSON (the directory is printed)
  -- STORM OPTIONS    passed to every segment's storm, e.g. --containers 8 --pid-max 65536;
                      --loop and --seed may be given (default: closed, the minute's number)
Environment: SOAK_DB (default pidspace_soak), the database created and dropped as user postgres.
EOF
}
bad() { echo "bench/soak.sh: $1" >&2; echo "Try 'bench/soak.sh --help'." >&2; exit 2; }

journals=postgres minutes=30 restart_every=0 keep=0 storm_args=()
while (($#)); do
  case $1 in
    --journal) journals=${2:-}; shift 2 || bad "--journal needs a value" ;;
    --journal=*) journals=${1#*=}; shift ;;
    --minutes) minutes=${2:-}; shift 2 || bad "--minutes needs a value" ;;
    --minutes=*) minutes=${1#*=}; shift ;;
    --restart-every) restart_every=${2:-}; shift 2 || bad "--restart-every needs a value" ;;
    --restart-every=*) restart_every=${1#*=}; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; storm_args=("$@"); break ;;
    *) bad "unknown option '$1' (storm options go after --)" ;;
  esac
done
case $journals in
  postgres | h2) ;;
  both) journals="postgres h2" ;;
  *) bad "--journal is postgres, h2 or both, not '$journals'" ;;
esac
[[ $minutes =~ ^[0-9]+$ ]] && ((minutes >= 2)) || bad "--minutes must be a whole number of at least 2 (the verdict compares halves)"
[[ $restart_every =~ ^[0-9]+$ ]] || bad "--restart-every must be a whole number of minutes"
storm_loop=(--loop closed) storm_seed=1
for a in "${storm_args[@]}"; do
  case ${a%%=*} in
    --url | --json | --duration | --warmup | --clock | --persistence | --data-dir | --compare | --report)
      bad "the soak sets ${a%%=*} itself; it may not be passed to the storm" ;;
    --loop) storm_loop=() ;;
    --seed) storm_seed=0 ;;
  esac
done
db=${SOAK_DB:-pidspace_soak}
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || bad "SOAK_DB must be a plain lower-case identifier, not '$db'"
command -v jq >/dev/null || bad "needs jq (apt-get install jq)"
command -v jcmd >/dev/null || bad "needs jcmd (the JDK's, not only a JRE)"
[[ -f target/pidspace.jar ]] || mvn -B -ntp -q -DskipTests package

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pidspace-soak.XXXXXX")
node_pid='' storm_pid='' db_made=0
log() { echo "$(date +%H:%M:%S) $*" >&2; }

# --- PostgreSQL: the database is made and dropped as user postgres; the node and the counts use
# the pidspace role that conf/postgres.conf names.
pg_admin() { # SQL on stdin, against the postgres database
  if (($(id -u) == 0)); then
    (cd / && su postgres -c 'PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d postgres')
  else
    PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres
  fi
}
pg_query() { PGPASSWORD=pidspace PGCONNECT_TIMEOUT=10 psql -X -A -t -h 127.0.0.1 -U pidspace -d "$db" -c "$1"; }

stop_pid() { # pid, seconds: SIGTERM, then KILL if it has not ended by then; returns its exit status
  local rc=0 i
  kill -TERM "$1" 2>/dev/null || true
  for ((i = 0; i < $2 * 4; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || rc=$?
  return "$rc"
}
stop_node() { # SIGTERM: the node leaves its cluster and drains its requests (143 when it did)
  local pid=$node_pid
  [[ -n $pid ]] || return 0
  node_pid=''
  stop_pid "$pid" 60
}
cleanup() {
  set +e # everything here is best effort: one step failing must not skip the next
  [[ -n $storm_pid ]] && stop_pid "$storm_pid" 20
  storm_pid=''
  stop_node
  if ((db_made)); then
    echo "DROP DATABASE IF EXISTS $db;" | pg_admin >/dev/null 2>&1 || log "could not drop database $db"
    db_made=0
  fi
  if ((keep)); then log "logs and the storm's JSON kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { # one nobody answers on, below the usual ephemeral range (32768-60999)
  local p
  for _ in {1..50}; do
    p=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port found" >&2; return 1
}

# --- the node: the same ports and journal across restarts
start_node() { # journal, log file
  local journal=$1
  if [[ $journal == postgres ]]; then
    PIDSPACE_JDBC_URL="jdbc:postgresql://127.0.0.1:5432/$db?connectTimeout=10" \
      java -jar target/pidspace.jar node --config conf/postgres.conf --host 127.0.0.1 --port 0 \
      --http-port "$http_port" --management-port "$mgmt_port" >"$2" 2>&1 &
  else
    java -jar target/pidspace.jar node --host 127.0.0.1 --port 0 --data-dir "$tmp/h2" \
      --http-port "$http_port" --management-port "$mgmt_port" >"$2" 2>&1 &
  fi
  node_pid=$!
  local ready=0
  for _ in {1..240}; do # 120 s: ready on the management port, then the registry answers the API
    kill -0 "$node_pid" 2>/dev/null || { cat "$2" >&2; log "the node exited while starting"; return 1; }
    if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$mgmt_port/ready" &&
      curl -sf -o /dev/null --max-time 5 "$api/v1/spaces"; then
      ready=1; break
    fi
    sleep 0.5
  done
  ((ready)) || { log "the node was not ready in 120 s (log: $2)"; return 1; }
}

# --- what a row reads
journal_size() { # sets rows, snaps, bytes
  if [[ $1 == postgres ]]; then
    IFS='|' read -r rows snaps bytes < <(pg_query "SELECT (SELECT count(*) FROM event_journal),
      (SELECT count(*) FROM snapshot),
      pg_total_relation_size('event_journal') + pg_total_relation_size('snapshot')")
  else # the node holds the file open: bench/H2Rows.java reads it read-only, past the lock
    rows=- snaps=-
    read -r rows snaps < <(timeout 60 java -cp "target/pidspace.jar:$tmp/classes" H2Rows "$tmp/h2/pidspace" \
      2>>"$tmp/h2rows.log") || true
    [[ $rows =~ ^[0-9]+$ && $snaps =~ ^[0-9]+$ ]] || rows=- snaps=-
    bytes=$(find "$tmp/h2" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')
  fi
}
heap_mib() { # used after a full GC; the node's /metrics has no JVM gauges
  timeout 60 jcmd "$node_pid" GC.run >/dev/null 2>&1 || { echo -; return; }
  timeout 30 jcmd "$node_pid" GC.heap_info 2>/dev/null |
    awk '/ heap .*used/ {for (i = 1; i < NF; i++) if ($i == "used") {sub(/K,?$/, "", $(i + 1)); printf "%.1f", $(i + 1) / 1024; exit}}'
}
listing() { curl -sf --max-time 30 "$api/v1/spaces"; }
# the pids a listing counts allocated in the spaces given (a JSON array of ids)
allocated_in() { jq -r --argjson ids "$2" '[.spaces[] | select(.id as $i | $ids | index($i) != null) | .allocated // 0] | add // 0' <<<"$1"; }

# The soak's own long-lived space: a container that stays, as a platform's do. Each minute it
# takes a few pids and gives them back, so it holds a reservation when the node stops; a pid it
# is counted holding after that is a leak (the storm's spaces are destroyed, leaks and all).
probe() {
  local pids freed
  pids=$(curl -sf --max-time 15 -X POST "$api/v1/spaces/$probe_space/pids?count=8" | jq -c '.pids') || return 1
  freed=$(curl -sf --max-time 15 -X POST "$api/v1/pids:free" -d "{\"pids\": $pids}" | jq '.freed | length') || return 1
  [[ $freed == 8 ]]
}

soak() { # journal; prints the rows and the verdict, returns 1 when not levelled off or leaked
  local journal=$1 minute rc=0 node_runs=1
  http_port=$(free_port) mgmt_port=$(free_port)
  api="http://127.0.0.1:$http_port"
  if [[ $journal == postgres ]]; then
    printf 'DROP DATABASE IF EXISTS %s;\nCREATE DATABASE %s OWNER pidspace;\n' "$db" "$db" | pg_admin ||
      { log "could not create database $db (is another soak using it? SOAK_DB names another)"; return 1; }
    db_made=1
  else
    rm -rf "$tmp/h2"; mkdir "$tmp/h2"
    [[ -f $tmp/classes/H2Rows.class ]] || javac -nowarn -cp target/pidspace.jar -d "$tmp/classes" bench/H2Rows.java ||
      { log "could not compile bench/H2Rows.java"; return 1; }
  fi
  log "$journal: starting the node (API $api, management port $mgmt_port)"
  start_node "$journal" "$tmp/node-$journal-1.log" || return 1
  local before base_ids base_alloc
  before=$(listing) || { log "GET /v1/spaces failed"; return 1; }
  base_ids=$(jq -c '[.spaces[].id]' <<<"$before")
  base_alloc=$(allocated_in "$before" "$base_ids")
  probe_space=$(curl -sf --max-time 15 -X POST "$api/v1/spaces" -d '{}' --retry 5 --retry-delay 1 | jq -e '.id') ||
    { log "could not create the probe space"; return 1; }
  local own_ids
  own_ids=$(jq -c --argjson p "$probe_space" '. + [$p]' <<<"$base_ids")

  local -a r b # journal rows and bytes after each minute, [0] before the first
  journal_size "$journal"
  r[0]=$rows b[0]=$bytes
  echo
  echo "soak on $journal: $minutes one-minute storm segments, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "storm each minute: --url $api ${storm_loop[*]} --duration 60s --warmup 0s ${storm_args[*]}"
  printf '%6s %8s %10s %8s %5s %12s %11s %5s %8s %6s  %s\n' minute allocs/s rows +rows snaps bytes +bytes B/row \
    heap-MiB leaked note
  row() { # minute, allocs/s, leaked, note; what the journal added since the row before
    local m=$1 per=- added_rows=- added_bytes=-
    # on H2 the file also holds what its retention keeps (45 s of commits): bytes per row says nothing
    [[ $journal == postgres && $rows != - ]] && ((rows > 0)) && per=$((bytes / rows))
    if ((m > 0)); then
      [[ ${r[m]} != - && ${r[m - 1]} != - ]] && added_rows=$((r[m] - r[m - 1]))
      added_bytes=$((b[m] - b[m - 1]))
    fi
    printf '%6s %8s %10s %8s %5s %12s %11s %5s %8s %6s  %s\n' "$m" "$2" "$rows" "$added_rows" "$snaps" "$bytes" \
      "$added_bytes" "$per" "$(heap_mib)" "$3" "$4"
  }
  row 0 - 0 "before the storm; load $(cut -d' ' -f1 /proc/loadavg)"
  local leaked=0 worst=0 failed=0
  for ((minute = 1; minute <= minutes; minute++)); do
    local json="$tmp/storm-$journal-$minute.json" note='' rate=- seed=()
    ((storm_seed)) && seed=(--seed "$minute")
    java -jar target/pidspace.jar storm --url "$api" "${storm_loop[@]}" --duration 60s --warmup 0s \
      --no-progress --json "$json" "${seed[@]}" "${storm_args[@]}" >"$tmp/storm-$journal-$minute.log" 2>&1 &
    storm_pid=$!
    local src=0 i
    # the storm ends 60 s after it starts, plus its JVM's start and the containers' teardown
    for ((i = 0; i < 600; i++)); do kill -0 "$storm_pid" 2>/dev/null || break; sleep 0.5; done
    if ((i < 600)); then wait "$storm_pid" || src=$?
    else stop_pid "$storm_pid" 20 || src=$?; note+="storm stopped after 300 s; "; fi
    storm_pid=''
    if [[ -s $json ]]; then
      rate=$(jq -r '.runs[0].counts.allocs_per_second | floor' "$json")
      local errors left
      errors=$(jq -r '.runs[0].counts.errors' "$json")
      left=$(jq -r '.runs[0].counts | .containers_created - .containers_destroyed' "$json")
      ((errors)) && note+="storm errors $errors: $(jq -r '.runs[0].counts.first_error // ""' "$json" | cut -c1-80); "
      ((left)) && note+="storm left $left spaces undestroyed; "
    else
      note+="storm failed (rc $src): $(tail -1 "$tmp/storm-$journal-$minute.log" | cut -c1-100); "
    fi
    [[ -n $note ]] && failed=$((failed + 1))
    if ! kill -0 "$node_pid" 2>/dev/null; then
      journal_size "$journal"
      r[minute]=$rows b[minute]=$bytes
      row "$minute" "$rate" - "${note}the node died: $(tail -1 "$tmp/node-$journal-$node_runs.log" | cut -c1-100)"
      return 1
    fi
    probe || note+="the probe space's alloc or free failed; "
    local now others
    now=$(listing) || { note+="GET /v1/spaces failed; "; now='{"spaces": []}'; }
    # spaces the storm did not destroy are its own, not the node's leak: say so, destroy them
    others=$(jq -r --argjson ids "$own_ids" '[.spaces[] | select(.id as $i | $ids | index($i) == null)]' <<<"$now")
    if [[ $others != '[]' ]]; then
      note+="$(jq -r 'length' <<<"$others") storm spaces left holding $(jq -r '[.[].allocated // 0] | add' <<<"$others") pids, destroyed; "
      for id in $(jq -r '.[].id' <<<"$others" | head -100); do
        curl -sf -o /dev/null --max-time 15 -X DELETE "$api/v1/spaces/$id" || true
      done
    fi
    local unanswered
    unanswered=$(jq -r '[.spaces[] | select(.error)] | length' <<<"$now")
    ((unanswered)) && note+="$unanswered spaces did not answer the listing; "
    leaked=$(($(allocated_in "$now" "$own_ids") - base_alloc))
    ((leaked > worst)) && worst=$leaked
    journal_size "$journal"
    r[minute]=$rows b[minute]=$bytes
    if ((restart_every && minute % restart_every == 0 && minute < minutes)); then
      note+="node restarted after this row"
      row "$minute" "$rate" "$leaked" "${note%; }"
      local stop_rc=0 t0=$SECONDS
      stop_node || stop_rc=$?
      log "$journal: node stopped with SIGTERM after minute $minute: exit $stop_rc in $((SECONDS - t0)) s"
      node_runs=$((node_runs + 1))
      start_node "$journal" "$tmp/node-$journal-$node_runs.log" || return 1
    else
      row "$minute" "$rate" "$leaked" "${note%; }"
    fi
  done

  # --- verdict: what the journal added in the last half of the minutes against the first half.
  # PostgreSQL: rows. H2: rows and the file's bytes, both (the file alone levels off at what H2's
  # retention keeps within two minutes, while the rows in it still grow).
  local half=$((minutes / 2)) verdict="levelled off" growth=() unit v
  for unit in rows "file bytes"; do
    [[ $journal == postgres && $unit == "file bytes" ]] && continue
    if [[ $unit == rows ]]; then v=("${r[0]}" "${r[half]}" "${r[minutes - half]}" "${r[minutes]}")
    else v=("${b[0]}" "${b[half]}" "${b[minutes - half]}" "${b[minutes]}"); fi
    if [[ " ${v[*]} " == *" - "* ]]; then
      growth+=("$unit unread"); verdict="unknown"; continue
    fi
    local first=$((v[1] - v[0])) second=$((v[3] - v[2])) share=-
    ((first > 0)) && share=$(awk -v a="$second" -v b="$first" 'BEGIN {printf "%.0f %%", 100 * a / b}')
    ((4 * second <= first)) || verdict="still growing"
    growth+=("$unit +$first in minutes 1-$half, +$second in minutes $((minutes - half + 1))-$minutes ($share)")
  done
  [[ $verdict == "levelled off" ]] || rc=1
  ((worst > 0 || failed > 0)) && rc=1
  local joined
  printf -v joined '%s; ' "${growth[@]}"
  echo "verdict $journal: $verdict (${joined%; }; levelled off is at most 25 %); leaked $leaked pids at the end," \
    "$worst at most; $((node_runs - 1)) restarts; $failed minutes with storm errors"
  local warns
  warns=$(cat "$tmp"/node-"$journal"-*.log | grep -cE ' (ERROR|WARN) ' || true)
  echo "node logs: $warns ERROR or WARN lines"
  cat "$tmp"/node-"$journal"-*.log | grep -E ' (ERROR|WARN) ' | head -5 | cut -c1-240 || true
  stop_node || true
  if [[ $journal == postgres ]]; then
    echo "DROP DATABASE IF EXISTS $db;" | pg_admin
    db_made=0
  fi
  return "$rc"
}

status=0
for j in $journals; do
  soak "$j" || status=1
done
exit "$status"
