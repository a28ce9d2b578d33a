#!/usr/bin/env bash
# Builds a libFuzzer target with clang + AddressSanitizer (build-fuzz/) and runs it for SECONDS
# (default 180) on a seed corpus made for it. Crashes land in build-fuzz/.
#   csv_reader  the CSV reader (option byte + file text)
#   expr        the filter expression language (parse, check, bind, evaluate)
#   dag         the DAG loader (with its limits pre-scan) and the shell-quoting template renderer
#   schedule    the cron / @daily / @every parser and its tick arithmetic, in a few time zones
#   parquet_reader  the Parquet reader (footer, schema, pages, codecs, encodings) on any bytes
# Usage: tests/fuzz/run_fuzz.sh [TARGET] [SECONDS]   (TARGET defaults to csv_reader)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARGET=csv_reader
if [ $# -gt 0 ] && ! [[ "$1" =~ ^[0-9]+$ ]]; then TARGET="$1"; shift; fi
SECONDS_TO_RUN="${1:-180}"
case "$TARGET" in
  csv_reader | expr | dag | schedule | parquet_reader) ;;
  *) echo "unknown fuzz target '$TARGET' (csv_reader, expr, dag, schedule or parquet_reader)"; exit 2 ;;
esac
BUILD="${BUILD_DIR:-$ROOT/build-fuzz}"
CC_BIN=$(command -v clang || command -v clang-14 || true)
CXX_BIN=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$CXX_BIN" ]; then echo "clang is needed (apt packages clang, libclang-rt-dev)"; exit 1; fi
SAN="-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer -g"
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER="$CC_BIN" -DCMAKE_CXX_COMPILER="$CXX_BIN" \
    -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
    -DDE_BUILD_FUZZ=ON -DDE_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$BUILD" --target "${TARGET}_fuzz" -j"${JOBS:-2}"

CORPUS="$BUILD/fuzz-corpus/$TARGET"
mkdir -p "$CORPUS"
MAX_LEN=8192
n=0
case "$TARGET" in
  csv_reader)
    # Seeds: option byte + file text.
    printf '\x00a,b,c\n1,2,3\n4,"x,y",6\n' > "$CORPUS/basic"
    printf '\x04\xef\xbb\xbfk;v\r\n1;"a\r\nb"\r\n2;"q""q"\r\n' > "$CORPUS/bom_crlf"
    printf '\x14h1\th2\n"open\t1\n2\t3' > "$CORPUS/unterminated"
    printf '\x40d,t,b,n\n2024-01-01,2024-01-01 10:00:00.5Z,true,1.5e3\nNA,,FALSE,x\n' > "$CORPUS/types"
    printf '\x80a\n2147483648\n-1\n\n7,8\n' > "$CORPUS/int32"
    printf '\x00id,name\n1,caf\xc3\xa9\n2,bad\xff\n' > "$CORPUS/utf8"
    printf 'a,b\n1,2\n' | gzip -c | { printf '\x00'; cat; } > "$CORPUS/gzip"
    if command -v zstd >/dev/null; then printf 'a,b\n1,2\n' | zstd -q -c | { printf '\x00'; cat; } > "$CORPUS/zstd"; fi
    ;;
  expr)
    # Seeds: expressions over the target's schema (a b x s t d ts).
    printf 'a > 1 and b <= 3' > "$CORPUS/compare"
    printf "s = 'JFK' or s like '%%_' or s is null" > "$CORPUS/strings"
    printf 'not t and (x * 2.5 - a / 0) >= -9223372036854775808' > "$CORPUS/arith"
    printf "d >= '2024-01-01' and ts < '2024-01-01T10:00:00Z'" > "$CORPUS/dates"
    ;;
  dag)
    # Seeds: the first byte picks the mode (0: loader on the rest, 1: "command\0value" renderer).
    MAX_LEN=16384
    n=0
    for f in "$ROOT"/dags/*.yaml "$ROOT"/tests/testdata/dags/*.yaml; do
      n=$((n + 1)); { printf '\x00'; cat "$f"; } > "$CORPUS/dag_$n"
    done
    printf '\x00dag: b\na: &a [x, x]\nb: &b [*a, *a]\ntasks: [{ id: t, type: noop, with: *b }]\n' > "$CORPUS/alias"
    printf '\x00dag: p\nparams: { n: { type: int, default: 3 } }\ntasks: [{ id: t, type: shell, with: { command: "echo {{ params.n | raw }}" } }]\n' > "$CORPUS/params"
    printf '\x01echo "dt={{ ds }}" {{ params.x }} '"'"'{{ params.x }}'"'"'\x00a"b'"'"'c' > "$CORPUS/quotes"
    printf '\x01cat <<EOF\n{{ params.x }}\nEOF\necho $(( {{ attempt }} + 1 )) $(echo {{ params.x }})\x00EOF' > "$CORPUS/heredoc"
    printf '\x01x=`echo {{ params.x }}` # {{ params.x }}\n\\{{ params.x }} ${{ params.x }}\x00$(id)\n' > "$CORPUS/unsafe"
    printf '\x01case a in a) echo "$(case b in b) echo {{ params.x }};; esac)";; esac\x00;' > "$CORPUS/case"
    ;;
  schedule)
    # Seeds: zone byte, 8 bytes of instant, the expression.
    for e in '0 3 * * *' '*/15 9-17 * * MON-FRI' '30 2 * * *' '0 0 L * *' '0 12 * * FRI#3' \
      '0 0 29 2 *' '0 0 13 * 5' '@daily' '@hourly' '@monthly' '@yearly' '@every 90m' '@every 1d' \
      '59 23 31 12 *' '0 0 30 2 *' '*/7 */5 1-7 * 0,6'; do
      n=$((n + 1))
      printf "\\x0$((n % 8))\\x00\\x10\\x32\\x54\\x76\\x01\\x00\\x00%s" "$e" > "$CORPUS/s_$n"
    done
    ;;
  parquet_reader)
    # Seeds: option byte + the Parquet files of tests/testdata (DuckDB, nested, nulls, codecs).
    MAX_LEN=65536
    for f in "$ROOT"/tests/testdata/parquet/*.parquet; do
      n=$((n + 1))
      { printf '\x00'; cat "$f"; } > "$CORPUS/p_$n"
      { printf '\x03'; cat "$f"; } > "$CORPUS/p_${n}_dict"
    done
    ;;
esac

cd "$BUILD"
echo "fuzzing $TARGET for ${SECONDS_TO_RUN}s"
"$BUILD/tests/fuzz/${TARGET}_fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len="$MAX_LEN" \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$CORPUS"
