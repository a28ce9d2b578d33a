#!/usr/bin/env bash
# Static checks of deploy/: promtool accepts the scrape config and the alert rules; the Grafana
# dashboard is valid JSON; every de_ metric name used by the dashboard and the rules is one that
# de-scheduler exports (taken from a real scrape of a scheduler started here on a free port).
# Usage: check_deploy.sh DE_SCHEDULER_BIN
set -euo pipefail
SCHEDULER=${1:?usage: check_deploy.sh DE_SCHEDULER_BIN}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEPLOY=$ROOT/deploy
fail() { echo "check_deploy: $*" >&2; exit 1; }
command -v promtool >/dev/null || fail "promtool not found: install Debian's prometheus package (scripts/deps.sh)"
command -v jq >/dev/null || fail "jq not found (scripts/deps.sh)"
command -v curl >/dev/null || fail "curl not found (scripts/deps.sh)"

promtool check config "$DEPLOY/prometheus.yml"
promtool check rules "$DEPLOY/alerts.yml"
DASH=$DEPLOY/grafana/dashboards/de.json
jq -e '.panels | length > 0' "$DASH" >/dev/null || fail "$DASH is not valid JSON with panels"
grep -q 'grafana/dashboards' "$DEPLOY/docker-compose.yml" || fail "compose file does not provision the dashboard"

WORK=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
"$SCHEDULER" --home "$WORK/home" --listen 127.0.0.1:0 --http 127.0.0.1:0 >"$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
  [ -s "$WORK/home/http.addr" ] && break
  kill -0 "$PID" 2>/dev/null || fail "de-scheduler exited: $(cat "$WORK/log")"
  sleep 0.1
done
[ -s "$WORK/home/http.addr" ] || fail "de-scheduler did not write http.addr"
curl -fsS "http://$(cat "$WORK/home/http.addr")/metrics" >"$WORK/metrics"
# Exported series names: families, plus _bucket/_sum/_count of histograms.
awk '$1 == "#" && $2 == "TYPE" { print $3; if ($4 == "histogram") { print $3 "_bucket"; print $3 "_sum"; print $3 "_count" } }' \
  "$WORK/metrics" | sort -u >"$WORK/exported"
[ "$(wc -l <"$WORK/exported")" -gt 20 ] || fail "the scrape exported too few metrics: $(cat "$WORK/metrics")"

jq -r '.. | objects | select(has("expr")) | .expr' "$DASH" >"$WORK/dash_exprs"
[ -s "$WORK/dash_exprs" ] || fail "the dashboard has no queries"
grep -o 'expr: .*\|^ *sum by.*\|^ *[/].*' "$DEPLOY/alerts.yml" >"$WORK/rule_exprs"
bad=0
for src in dash_exprs rule_exprs; do
  for name in $(grep -oE '\bde_[a-z0-9_]+' "$WORK/$src" | sort -u); do
    if ! grep -qx "$name" "$WORK/exported"; then
      echo "check_deploy: $src uses $name, which de-scheduler does not export" >&2
      bad=1
    fi
  done
done
[ "$bad" -eq 0 ] || exit 1
echo "check_deploy: ok ($(wc -l <"$WORK/exported") exported series names; dashboard and rules use only those)"
