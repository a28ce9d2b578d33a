#!/usr/bin/env bash
# "History does not slow scheduling" (DESIGN.md section 9): scheduler_bench.sh's fan-out
# throughput and chain hop latency with an empty store and with SEED_TASKS (1,000,000) finished
# task instances of history (history_seed.sh), on SQLite and on PostgreSQL, side by side, with the
# scheduler's startup time (Recover) and the seeded/empty ratios. The bar: seeded within 10%.
# Usage: tests/bench/history_bench.sh [BUILD_DIR]   env: SEED_TASKS (1000000), STORES
#   ("sqlite postgres"), REPS (5: each configuration once per rep, interleaved), and
#   scheduler_bench.sh's (FANOUT, CHAIN, WORKERS, ...).
# Not run by ctest. Needs jq, curl, sqlite3, psql and Debian's postgresql package.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${1:-$ROOT/build-release}"
if [ -z "${1:-}" ]; then BUILD_DIR=build-release BUILD_TYPE=Release "$ROOT/scripts/build.sh" >/dev/null; fi
SEED=${SEED_TASKS:-1000000}
STORES=${STORES:-sqlite postgres}
OUT="$(mktemp -d "${TMPDIR:-/tmp}/de-history-bench-XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

REPS=${REPS:-5}

# Rep by rep, every configuration once per rep (a fresh scheduler and store each time, reseeded),
# so that the load of a shared machine falls on all of them alike; medians over the reps.
echo "load before: $(uptime)"
for r in $(seq "$REPS"); do
  for store in $STORES; do
    for seed in 0 "$SEED"; do
      echo "== rep $r/$REPS: $store, $seed task instances of history"
      REPS=1 STORE=$store SEED_TASKS=$seed "$ROOT/tests/bench/scheduler_bench.sh" "$BUILD" \
        | tee -a "$OUT/$store-$seed.txt"
    done
  done
done
echo "load after: $(uptime)"

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# Per rep (one line each), then their median.
rates() { sed -n 's/^fan-out [0-9]* tasks: \([0-9.]*\) completions.*/\1/p' "$1"; }
hops() { sed -n 's/.*median ready->running hop \([0-9.]*\) ms.*/\1/p' "$1"; }
means() { sed -n 's/.*; mean hop \([0-9.]*\) ms.*/\1/p' "$1"; }
boots() { sed -n 's/^scheduler startup.*: \([0-9]*\) ms/\1/p' "$1"; }
rate() { rates "$1" | median; }
hop() { hops "$1" | median; }
mean() { means "$1" | median; }
boot() { boots "$1" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
echo
for store in $STORES; do
  for seed in 0 "$SEED"; do
    f="$OUT/$store-$seed.txt"
    echo "$store, $seed TIs: completions/s $(rates "$f" | xargs printf '%.0f ')| mean hop ms $(means "$f" | xargs)"
  done
done
echo
printf '| store | history | fan-out completions/s | ratio | chain median hop ms | mean hop ms | ratio | startup ms |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for store in $STORES; do
  e="$OUT/$store-0.txt"; s="$OUT/$store-$SEED.txt"
  printf '| %s | empty | %.0f | | %s | %s | | %s |\n' "$store" "$(rate "$e")" "$(hop "$e")" "$(mean "$e")" "$(boot "$e")"
  printf '| %s | %s TIs | %.0f | %s | %s | %s | %s | %s |\n' "$store" "$SEED" "$(rate "$s")" \
    "$(ratio "$(rate "$s")" "$(rate "$e")")" "$(hop "$s")" "$(mean "$s")" \
    "$(ratio "$(mean "$s")" "$(mean "$e")")" "$(boot "$s")"
done
echo "medians of $REPS reps, configurations interleaved; hops are whole milliseconds, so the hop ratio is of the means"
echo "bar: seeded throughput >= 0.90 x empty, seeded mean hop <= 1.10 x empty (DESIGN.md 9)"
