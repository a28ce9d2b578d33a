#!/usr/bin/env bash
# `clean` vs DuckDB, side by side in one run, on the flights CSV (decompressed once): trim, null
# tokens, a filter and a cast, written as Parquet, against DuckDB's
#   COPY (SELECT ... trim/CASE/TRY_CAST ... WHERE distance > 500) TO ... (FORMAT PARQUET)
# with equal threads (1 and 2) and codec; N repetitions each (interleaved); reports median seconds,
# MB/s of CSV, peak RSS (/usr/bin/time -v), rows written, and our/DuckDB ratio; checks the bars
# (>= 1.5x DuckDB's throughput, peak RSS < 512 MB) and that both wrote the same number of rows.
# Usage: tests/bench/clean_bench.sh FLIGHTS_CSV_GZ [DE_WORKER]
#   env: REPS (default 3), THREADS ("1 2"), CODECS ("snappy"), INPUTS ("csv parquet")
# Not run by ctest. Builds build-release/ unless DE_WORKER is given. DuckDB comes from
# tests/interop/node_modules (scripts/interop-setup.sh).
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
WORK="$(mktemp -d "${TMPDIR:-/tmp}/de-clean-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
gzip -dc "$SRC" > "$WORK/in.csv"
CSV_BYTES=$(stat -c %s "$WORK/in.csv")
echo "input: $SRC ($CSV_BYTES bytes csv); worker: $WORKER; reps: $REPS; cores: $(nproc)"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak_kb() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

# The same work for both engines.
OURS=(trim=true 'null_if=["", NA]' 'cast={delay: int32}' 'filter=distance > 500' on_error=null)
SELECT="SELECT date, TRY_CAST(delay AS INTEGER) AS delay, distance,
  CASE WHEN trim(origin) IN ('', 'NA') THEN NULL ELSE trim(origin) END AS origin,
  CASE WHEN trim(destination) IN ('', 'NA') THEN NULL ELSE trim(destination) END AS destination"

# Our Parquet copy of the input, for the Parquet-input rows of the table.
"$WORKER" task csv_to_parquet input=in.csv output=lake --data-root "$WORK" >/dev/null 2>&1

# Each run prints "seconds peak_kb rows".
ours() {  # ours INPUT CODEC THREADS
  rm -rf "$WORK/out_de"
  /usr/bin/time -v -o "$WORK/time.txt" "$WORKER" task clean input="$1" output=out_de \
    compression="$2" threads="$3" "${OURS[@]}" --data-root "$WORK" --result-file "$WORK/de.json" \
    >/dev/null 2>"$WORK/de.err" || { cat "$WORK/de.err"; exit 1; }
  secs=$(jq -r '.seconds' "$WORK/de.json")
  echo "$secs $(peak_kb "$WORK/time.txt") $(jq -r '.counters.rows_out' "$WORK/de.json")"
}
duck() {  # duck INPUT CODEC THREADS
  local from="read_csv('$WORK/in.csv')"
  [ "$1" = lake ] && from="read_parquet('$WORK/lake/*.parquet')"
  rm -f "$WORK/duck.parquet"
  DUCKDB_TIMING=1 /usr/bin/time -v -o "$WORK/time.txt" node "$QUERY" "SET threads=$3" \
    "COPY ($SELECT FROM $from WHERE distance > 500) TO '$WORK/duck.parquet' (FORMAT PARQUET, COMPRESSION $2)" \
    >/dev/null 2>"$WORK/duck.err" || { cat "$WORK/duck.err"; exit 1; }
  secs=$(sed -n 's/^duckdb_seconds=//p' "$WORK/duck.err")
  rows=$(node "$QUERY" "SELECT count(*) AS n FROM read_parquet('$WORK/duck.parquet')" | jq -r '.[0].n')
  echo "$secs $(peak_kb "$WORK/time.txt") $rows"
}

printf "\n%-7s %-6s %-3s | %-22s | %-22s | %-7s %s\n" input codec thr "de: s  MB/s  RSS(MB)" \
  "duckdb: s  MB/s  RSS(MB)" speedup bars
fails=0
for input in ${INPUTS:-csv parquet}; do
  file=in.csv; [ "$input" = parquet ] && file=lake
  for codec in ${CODECS:-snappy}; do
    for t in ${THREADS:-1 2}; do
      : > "$WORK/de.txt"; : > "$WORK/dk.txt"
      for _ in $(seq "$REPS"); do
        ours "$file" "$codec" "$t" >> "$WORK/de.txt"
        duck "$file" "$codec" "$t" >> "$WORK/dk.txt"
      done
      ds=$(cut -d' ' -f1 "$WORK/de.txt" | median); dr=$(cut -d' ' -f2 "$WORK/de.txt" | sort -g | tail -1)
      ks=$(cut -d' ' -f1 "$WORK/dk.txt" | median); kr=$(cut -d' ' -f2 "$WORK/dk.txt" | sort -g | tail -1)
      drows=$(cut -d' ' -f3 "$WORK/de.txt" | tail -1); krows=$(cut -d' ' -f3 "$WORK/dk.txt" | tail -1)
      line=$(awk -v ds="$ds" -v dr="$dr" -v ks="$ks" -v kr="$kr" -v b="$CSV_BYTES" -v same=$([ "$drows" = "$krows" ] && echo 1 || echo 0) 'BEGIN {
        sp = ks / ds; ok = (sp >= 1.5 && dr / 1024 < 512 && same) ? "ok" : "MISS";
        printf "%6.3f %6.1f %6.0f | %6.3f %6.1f %6.0f | %5.2fx  %s", ds, b / 1048576 / ds, dr / 1024,
          ks, b / 1048576 / ks, kr / 1024, sp, ok (same ? "" : " (row counts differ)") }')
      printf "%-7s %-6s %-3s | %s\n" "$input" "$codec" "$t" "$line"
      case "$line" in *MISS*) fails=$((fails + 1)) ;; esac
    done
  done
done
echo
echo "rows written: $drows (de) / $krows (DuckDB); seconds are medians of $REPS (de: the task's own"
echo "time; DuckDB: the COPY statement's, without node start-up); MB/s of the uncompressed CSV"
echo "(the same work for the Parquet input); RSS is the max over runs (DuckDB's includes node)."
[ $fails -eq 0 ] && echo "all bars met" || echo "$fails configuration(s) miss a bar"
