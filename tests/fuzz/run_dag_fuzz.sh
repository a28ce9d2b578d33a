#!/usr/bin/env bash
# Builds the DAG fuzzer with clang + AddressSanitizer (build-fuzz/, as run_fuzz.sh) and runs it
# for SECONDS (default 180) on a seed corpus: the shipped DAGs and test DAGs (loader mode) and
# shell commands with hostile values (renderer mode). Crashes land in build-fuzz/.
# Usage: tests/fuzz/run_dag_fuzz.sh [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECONDS_TO_RUN="${1:-180}"
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
cmake --build "$BUILD" --target dag_fuzz -j"${JOBS:-2}"

CORPUS="$BUILD/fuzz-corpus/dag"
mkdir -p "$CORPUS"
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

cd "$BUILD"
echo "fuzzing dag (loader + shell templates) for ${SECONDS_TO_RUN}s"
"$BUILD/tests/fuzz/dag_fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len=16384 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 "$CORPUS"
