#!/usr/bin/env bash
# csv_to_parquet vs DuckDB, side by side in one run: the same input (gzip and plain), the same
# Parquet codec (snappy, zstd), 1 and 2 threads; N repetitions each; reports the median seconds,
# MB/s (of uncompressed CSV), peak RSS, output size and our/DuckDB ratios, and checks the bars
# (>= 1.5x DuckDB's throughput, output <= 1.2x DuckDB's size, peak RSS < 512 MB).
# Usage: tests/bench/csv_to_parquet_bench.sh FLIGHTS_CSV_GZ [DE_WORKER]
#   env: REPS (default 3), THREADS ("1 2"), CODECS ("snappy zstd"), INPUTS ("gz plain")
# Not run by ctest. Builds build-release/ unless DE_WORKER is given. DuckDB comes from
# tests/interop/node_modules (installed by scripts/interop-setup.sh);
# peak RSS needs /usr/bin/time (apt package `time`).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="${1:-}"
if [ -z "$SRC" ] || [ ! -f "$SRC" ]; then
  echo "skip: flights CSV not found (pass the path to flights-3m.csv.gz): '${SRC}'"
  exit 0
fi
SRC="$(realpath "$SRC")"
if [ -z "${2:-}" ]; then
  # A Release build of our own, next to the default debug-info build.
  BUILD_DIR=build-release BUILD_TYPE=Release "$ROOT/scripts/build.sh" >/dev/null
fi
WORKER="$(realpath "${2:-$ROOT/build-release/worker/de-worker}")"
[ -x "$WORKER" ] || { echo "no de-worker at $WORKER"; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt package time)"; exit 1; }
"$ROOT/scripts/interop-setup.sh"
REPS=${REPS:-3}
QUERY="$ROOT/tests/interop/duckdb_query.mjs"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/de-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp "$SRC" "$WORK/in.csv.gz"
gzip -dc "$SRC" > "$WORK/in.csv"
CSV_BYTES=$(stat -c %s "$WORK/in.csv")
echo "input: $SRC ($(stat -c %s "$SRC") bytes gz, $CSV_BYTES bytes csv); worker: $WORKER; reps: $REPS; cores: $(nproc)"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Each run prints "seconds peak_kb output_bytes".
ours() {  # ours INPUT CODEC THREADS
  rm -rf "$WORK/out_de"
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$WORKER" task csv_to_parquet input="$1" \
    output=out_de compression="$2" threads="$3" --data-root "$WORK" >/dev/null 2>"$WORK/de.err" \
    || { cat "$WORK/de.err"; exit 1; }
  read -r secs kb < "$WORK/time.txt"
  echo "$secs $kb $(find "$WORK/out_de" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')"
}
duck() {  # duck INPUT CODEC THREADS
  rm -f "$WORK/duck.parquet"
  DUCKDB_TIMING=1 /usr/bin/time -f "%e %M" -o "$WORK/time.txt" node "$QUERY" "SET threads=$3" \
    "COPY (FROM read_csv('$WORK/$1')) TO '$WORK/duck.parquet' (FORMAT PARQUET, COMPRESSION $2)" \
    >/dev/null 2>"$WORK/duck.err" || { cat "$WORK/duck.err"; exit 1; }
  read -r _wall kb < "$WORK/time.txt"
  # DuckDB's own statement time (excludes node start-up), RSS of the whole node process.
  secs=$(sed -n 's/^duckdb_seconds=//p' "$WORK/duck.err")
  echo "$secs $kb $(stat -c %s "$WORK/duck.parquet")"
}

printf "\n%-6s %-7s %-3s | %-30s | %-30s | %-7s %-6s %s\n" input codec thr \
  "de: s  MB/s  RSS(MB) size(MB)" "duckdb: s  MB/s  RSS(MB) size(MB)" speedup size "bars"
fails=0
for input in ${INPUTS:-gz plain}; do
  file=in.csv; [ "$input" = gz ] && file=in.csv.gz
  for codec in ${CODECS:-snappy zstd}; do
    for t in ${THREADS:-1 2}; do
      : > "$WORK/de.txt"; : > "$WORK/dk.txt"
      for _ in $(seq "$REPS"); do   # interleave the two engines
        ours "$file" "$codec" "$t" >> "$WORK/de.txt"
        duck "$file" "$codec" "$t" >> "$WORK/dk.txt"
      done
      ds=$(cut -d' ' -f1 "$WORK/de.txt" | median); dr=$(cut -d' ' -f2 "$WORK/de.txt" | sort -g | tail -1)
      dz=$(cut -d' ' -f3 "$WORK/de.txt" | tail -1)
      ks=$(cut -d' ' -f1 "$WORK/dk.txt" | median); kr=$(cut -d' ' -f2 "$WORK/dk.txt" | sort -g | tail -1)
      kz=$(cut -d' ' -f3 "$WORK/dk.txt" | tail -1)
      line=$(awk -v ds="$ds" -v dr="$dr" -v dz="$dz" -v ks="$ks" -v kr="$kr" -v kz="$kz" -v b="$CSV_BYTES" 'BEGIN {
        sp = ks / ds; sz = dz / kz; ok = (sp >= 1.5 && sz <= 1.2 && dr / 1024 < 512) ? "ok" : "MISS";
        printf "%6.3f %6.1f %6.0f %6.1f | %6.3f %6.1f %6.0f %6.1f | %5.2fx  %5.2fx %s",
          ds, b / 1048576 / ds, dr / 1024, dz / 1048576, ks, b / 1048576 / ks, kr / 1024, kz / 1048576, sp, sz, ok }')
      printf "%-6s %-7s %-3s | %s\n" "$input" "$codec" "$t" "$line"
      case "$line" in *MISS*) fails=$((fails + 1)) ;; esac
    done
  done
done
echo
echo "seconds are medians of $REPS; MB/s of uncompressed CSV; RSS is the max over runs (DuckDB's includes node)."
echo "speedup = DuckDB seconds / de seconds; size = de bytes / DuckDB bytes."
[ $fails -eq 0 ] && echo "all bars met" || echo "$fails configuration(s) miss a bar"
