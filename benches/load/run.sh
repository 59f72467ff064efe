#!/usr/bin/env bash
# The load benchmark: the server on core 0, wrk on core 1, for each route, algorithm
# and token mode; prints a Markdown table of req/s, p50/p99 latency, server CPU per
# request, and the ratios to the same server's unprotected route, to jwt-authorizer,
# and to the machine's limit (`/limit`: token parsing and one aws-lc-rs verification
# with a key parsed at startup, no claim checks, on the same server).
#
#   bash benches/load/run.sh            # DURATION=5 DISTINCT=60000 CONNECTIONS=32
#   ALGS="RS256" MODES="repeat" bash benches/load/run.sh   # a part of the table
#
# Needs two cores, and wrk (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-5}
DISTINCT=${DISTINCT:-60000}
CONNECTIONS=${CONNECTIONS:-32}
ALGS=${ALGS:-RS256 ES256 EdDSA}
MODES=${MODES:-repeat distinct}
DIR=target/load
PORT=8700
PEER_PORT=8701

if ! command -v wrk >/dev/null; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  $SUDO apt-get install -y --no-install-recommends wrk >/dev/null \
    || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends wrk >/dev/null; }
fi
cargo build -q --release -p oauth2-benches --example load_server --example load_jwt_authorizer

rm -rf "$DIR" && mkdir -p "$DIR"
target/release/examples/load_server --port $PORT --tokens "$DIR" --distinct "$DISTINCT" &
SERVER=$!
trap 'kill $SERVER ${PEER:-} 2>/dev/null || true' EXIT
echo "generating $DISTINCT tokens per algorithm..." >&2
while [ ! -f "$DIR/ready" ]; do sleep 0.5; kill -0 $SERVER; done
taskset -pc 0 $SERVER >/dev/null
ISSUER=$(sed 's#/jwks.json$##; s#/jwks$##' "$DIR/jwks-url")
ISSUER=$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(f'{p.scheme}://{p.netloc}')" "$ISSUER")
taskset -c 0 target/release/examples/load_jwt_authorizer --port $PEER_PORT \
  --jwks "$(cat "$DIR/jwks-url")" --issuer "$ISSUER" &
PEER=$!
sleep 1

# ticks of user+system CPU time of a process
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)

# run NAME PID URL [TOKEN_FILE] -> "name req/s p50 p99 cpu_us"
run() {
  local name=$1 pid=$2 url=$3 file=${4:-}
  local before after out
  before=$(cpu "$pid")
  if [ -n "$file" ]; then
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benches/load/wrk.lua "$url" -- "$file")
  else
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$url")
  fi
  after=$(cpu "$pid")
  printf '%s\n' "$out" > "$DIR/wrk.out"
  python3 benches/load/wrk_report.py "$name" "$before" "$after" "$TICK" "$DIR/wrk.out"
}

RESULTS=$DIR/results
: > "$RESULTS"
run open "$SERVER" "http://127.0.0.1:$PORT/open" > "$RESULTS"
run peer-open "$PEER" "http://127.0.0.1:$PEER_PORT/open" >> "$RESULTS"
for alg in $ALGS; do
  for mode in $MODES; do
    file="$DIR/$alg-$mode"
    for route in limit layer protect jsonwebtoken; do
      run "$route/$alg/$mode" "$SERVER" "http://127.0.0.1:$PORT/$route" "$file" >> "$RESULTS"
    done
    run "jwt-authorizer/$alg/$mode" "$PEER" "http://127.0.0.1:$PEER_PORT/jwt-authorizer" "$file" >> "$RESULTS"
  done
done

python3 - "$RESULTS" "$DISTINCT" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
distinct = int(sys.argv[2])
by = {r[0]: r for r in rows}
open_rps, peer_rps = float(by["open"][1]), float(by["peer-open"][1])
print("| route | alg | tokens | req/s | p50 ms | p99 ms | server CPU µs/req | × unprotected | × jwt-authorizer | × limit |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name in ["open", "peer-open"]:
    r = by[name]
    print(f"| {name} | | | {r[1]} | {r[2]} | {r[3]} | {r[4]} | 1.00 | | |")
for r in rows:
    if "/" not in r[0]:
        continue
    route, alg, mode = r[0].split("/")
    rps = float(r[1])
    base = peer_rps if route == "jwt-authorizer" else open_rps
    peer = float(by[f"jwt-authorizer/{alg}/{mode}"][1])
    limit = float(by[f"limit/{alg}/{mode}"][1])
    note = ""
    if int(r[6]) > 0:
        note = f" ({r[6]} errors)"
    if mode == "distinct" and int(r[5]) > distinct:
        note += " (pool smaller than the run: some repeats)"
    print(f"| {route} | {alg} | {mode} | {rps:.0f}{note} | {r[2]} | {r[3]} | {r[4]} | {rps / base:.2f} | {rps / peer:.2f} | {rps / limit:.2f} |")
PY
