#!/usr/bin/env bash
# "History does not slow scheduling" (DESIGN.md section 9): scheduler_bench.sh's fan-out
# throughput and chain hop latency with an empty store and with SEED_TASKS (1,000,000) finished
# task instances of history (history_seed.sh), on SQLite and on PostgreSQL, side by side, with the
# scheduler's startup time (Recover) and the seeded/empty ratios. The bar: seeded within 10%.
# Usage: tests/bench/history_bench.sh [BUILD_DIR]   env: SEED_TASKS (1000000), STORES
#   ("sqlite postgres"), and scheduler_bench.sh's (FANOUT, CHAIN, REPS, WORKERS, ...).
# Not run by ctest. Needs jq, curl, sqlite3, psql and Debian's postgresql package.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build-release}"
if [ -z "${1:-}" ]; then BUILD_DIR=build-release BUILD_TYPE=Release "$ROOT/scripts/build.sh" >/dev/null; fi
SEED=${SEED_TASKS:-1000000}
STORES=${STORES:-sqlite postgres}
OUT="$(mktemp -d "${TMPDIR:-/tmp}/de-history-bench-XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

echo "load before: $(uptime)"
for store in $STORES; do
  for seed in 0 "$SEED"; do
    echo "== $store, $seed task instances of history"
    STORE=$store SEED_TASKS=$seed "$ROOT/tests/bench/scheduler_bench.sh" "$BUILD" | tee "$OUT/$store-$seed.txt"
  done
done
echo "load after: $(uptime)"

rate() { sed -n 's/^fan-out [0-9]* tasks: \([0-9.]*\) completions.*/\1/p' "$1"; }
hop() { sed -n 's/.*median ready->running hop \([0-9.]*\) ms.*/\1/p' "$1"; }
mean() { sed -n 's/.*; mean hop \([0-9.]*\) ms.*/\1/p' "$1"; }
boot() { sed -n 's/^scheduler startup.*: \([0-9]*\) ms/\1/p' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
echo
printf '| store | history | fan-out completions/s | ratio | chain median hop ms | mean hop ms | ratio | startup ms |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for store in $STORES; do
  e="$OUT/$store-0.txt"; s="$OUT/$store-$SEED.txt"
  printf '| %s | empty | %s | | %s | %s | | %s |\n' "$store" "$(rate "$e")" "$(hop "$e")" "$(mean "$e")" "$(boot "$e")"
  printf '| %s | %s TIs | %s | %s | %s | %s | %s | %s |\n' "$store" "$SEED" "$(rate "$s")" \
    "$(ratio "$(rate "$s")" "$(rate "$e")")" "$(hop "$s")" "$(mean "$s")" \
    "$(ratio "$(mean "$s")" "$(mean "$e")")" "$(boot "$s")"
done
echo "medians of REPS=${REPS:-3} runs each; hops are whole milliseconds, so the hop ratio is of the means"
echo "bar: seeded throughput >= 0.90 x empty, seeded mean hop <= 1.10 x empty (DESIGN.md 9)"
