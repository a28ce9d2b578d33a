#!/usr/bin/env bash
# Builds and runs every test (unit, integration with real processes, DuckDB interop) via ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/build.sh
# The interop tests read our Parquet with a real DuckDB from the npm registry.
scripts/interop-setup.sh
# A short run of the DAG fuzzer (loader + shell templates) when clang is installed;
# tests/fuzz/run_fuzz.sh dag SECONDS runs it for longer. FUZZ_SECONDS=0 skips it.
if [ "${FUZZ_SECONDS:-10}" != 0 ] && { command -v clang++ || command -v clang++-14; } >/dev/null; then
  tests/fuzz/run_fuzz.sh dag "${FUZZ_SECONDS:-10}"
fi
# The browser test drives Debian's chromium with playwright-core from the npm registry.
scripts/browser-setup.sh
cd "$BUILD_DIR"
ctest --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
