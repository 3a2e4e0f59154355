#!/usr/bin/env bash
# Runs each cargo-fuzz target (fuzz/) for a bounded time and fails on the first crash.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   SECONDS per target (default 5); all targets by default
#   FUZZ_RUNS=N scripts/fuzz.sh 0 TARGET    N inputs instead of a time (how the README's counts were run)
#
# cargo-fuzz passes nightly-only flags to rustc (-Zsanitizer and friends). No nightly can be
# fetched here, so RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them. The sanitizer is
# off: the library is safe Rust, so AddressSanitizer would find nothing a panic does not, at
# a third of the speed; debug assertions (-a) stay on, so overflow and debug_assert! count.
# Seed corpora come from the repository's own scenarios and snapshots (fuzz/corpus/, not
# committed) plus the hand-written requests in fuzz/seeds/. A crash leaves its input in
# fuzz/artifacts/TARGET/; reproduce with `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-5}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(scenario normalize replay_request)
fi

export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# Each seed directory is filled once; libFuzzer adds what it finds to the same directory.
seed() {
  local target="$1" dir="fuzz/corpus/$1"
  [ -d "$dir" ] && return 0
  mkdir -p "$dir"
  case "$target" in
    scenario)
      # First line: the operation (the file's directory), then the file.
      for f in scenarios/*/*/*.yaml; do
        op="$(basename "$(dirname "$f")")"
        { echo "$op"; cat "$f"; } > "$dir/$op-$(basename "$f" .yaml)"
      done
      ;;
    normalize)
      # A snapshot's transcript (its insta header dropped), its first XML body, and pairs
      # of transcripts separated by NUL.
      local prev=""
      for f in snapshots/*/*/*.snap; do
        name="$(basename "$f" .snap)"
        awk 'seen >= 2 { print } /^---$/ { seen++ }' "$f" > "$dir/$name.transcript"
        awk '/^</ { on = 1 } on && /^$/ { exit } on { print }' "$f" > "$dir/$name.xml"
        if [ -n "$prev" ]; then
          { cat "$prev"; printf '\0'; cat "$dir/$name.transcript"; } > "$dir/$name.pair"
        fi
        prev="$dir/$name.transcript"
      done
      ;;
    replay_request)
      ;;
  esac
}

for t in "${targets[@]}"; do
  seed "$t"
  seeds=()
  [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
  limit=(-max_total_time="$seconds")
  if [ -n "${FUZZ_RUNS:-}" ]; then
    limit=(-runs="$FUZZ_RUNS")
  fi
  # Scenario files run to kilobytes, and YAML loading of a long one is slow: keeping the
  # loader's inputs short makes its inputs about four times faster (the seeds are cut to that length).
  max_len=65536
  [ "$t" = scenario ] && max_len=1024
  echo "== fuzz $t (${FUZZ_RUNS:+$FUZZ_RUNS inputs}${FUZZ_RUNS:-$seconds s})"
  cargo fuzz run --sanitizer none -a "$t" "fuzz/corpus/$t" "${seeds[@]}" -- \
    "${limit[@]}" -max_len="$max_len" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
done
