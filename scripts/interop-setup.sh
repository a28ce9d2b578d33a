#!/usr/bin/env bash
# Installs @duckdb/node-api (pinned in tests/interop/package.json) into tests/interop/node_modules.
set -euo pipefail
cd "$(dirname "$0")/../tests/interop"
[ -f package.json ] || exit 0
if [ ! -d node_modules/@duckdb/node-api ]; then
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
