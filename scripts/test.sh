#!/usr/bin/env bash
# Builds and runs every test (unit, integration with real processes, DuckDB interop) via ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
scripts/build.sh
# The interop tests read our Parquet with a real DuckDB from the npm registry.
scripts/interop-setup.sh
# The browser test drives Debian's chromium with playwright-core from the npm registry.
scripts/browser-setup.sh
cd "$BUILD_DIR"
ctest --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
