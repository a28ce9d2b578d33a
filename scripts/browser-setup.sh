#!/usr/bin/env bash
# Installs playwright-core (pinned in tests/browser/package.json) into tests/browser/node_modules.
# It drives Debian's chromium (scripts/deps.sh installs it); no browser is downloaded.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"
if [ ! -d node_modules/playwright-core ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
