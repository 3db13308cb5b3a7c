#!/usr/bin/env bash
# Runs every SIP fuzz target for a bounded time, starting from the committed seed corpus, and
# prints one summary line. Exits non-zero on a crash; the input is left in artifacts/<target>/.
# Usage: crates/sip/fuzz/run.sh [seconds for the message target] [seconds for each other]
# Needs cargo-fuzz (scripts/setup --test installs it); stable Rust is told to allow the nightly
# flags libFuzzer needs with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"
message_s=${1:-60}
other_s=${2:-20}
export RUSTC_BOOTSTRAP=1
# Beside the workspace's own build, not in this directory, unless the caller chose a place.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(cd ../../.. && pwd)/target}"
# Safe Rust only, so no sanitizer (twice the executions per second); debug assertions on, so
# arithmetic overflow is a crash too.
flags=(-a -s none)
cargo fuzz build "${flags[@]}" >&2

# New inputs go to a scratch corpus (libFuzzer writes to the first directory it is given);
# the committed seeds stay as they are.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
summary=()
for target in message framer sdp digest; do
  seconds=$other_s
  [ "$target" = message ] && seconds=$message_s
  mkdir -p "$scratch/$target"
  log="$scratch/$target.log"
  if ! cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    grep -E -A 20 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -60 >&2 || tail -40 "$log" >&2
    echo "fuzz: $target CRASHED; input saved in crates/sip/fuzz/artifacts/$target/" \
      "(reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run $target <file>)"
    exit 1
  fi
  runs=$(awk '/stat::number_of_executed_units:/ { print $2 }' "$log")
  summary+=("$target ${runs:-?} runs/${seconds}s")
done
IFS=','; echo "fuzz: no crash in ${summary[*]}" | sed 's/,/, /g'
