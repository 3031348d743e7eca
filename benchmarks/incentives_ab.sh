#!/usr/bin/env bash
# A/B of incentive issuance through gunicorn: another commit (default main) and this work
# tree, alternating, on one PostgreSQL database loaded by benchmarks/incentives.py.
#     DATABASE_URL=postgres://postgres@127.0.0.1:5432/NAME \
#         .venv/bin/python benchmarks/incentives.py --skip-api     # once: 1,000,000 codes
#     DATABASE_URL=... benchmarks/incentives_ab.sh [REF] [ROUNDS] [SECONDS]
# Each side: gunicorn with 4 sync workers (ports $AB_PORTS, default "8652 8653"), a short
# warm-up, then wrk -c 50 on POST .../pools/$POOL_ID/issuances (a new issuee per request)
# and on /heartbeat, each printed with the server's CPU per request (its gunicorn workers
# and the database's backends, from /proc). The other commit is a `git archive` in a
# temporary folder, run with this tree's venv. Both sides issue from the same pool, so
# each run starts with more codes issued than the one before: alternate, compare ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-main}
rounds=${2:-2}
seconds=${3:-10}
pool=${POOL_ID:-1}
read -r port_ref port_here <<<"${AB_PORTS:-8652 8653}"
here=$PWD
database=${DATABASE_URL:?set DATABASE_URL to the database benchmarks/incentives.py loaded}
db_name=${database##*/}
other=$(mktemp -d /tmp/vibesweb-incentives-ab-XXXXXX)
trap 'rm -rf "$other"' EXIT
git archive "$ref" | tar -x -C "$other"
auth=$(printf 'ibench:ibench-password' | base64)
cat >"$other/issue.lua" <<'EOF'
local counter, threads, run = 0, 0, os.time()
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = string.format('{"external_issuee_id": "ab-%d-%d-%d"}', run, tid, counter)
  return wrk.format(nil, nil, nil, body)
end
EOF
export DJANGO_SETTINGS_MODULE=vibesweb.settings API_RATE_LIMITS_ENABLED=off LOG_LEVEL=WARNING \
  PYTHONWARNINGS=ignore PYTHONDONTWRITEBYTECODE=1 VIBESWEB_VAR_DIR="$other/var" \
  SECRET_KEY=benchmark-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz

cpu_ticks() {  # utime + stime of the given pids, in clock ticks
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

measure() {  # measure PORT GUNICORN_PID PATH [LUA]
  local port=$1 master=$2 path=$3 script=() pids before output requests
  [ -n "${4:-}" ] && script=(-s "$4")
  pids=$(pgrep -P "$master" | tr '\n' ' ')
  pids+=" $(psql "${database%/*}/postgres" -Atc "SELECT string_agg(pid::text, ' ') FROM \
pg_stat_activity WHERE datname = '$db_name' AND pid <> pg_backend_pid()")"
  # shellcheck disable=SC2086
  before=$(cpu_ticks $pids)
  output=$(wrk --latency --timeout 30s -t 2 -c 50 -d "${seconds}s" "${script[@]}" \
    -H "Authorization: Basic $auth" "http://127.0.0.1:$port$path")
  requests=$(echo "$output" | grep -oE '[0-9]+ requests in' | cut -d' ' -f1)
  # shellcheck disable=SC2086
  echo "$(echo "$output" | grep Requests/sec | awk '{print $2}')/s, p99 \
$(echo "$output" | grep ' 99%' | awk '{print $2}'), server CPU \
$(python3 -c "print(round(($(cpu_ticks $pids) - $before) * 1000 / $(getconf CLK_TCK) / max($requests, 1), 2))") ms/request"
}

for round in $(seq "$rounds"); do
  for side in "$ref" HEAD; do
    dir=$here port=$port_here
    [ "$side" = HEAD ] || { dir=$other; port=$port_ref; }
    (cd "$dir" && exec "$here/.venv/bin/gunicorn" vibesweb.wsgi --bind "127.0.0.1:$port" \
      --workers 4 --log-level warning) &
    master=$!
    for _ in $(seq 240); do curl -sf "127.0.0.1:$port/heartbeat" >/dev/null && break; sleep 0.5; done
    url=/companies/IBENCH/incentives/pools/$pool/issuances
    wrk -t 2 -c 8 -d 5s -s "$other/issue.lua" -H "Authorization: Basic $auth" \
      "http://127.0.0.1:$port$url" >/dev/null  # warm up every worker (imports, first claim)
    echo "=== $side, round $round, $(date -u +%H:%M) UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "issuances: $(measure "$port" "$master" "$url" "$other/issue.lua")"
    echo "heartbeat: $(measure "$port" "$master" /heartbeat)"
    kill "$master"
    wait "$master" 2>/dev/null || true
  done
done
