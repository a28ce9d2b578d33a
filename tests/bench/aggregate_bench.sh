#!/usr/bin/env bash
# aggregate vs DuckDB, side by side in one run: GROUP BY origin with count(*), avg(delay),
# sum(distance) over the flights data, from our Parquet (made once by csv_to_parquet) and from the
# plain CSV (decompressed once), at 1 and 2 threads; N repetitions each (interleaved); reports
# median seconds, rows/s, peak RSS and the DuckDB/de ratio, and checks the bars (from Parquet
# >= 1x DuckDB's throughput, from CSV >= 1.5x, peak RSS < 512 MB) and that both agree.
# Usage: tests/bench/aggregate_bench.sh FLIGHTS_CSV_GZ [DE_WORKER]
#   env: REPS (default 3), THREADS ("1 2"), INPUTS ("parquet csv")
# Not run by ctest. Builds build-release/ unless DE_WORKER is given. DuckDB comes from
# tests/interop/node_modules (scripts/interop-setup.sh); peak RSS needs /usr/bin/time (apt: time).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="${1:-}"
if [ -z "$SRC" ] || [ ! -f "$SRC" ]; then
  echo "skip: flights CSV not found (pass the path to flights-3m.csv.gz): '${SRC}'"
  exit 0
fi
SRC="$(realpath "$SRC")"
if [ -z "${2:-}" ]; then
  BUILD_DIR=build-release BUILD_TYPE=Release "$ROOT/scripts/build.sh" >/dev/null
fi
WORKER="$(realpath "${2:-$ROOT/build-release/worker/de-worker}")"
[ -x "$WORKER" ] || { echo "no de-worker at $WORKER"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt package time)"; exit 1; }
"$ROOT/scripts/interop-setup.sh"
REPS=${REPS:-3}
QUERY="$ROOT/tests/interop/duckdb_query.mjs"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/de-aggbench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
gzip -dc "$SRC" > "$WORK/in.csv"
"$WORKER" task csv_to_parquet input=in.csv output=pq --data-root "$WORK" >/dev/null 2>&1
ROWS=$(node "$QUERY" "SELECT count(*) AS n FROM read_parquet('$WORK/pq/*.parquet')" | sed 's/[^0-9]//g')
echo "input: $SRC ($(stat -c %s "$WORK/in.csv") bytes csv, $ROWS rows; our Parquet $(du -sb "$WORK/pq" | cut -f1) bytes); worker: $WORKER; reps: $REPS; cores: $(nproc)"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
SQL_AGG="origin, count(*) AS n, avg(delay) AS avg_delay, sum(distance) AS dist"

ours() {  # ours INPUT THREADS -> "seconds peak_kb"
  rm -rf "$WORK/out_de"
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$WORKER" task aggregate input="$1" output=out_de \
    threads="$2" 'group_by=[origin]' 'metrics={n: count(*), avg_delay: avg(delay), dist: sum(distance)}' \
    --data-root "$WORK" --result-file "$WORK/de.json" >/dev/null 2>"$WORK/de.err" \
    || { cat "$WORK/de.err"; exit 1; }
  read -r _wall kb < "$WORK/time.txt"
  # The task's own time (excludes process start-up), like DuckDB's statement time below.
  echo "$(jq -r '.summary.seconds' "$WORK/de.json") $kb"
}
duck() {  # duck FROM THREADS -> "seconds peak_kb"
  DUCKDB_TIMING=1 /usr/bin/time -f "%e %M" -o "$WORK/time.txt" node "$QUERY" "SET threads=$2" \
    "CREATE TABLE r AS SELECT $SQL_AGG FROM $1 GROUP BY origin" >/dev/null 2>"$WORK/duck.err" \
    || { cat "$WORK/duck.err"; exit 1; }
  read -r _wall kb < "$WORK/time.txt"
  echo "$(sed -n 's/^duckdb_seconds=//p' "$WORK/duck.err") $kb"
}

# Both engines agree on the result.
ours pq 2 >/dev/null
node "$ROOT/tests/interop/aggregate_compare.mjs" "$WORK/out_de" "$WORK/pq" parquet 1 \
  "SELECT $SQL_AGG FROM src GROUP BY origin" >/dev/null \
  || echo "WARNING: de and DuckDB results differ (see above)"

printf "\n%-8s %-3s | %-24s | %-24s | %s\n" input thr "de: s  Mrows/s RSS(MB)" "duckdb: s  Mrows/s RSS(MB)" "speedup  bar"
fails=0
for input in ${INPUTS:-parquet csv}; do
  if [ "$input" = parquet ]; then de_in=pq; dk_from="read_parquet('$WORK/pq/*.parquet')"; bar=1.0
  else de_in=in.csv; dk_from="read_csv('$WORK/in.csv')"; bar=1.5; fi
  for t in ${THREADS:-1 2}; do
    : > "$WORK/de.txt"; : > "$WORK/dk.txt"
    for _ in $(seq "$REPS"); do
      ours "$de_in" "$t" >> "$WORK/de.txt"
      duck "$dk_from" "$t" >> "$WORK/dk.txt"
    done
    ds=$(cut -d' ' -f1 "$WORK/de.txt" | median); dr=$(cut -d' ' -f2 "$WORK/de.txt" | sort -g | tail -1)
    ks=$(cut -d' ' -f1 "$WORK/dk.txt" | median); kr=$(cut -d' ' -f2 "$WORK/dk.txt" | sort -g | tail -1)
    line=$(awk -v ds="$ds" -v dr="$dr" -v ks="$ks" -v kr="$kr" -v n="$ROWS" -v bar="$bar" 'BEGIN {
      sp = ks / ds; ok = (sp >= bar && dr / 1024 < 512) ? "ok" : "MISS";
      printf "%6.3f %7.1f %6.0f | %6.3f %7.1f %6.0f | %5.2fx  >=%.1fx %s",
        ds, n / 1e6 / ds, dr / 1024, ks, n / 1e6 / ks, kr / 1024, sp, bar, ok }')
    printf "%-8s %-3s | %s\n" "$input" "$t" "$line"
    case "$line" in *MISS*) fails=$((fails + 1)) ;; esac
  done
done
echo
echo "seconds are medians of $REPS (each engine's own timing: de's task time, DuckDB's statement time);"
echo "RSS is the max over runs (DuckDB's includes node). speedup = DuckDB seconds / de seconds."
[ $fails -eq 0 ] && echo "all bars met" || echo "$fails configuration(s) miss a bar"
