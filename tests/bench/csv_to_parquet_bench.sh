#!/usr/bin/env bash
# csv_to_parquet vs DuckDB, side by side in one run: the same input (gzip and plain), the same
# Parquet codec (snappy, zstd), 1 and 2 threads; N repetitions each; reports the median seconds,
# MB/s (of uncompressed CSV), peak RSS, output size and our/DuckDB ratios, and checks the bars
# (>= 1.5x DuckDB's throughput, output <= 1.2x DuckDB's size, peak RSS < 512 MB).
# Input `big` is the real input size: the 3M rows ten times over (one header), gzipped, ~1 GB of
# CSV, made once per invocation in the temp dir (never committed); its bars are >= 4x DuckDB's
# throughput at 2 threads and peak RSS < 256 MB.
# Usage: tests/bench/csv_to_parquet_bench.sh FLIGHTS_CSV_GZ [DE_WORKER]
#   env: REPS (default 3), THREADS ("1 2"), CODECS ("snappy zstd"), INPUTS ("gz plain big"),
#        BASELINE_WORKER (another de-worker, e.g. main's, timed in the same loop: "base" column)
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
INPUTS=${INPUTS:-gz plain big}
BASE="${BASELINE_WORKER:-}"
[ -z "$BASE" ] || BASE="$(realpath "$BASE")"
cp "$SRC" "$WORK/in.csv.gz"
gzip -dc "$SRC" > "$WORK/in.csv"
CSV_BYTES=$(stat -c %s "$WORK/in.csv")
echo "input: $SRC ($(stat -c %s "$SRC") bytes gz, $CSV_BYTES bytes csv); worker: $WORKER; reps: $REPS; cores: $(nproc)"
[ -z "$BASE" ] || echo "baseline worker: $BASE"
if [[ " $INPUTS " == *" big "* ]]; then
  # The real input size: the rows ten times over under one header, gzipped (default level).
  { head -n 1 "$WORK/in.csv"; for _ in $(seq 10); do tail -n +2 "$WORK/in.csv"; done; } \
    | gzip -c > "$WORK/big.csv.gz"
  BIG_BYTES=$(gzip -dc "$WORK/big.csv.gz" | wc -c)
  echo "big: $(stat -c %s "$WORK/big.csv.gz") bytes gz, $BIG_BYTES bytes csv"
fi

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Each run prints "seconds peak_kb output_bytes cpu_seconds".
ours() {  # ours INPUT CODEC THREADS [WORKER]
  rm -rf "$WORK/out_de"
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/time.txt" "${4:-$WORKER}" task csv_to_parquet \
    input="$1" output=out_de compression="$2" threads="$3" --data-root "$WORK" >/dev/null \
    2>"$WORK/de.err" || { cat "$WORK/de.err"; exit 1; }
  read -r secs kb user sys < "$WORK/time.txt"
  echo "$secs $kb $(find "$WORK/out_de" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}') $(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')"
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

printf "\n%-6s %-7s %-3s | %-36s | %-30s | %-7s %-6s %s\n" input codec thr \
  "de: s  MB/s  RSS(MB) size(MB) cpu-s" "duckdb: s  MB/s  RSS(MB) size(MB)" speedup size "bars"
fails=0
for input in $INPUTS; do
  file=in.csv; bytes=$CSV_BYTES; speed_bar=1.5; rss_bar=512
  [ "$input" = gz ] && file=in.csv.gz
  [ "$input" = big ] && { file=big.csv.gz; bytes=$BIG_BYTES; speed_bar=4; rss_bar=256; }
  for codec in ${CODECS:-snappy zstd}; do
    for t in ${THREADS:-1 2}; do
      : > "$WORK/de.txt"; : > "$WORK/dk.txt"; : > "$WORK/base.txt"
      for _ in $(seq "$REPS"); do   # interleave the engines
        ours "$file" "$codec" "$t" >> "$WORK/de.txt"
        [ -z "$BASE" ] || ours "$file" "$codec" "$t" "$BASE" >> "$WORK/base.txt"
        duck "$file" "$codec" "$t" >> "$WORK/dk.txt"
      done
      ds=$(cut -d' ' -f1 "$WORK/de.txt" | median); dr=$(cut -d' ' -f2 "$WORK/de.txt" | sort -g | tail -1)
      dz=$(cut -d' ' -f3 "$WORK/de.txt" | tail -1); dc=$(cut -d' ' -f4 "$WORK/de.txt" | median)
      ks=$(cut -d' ' -f1 "$WORK/dk.txt" | median); kr=$(cut -d' ' -f2 "$WORK/dk.txt" | sort -g | tail -1)
      kz=$(cut -d' ' -f3 "$WORK/dk.txt" | tail -1)
      # The bar for 1 GB gzip is at 2 threads; at 1 thread it is only reported.
      bar=$speed_bar; [ "$input" = big ] && [ "$t" != 2 ] && bar=0
      line=$(awk -v ds="$ds" -v dr="$dr" -v dz="$dz" -v dc="$dc" -v ks="$ks" -v kr="$kr" -v kz="$kz" \
        -v b="$bytes" -v bar="$bar" -v rbar="$rss_bar" 'BEGIN {
        sp = ks / ds; sz = dz / kz; ok = (sp >= bar && sz <= 1.2 && dr / 1024 < rbar) ? "ok" : "MISS";
        printf "%6.3f %6.1f %6.0f %6.1f %6.2f | %6.3f %6.1f %6.0f %6.1f | %5.2fx  %5.2fx %s",
          ds, b / 1048576 / ds, dr / 1024, dz / 1048576, dc, ks, b / 1048576 / ks, kr / 1024,
          kz / 1048576, sp, sz, ok }')
      printf "%-6s %-7s %-3s | %s\n" "$input" "$codec" "$t" "$line"
      case "$line" in *MISS*) fails=$((fails + 1)) ;; esac
      if [ -n "$BASE" ]; then
        bs=$(cut -d' ' -f1 "$WORK/base.txt" | median); br=$(cut -d' ' -f2 "$WORK/base.txt" | sort -g | tail -1)
        bc=$(cut -d' ' -f4 "$WORK/base.txt" | median)
        awk -v bs="$bs" -v br="$br" -v bc="$bc" -v ks="$ks" -v b="$bytes" 'BEGIN {
          printf "  base              | %6.3f %6.1f %6.0f %6s %6.2f | %31s | %5.2fx\n",
            bs, b / 1048576 / bs, br / 1024, "", bc, "", ks / bs }'
      fi
    done
  done
done
echo
echo "seconds are medians of $REPS; MB/s of uncompressed CSV; RSS is the max over runs (DuckDB's includes node)."
echo "cpu-s = user + system seconds of de-worker (median); load average now: $(cut -d' ' -f1-3 /proc/loadavg)."
echo "speedup = DuckDB seconds / de seconds; size = de bytes / DuckDB bytes."
echo "bars: >= 1.5x DuckDB, size <= 1.2x, RSS < 512 MB; big (1 GB gzip): >= 4x at 2 threads, RSS < 256 MB."
[ $fails -eq 0 ] && echo "all bars met" || echo "$fails configuration(s) miss a bar"
