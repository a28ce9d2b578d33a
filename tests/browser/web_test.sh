#!/usr/bin/env bash
# The web page in a real headless Chromium (Debian's chromium, driven by playwright-core from
# scripts/browser-setup.sh): a scheduler and a worker, two DAGs, then web_test.mjs walks the pages.
# Screenshots go to OUT_DIR. Exits 77 (skipped) when chromium or playwright-core is absent.
set -euo pipefail
SCHED=$1 WORKER=$2 DECTL=$3 OUT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${DE_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then echo "skip: no $CHROMIUM (scripts/deps.sh installs it)"; exit 77; fi
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
  "$HERE/../../scripts/browser-setup.sh" || { echo "skip: playwright-core not installed"; exit 77; }
fi
mkdir -p "$OUT"
TMP=$(mktemp -d)
cleanup() {
  for p in ${WPID:-} ${SPID:-}; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  [ -n "${DE_KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
"$SCHED" --home "$TMP/home" --listen 127.0.0.1:0 --http 127.0.0.1:0 --lease 3s \
  --heartbeat 300ms >"$TMP/scheduler.log" 2>&1 &
SPID=$!
for _ in $(seq 1 600); do [ -s "$TMP/home/scheduler.addr" ] && break; sleep 0.1; done
ADDR=$(cat "$TMP/home/scheduler.addr") HTTP=$(cat "$TMP/home/http.addr")
mkdir -p "$TMP/data"
"$WORKER" --scheduler "$ADDR" --name w1 --slots 4 --data-root "$TMP/data" >"$TMP/worker.log" 2>&1 &
WPID=$!
"$DECTL" --server "$ADDR" dag submit "$HERE/web_demo.yaml"
"$DECTL" --server "$ADDR" dag submit "$HERE/web_slow.yaml"
"$DECTL" --server "$ADDR" dag submit "$HERE/web_up.yaml"
"$DECTL" --server "$ADDR" dag submit "$HERE/web_wait.yaml"
"$DECTL" --server "$ADDR" dag submit "$HERE/web_mapped.yaml"
"$DECTL" --server "$ADDR" trigger web_demo --wait >/dev/null
"$DECTL" --server "$ADDR" trigger web_demo --conf who=second --wait >/dev/null
# 50 instances, 2 of which fail: the run fails (exit 1), its report runs (all_done).
"$DECTL" --server "$ADDR" trigger web_mapped --wait >/dev/null || true
set +e
node "$HERE/web_test.mjs" "http://$HTTP" "$OUT" "$CHROMIUM"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "--- scheduler log"; tail -40 "$TMP/scheduler.log"; echo "--- worker log"; tail -20 "$TMP/worker.log"
fi
exit $rc
