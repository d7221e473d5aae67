#!/usr/bin/env bash
# The HTTP service path of a durable pidspace node against what a platform team would hand-roll:
# Redis 7, a Lua next-fit allocator, AOF everysec. Same machine, same run; prints the ratios.
#
#   bench/http-vs-redis.sh            # about 3 minutes; docs/benchmarks.md has runs and how to read them
#   WARMUP=20 DURATION=30 CONNECTIONS=50 THREADS=2 bench/http-vs-redis.sh
#
# Each side gets the same load: CONNECTIONS keep-alive clients, each waiting for its answer (its 16
# answers when pipelined) before asking again, from THREADS client threads on the same cores.
set -euo pipefail
cd "$(dirname "$0")/.."

WARMUP=${WARMUP:-20} DURATION=${DURATION:-30} CONNECTIONS=${CONNECTIONS:-50} THREADS=${THREADS:-2}
PID_MAX=4194304 # PID_MAX_LIMIT: each measured run gets spaces of its own, so none fills up
# A 16-pid request filled a whole space in under 30 s here (4,194,303 pids, then 300,000 cheap
# 409s that flattered requests/s), and the Netty server fills one in about 5 s, so ?count=16
# moves to a fresh space every 3 s (only 2xx answers count in any case).
mapfile -t X16_SPACES < <(seq 3 $((2 + (DURATION >= 6 ? DURATION / 3 : 1))))
X16_WARMUP_SPACE=$((3 + ${#X16_SPACES[@]}))
REDIS_CAP=4000000 # a Redis run stops short of pid_max: a full bitmap makes every alloc scan it all

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || missing+=(redis-server redis-tools)
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[[ -f target/pidspace.jar ]] || mvn -B -q -o package -DskipTests

tmp=$(mktemp -d)
node_pid='' redis_pid='' client_pid='' bare_pid=''
stop() { # TERM lets the node leave its cluster and Redis flush its AOF; KILL only if that hangs
  for p in $client_pid $bare_pid $node_pid $redis_pid; do kill "$p" 2>/dev/null || true; done
  for p in $client_pid $bare_pid $node_pid $redis_pid; do
    for _ in {1..40}; do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 130' INT TERM
# A load generator runs in the background: in the foreground wrk catches Ctrl-C and exits 0, bash
# then takes the signal as handled and goes on to the next phase; here `wait` returns at once.
# Its pid is forgotten once it ends, so stop() never signals a process that reused the number.
client() {
  local rc=0
  "$@" & client_pid=$!
  wait "$client_pid" || rc=$?
  client_pid=''
  return "$rc"
}

loads=()
load() { loads+=("$1 $(cut -d' ' -f1 /proc/loadavg)"); }
# What a server's process spends per pid it hands out: CPU (user + system) and context switches of
# all its threads, read from /proc around a measured run. Steadier than a rate on shared cores.
costs=()
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() { cat "/proc/$1"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s}'; }
cost_start() { cost_pid=$1 cost_cpu=$(cpu_ticks "$1") cost_cs=$(switches "$1"); }
cost_end() { # label, pids handed out since cost_start
  local cpu=$(($(cpu_ticks "$cost_pid") - cost_cpu)) cs=$(($(switches "$cost_pid") - cost_cs))
  costs+=("$(awk -v l="$1" -v n="$2" -v c="$cpu" -v s="$cs" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%-38s %6.2f us of CPU, %5.3f context switches", l, c * 1e6 / hz / n, s / n}')")
}
requests() { awk '/requests in/ {n += $1} /Non-2xx/ {n -= $NF} END {print n}' "$@"; } # 2xx answers, summed
load start

# --- pidspace: a durable node (H2 file journal, the node's default) on ports the kernel picks
: >"$tmp/node.log" # the background job may not have opened it before the first read
java -jar target/pidspace.jar node --persistence jdbc --port 0 --http-port 0 --management-port 0 \
  --data-dir "$tmp/data" >"$tmp/node.log" 2>&1 &
node_pid=$!
for _ in {1..120}; do
  url=$(sed -n 's/.*HTTP API \(http:[^,]*\),.*/\1/p' "$tmp/node.log")
  [[ -n $url ]] && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$tmp/node.log" >&2; exit 1; }
  sleep 0.5
done
[[ -n $url ]] || { echo "the node did not start in 60 s" >&2; exit 1; }
for space in 1 2 "${X16_SPACES[@]}" "$X16_WARMUP_SPACE"; do # 1 warms up, 2 single allocs
  curl -sf -o /dev/null -X POST "$url/v1/spaces" -d "{\"id\": $space, \"pidMax\": $PID_MAX}" \
    --retry 20 --retry-delay 1 # 503 until the registry answers through the journal
done

echo 'wrk.method = "POST"' >"$tmp/post.lua"
# The warm-up also tallies statuses (a run once got 1,369 non-2xx there, and wrk says no more);
# the measured runs do not, as a Lua call per answer costs the client.
cat "$tmp/post.lua" - >"$tmp/tally.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses, bodies = {}, {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 200 and not bodies[status] then bodies[status] = body end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local s, b = t:get("statuses"), t:get("bodies")
    for k, v in pairs(s) do io.write(string.format("status %d: %d %s\n", k, v, b[k] or "")) end
  end
end
LUA
wrk_run() { # space, count, duration[, Lua script] -> $tmp/wrk-<space>.txt
  client wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" --timeout 10s --latency -s "${4:-$tmp/post.lua}" \
    "$url/v1/spaces/$1/pids?count=$2" >"$tmp/wrk-$1.txt"
}
wrk_field() { awk -v k="$2" '$1 == k {print $2}' "$tmp/wrk-$1.txt"; }
wrk_pids_per_s() { # count, spaces... : 2xx answers only, over the runs' summed time
  local s files=()
  for s in "${@:2}"; do files+=("$tmp/wrk-$s.txt"); done
  awk -v c="$1" '/requests in/ {n += $1; t += ($4 ~ /m,$/ ? 60 : 1) * $4} /Non-2xx/ {bad += $NF}
    END {printf "%d", (n - bad) * c / t}' "${files[@]}"
}
allocated() { curl -sf "$url/v1/spaces/$1" | sed 's/.*"allocated":\([0-9]*\).*/\1/'; }

# --- Redis: AOF everysec and nothing else persisted, on 127.0.0.1
redis_port=0 # 0 would mean no TCP at all: Redis cannot pick a port and say which
for _ in {1..50}; do # a port nobody answers on
  p=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { redis_port=$p; break; }
done
mkdir "$tmp/redis"
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$tmp/redis" --save '' \
  --appendonly yes --appendfsync everysec >"$tmp/redis.log" 2>&1 &
redis_pid=$!
rcli() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }
for _ in {1..40}; do [[ $(rcli ping 2>/dev/null) == PONG ]] && break; sleep 0.25; done
[[ $(rcli ping 2>/dev/null) == PONG ]] || { cat "$tmp/redis.log" >&2; exit 1; }

# DESIGN §1 for one space other than 0: the lowest free vpid above last_pid below pid_max,
# else the lowest from the reserved floor up to last_pid; answers the global pid.
cat >"$tmp/alloc.lua" <<'LUA'
local space, pid_max, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local last = tonumber(redis.call('GET', KEYS[2]) or floor)
local v = -1
if last + 1 < pid_max then v = redis.call('BITPOS', KEYS[1], 0, last + 1, pid_max - 1, 'BIT') end
if v < 0 then v = redis.call('BITPOS', KEYS[1], 0, floor, last, 'BIT') end
if v < 0 then return redis.error_reply('space-exhausted') end
redis.call('SETBIT', KEYS[1], v, 1)
redis.call('SET', KEYS[2], v)
return space * 4194304 + v
LUA
sha=$(rcli SCRIPT LOAD "$(cat "$tmp/alloc.lua")")
rb() { # space, pipeline depth, requests -> $tmp/redis-<space>.csv: cmd,rps,avg,min,p50,p95,p99,max
  # BITPOS over a range past the string's end answers -1, so the bitmap starts at full length
  rcli SETBIT "s$1:bm" $((PID_MAX - 1)) 0 >/dev/null
  client timeout $((DURATION * 3)) redis-benchmark -h 127.0.0.1 -p "$redis_port" -c "$CONNECTIONS" \
    --threads "$THREADS" -P "$2" -n "$3" --csv EVALSHA "$sha" 2 "s$1:bm" "s$1:last" "$1" "$PID_MAX" 1 \
    >"$tmp/rb.out"
  tail -1 "$tmp/rb.out" | tr -d '"' >"$tmp/redis-$1.csv"
}
redis_run() { # space, depth: a short run sizes -n for about DURATION seconds
  local rps n
  rb $((10 + $1)) "$2" $((30000 * $2))
  rps=$(cut -d, -f2 "$tmp/redis-$((10 + $1)).csv")
  # whole pipelines: redis-benchmark sends the last one whole, past -n
  n=$(awk -v r="$rps" -v d="$DURATION" -v c="$REDIS_CAP" -v p="$2" \
    'BEGIN {n = r * d < c ? r * d : c; print int(n / p) * p}')
  rb "$1" "$2" "$n"
  echo "$n" >"$tmp/redis-$1.n"
}

# --- the runs, each pidspace run next to its Redis run so both see about the same load
load "node up"
wrk_run 1 1 "${WARMUP}s" "$tmp/tally.lua" # the JIT settles; space 1's pids are not counted
load "after warm-up"
cost_start "$node_pid"
wrk_run 2 1 "${DURATION}s"
cost_end "pidspace single" "$(requests "$tmp/wrk-2.txt")"
load "after pidspace single"
cost_start "$redis_pid"
redis_run 2 1
cost_end "Redis single" $((30000 + $(cat "$tmp/redis-2.n"))) # the sizing run's commands too
load "after Redis single"
# The floor under pidspace's own code: the same HTTP server library and dispatcher, and one actor
# that hands out the next number (bench/BareNetty.java), same clients; the node idles meanwhile
java -cp target/pidspace.jar bench/BareNetty.java >"$tmp/bare.log" 2>&1 &
bare_pid=$!
for _ in {1..120}; do grep -q '^port ' "$tmp/bare.log" && break; sleep 0.5; done
bare_url="http://127.0.0.1:$(sed -n 's/^port //p' "$tmp/bare.log")"
client wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s "$tmp/post.lua" "$bare_url/" >/dev/null # warms it up
cost_start "$bare_pid"
client wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -s "$tmp/post.lua" "$bare_url/" >"$tmp/wrk-floor.txt"
cost_end "Netty + one actor" "$(requests "$tmp/wrk-floor.txt")"
kill "$bare_pid"; wait "$bare_pid" 2>/dev/null || true
bare_pid=''
load "after Netty alone"
wrk_run "$X16_WARMUP_SPACE" 16 5s # the JIT settles on ?count=16; not counted
cost_start "$node_pid"
for s in "${X16_SPACES[@]}"; do wrk_run "$s" 16 "$((DURATION / ${#X16_SPACES[@]}))s"; done
x16_files=()
for s in "${X16_SPACES[@]}"; do x16_files+=("$tmp/wrk-$s.txt"); done
cost_end "pidspace ?count=16" $((16 * $(requests "${x16_files[@]}")))
load "after pidspace x16"
cost_start "$redis_pid"
redis_run 3 16
cost_end "Redis pipelined 16 deep" $((30000 * 16 + $(cat "$tmp/redis-3.n")))
load "after Redis x16"

# --- report
row() { # label, count, Redis's space, pidspace's spaces: pids/s of each, the ratio; both latencies
  local pids r p50 p99 s joined http=()
  pids=$(wrk_pids_per_s "$2" "${@:4}")
  IFS=, read -r _ r _ _ p50 _ p99 _ <"$tmp/redis-$3.csv"
  printf '%-38s %10s %10s %7s\n' "$1" "$pids" "${r%.*}" "$(awk -v a="$pids" -v b="$r" 'BEGIN {printf "%.3f", a / b}')"
  for s in "${@:4}"; do http+=("$(wrk_field "$s" 50%) / $(wrk_field "$s" 99%)"); done
  printf -v joined '%s, ' "${http[@]}"
  latencies+=("$1: pidspace ${joined%, }; Redis ${p50}ms / ${p99}ms")
}
echo
latencies=()
printf '%-38s %10s %10s %7s\n' "path (pids/s)" pidspace Redis ratio
row "single alloc, $CONNECTIONS clients" 1 2 2
row "?count=16 vs Redis pipelined 16 deep" 16 3 "${X16_SPACES[@]}"
floor=$(awk '/Requests\/sec/ {printf "%d", $2}' "$tmp/wrk-floor.txt")
redis_single=$(cut -d, -f2 "$tmp/redis-2.csv")
printf '%-38s %10s %10s %7s\n' "Netty + one actor, no pidspace" "$floor" "${redis_single%.*}" \
  "$(awk -v a="$floor" -v b="$redis_single" 'BEGIN {printf "%.3f", a / b}')"
echo
echo "latency p50 / p99 (of a request, of a pipelined command)"
printf '  %s\n' "${latencies[@]}"
echo "server process per pid handed out (all its threads; the clients not counted)"
printf '  %s\n' "${costs[@]}"
echo "cores: $(nproc); load average (1 min): $(printf '%s\n' "${loads[@]}" | paste -sd, | sed 's/,/, /g')"
echo "$(java -version 2>&1 | head -1); $(redis-server --version | cut -d' ' -f1-3); $SECONDS s in all"
# Cross-checks: each side's own count of what it handed out, and anything that was not a plain 200
for s in 1 2 "${X16_SPACES[@]}"; do
  echo "pidspace space $s: $(grep -E 'requests in' "$tmp/wrk-$s.txt" | sed 's/^ *//'), allocated $(allocated "$s")"
  grep -hE 'Non-2xx|Socket errors' "$tmp/wrk-$s.txt" || true
done
grep -h '^status [^2]' "$tmp/wrk-1.txt" | sed 's/^/warm-up (per client thread): /' || true
for s in 2 3; do echo "Redis space $s: handed out $(rcli BITCOUNT "s$s:bm") of -n $(cat "$tmp/redis-$s.n")"; done
echo "Redis AOF rewrites during the run: $(grep -c 'Background AOF rewrite finished' "$tmp/redis.log" || true)"
echo "node log: $(grep -cE ' (ERROR|WARN) ' "$tmp/node.log" || true) ERROR or WARN lines"
grep -E ' (ERROR|WARN) ' "$tmp/node.log" | head -5 | cut -c1-300 || true
