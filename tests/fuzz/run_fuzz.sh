#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + AddressSanitizer (build-fuzz/) and runs the CSV reader
# fuzzer for SECONDS (default 180) on a seed corpus of CSV shapes. Crashes land in build-fuzz/.
# Usage: tests/fuzz/run_fuzz.sh [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECONDS_TO_RUN="${1:-180}"
BUILD="${BUILD_DIR:-$ROOT/build-fuzz}"
CC_BIN=$(command -v clang || command -v clang-14 || true)
CXX_BIN=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$CXX_BIN" ]; then echo "clang is needed (apt packages clang, libclang-rt-dev)"; exit 1; fi
SAN="-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer -g"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$CC_BIN" -DCMAKE_CXX_COMPILER="$CXX_BIN" \
  -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" \
  -DDE_BUILD_FUZZ=ON -DDE_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" --target csv_reader_fuzz -j"${JOBS:-2}"

CORPUS="$BUILD/fuzz-corpus/csv_reader"
mkdir -p "$CORPUS"
# Seeds: option byte + file text.
printf '\x00a,b,c\n1,2,3\n4,"x,y",6\n' > "$CORPUS/basic"
printf '\x04\xef\xbb\xbfk;v\r\n1;"a\r\nb"\r\n2;"q""q"\r\n' > "$CORPUS/bom_crlf"
printf '\x14h1\th2\n"open\t1\n2\t3' > "$CORPUS/unterminated"
printf '\x40d,t,b,n\n2024-01-01,2024-01-01 10:00:00.5Z,true,1.5e3\nNA,,FALSE,x\n' > "$CORPUS/types"
printf '\x80a\n2147483648\n-1\n\n7,8\n' > "$CORPUS/int32"
printf '\x00id,name\n1,caf\xc3\xa9\n2,bad\xff\n' > "$CORPUS/utf8"
printf 'a,b\n1,2\n' | gzip -c | { printf '\x00'; cat; } > "$CORPUS/gzip"
if command -v zstd >/dev/null; then printf 'a,b\n1,2\n' | zstd -q -c | { printf '\x00'; cat; } > "$CORPUS/zstd"; fi

cd "$BUILD"
echo "fuzzing csv_reader for ${SECONDS_TO_RUN}s"
"$BUILD/tests/fuzz/csv_reader_fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 "$CORPUS"
