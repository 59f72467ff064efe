#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60), or only the targets named:
#   fuzz/run.sh 600                 # ten minutes each
#   fuzz/run.sh 30 bearer_token jwks
# New inputs go to fuzz/corpus/<target> (not committed), starting from the committed
# seeds in fuzz/seeds/<target>; a crash stops the run with its input in
# fuzz/artifacts/<target>/ and the command that replays it. Prints executions per target.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo fuzz passes the compiler's sanitizer and coverage flags, which are unstable;
# RUSTC_BOOTSTRAP lets the machine's stable toolchain accept them (no nightly needed).
export RUSTC_BOOTSTRAP=1
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)

# Release code with debug assertions on (overflow checks, `debug_assert!`) under
# AddressSanitizer, unless FUZZ_FLAGS says otherwise: CI's short run uses
# `--dev -s none` (a debug build without sanitizer, which builds in a third of the time;
# the library forbids unsafe code, so what it can find is a panic, and those it finds).
read -r -a flags <<<"${FUZZ_FLAGS:---debug-assertions}"
cargo fuzz build "${flags[@]}"
summary=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="corpus/$target.log"
  if ! cargo fuzz run "${flags[@]}" "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target FAILED: the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  corpus=$(find "corpus/$target" -type f | wc -l)
  summary+=("$(printf '%-20s %12s executions in %ss, corpus %s, no crash' "$target" "$runs" "$seconds" "$corpus")")
done
printf '%s\n' "${summary[@]}"
