#!/usr/bin/env bash
# The soak test: a release build of benches/soak/server.rs driven for SECONDS (default
# 60) by benches/soak/driver.rs with valid, expired, forged and unknown-kid tokens,
# browser logins, session reads, refreshes, logouts (front- and back-channel) and a key
# rotation every ROTATE seconds (default 10). Fails on any unexpected status or when the
# server's resident memory after the warm-up moves more than 10 % from its median.
#
#   bash benches/soak/run.sh            # 60 s
#   SECONDS_TOTAL=600 bash benches/soak/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TOTAL=${SECONDS_TOTAL:-60}
ROTATE=${ROTATE:-10}
# The parsed-session cache is bounded in bytes (16 MiB by default); at 1 MiB it is full
# within the warm-up, so that a flat memory afterwards shows that it stays bounded.
export SOAK_SERVER_ARGS=${SOAK_SERVER_ARGS:---session-cache 1048576}
cargo build -q --release -p oauth2-benches --example soak_server --example soak_driver
target/release/examples/soak_driver --server target/release/examples/soak_server \
  --seconds "$SECONDS_TOTAL" --rotate "$ROTATE"
