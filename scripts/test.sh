#!/usr/bin/env bash
# Builds and runs every test via ctest (unit, integration with real processes, DuckDB interop,
# browser, deploy, the short chaos run), after clang checks: thread safety and a short fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/build.sh
# The interop tests read our Parquet with a real DuckDB from the npm registry.
scripts/interop-setup.sh
HAVE_CLANG=0
{ command -v clang++ || command -v clang++-14; } >/dev/null && HAVE_CLANG=1
# Checked thread safety: clang -Wthread-safety -Werror over server/, worker/ and common/
# (syntax only, with the flags of $BUILD_DIR/compile_commands.json). TSA=0 skips it.
if [ "${TSA:-1}" != 0 ] && [ "$HAVE_CLANG" = 1 ]; then
  tests/tsa/check.sh "$BUILD_DIR"
fi
# A short run of every fuzzer (CSV reader, expressions, DAG loader + shell templates, schedules,
# Parquet reader) when clang is installed; tests/fuzz/run_fuzz.sh TARGET SECONDS runs one for
# longer. FUZZ_SECONDS=0 skips them.
if [ "${FUZZ_SECONDS:-5}" != 0 ] && [ "$HAVE_CLANG" = 1 ]; then
  for target in csv_reader expr dag schedule parquet_reader; do
    tests/fuzz/run_fuzz.sh "$target" "${FUZZ_SECONDS:-5}"
  done
fi
# The browser test drives Debian's chromium with playwright-core from the npm registry.
scripts/browser-setup.sh
cd "$BUILD_DIR"
ctest --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
