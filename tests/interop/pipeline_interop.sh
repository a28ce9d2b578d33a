#!/usr/bin/env bash
# End-to-end pipeline test: the example DAGs (dags/flights_daily.yaml: convert -> clean ->
# daily_stats; dags/flights_monthly.yaml: waits for the month, then aggregates the daily marts and
# the cleaned lake over its data interval) run under a real de-scheduler and de-worker on 31 days
# of generated flights, and DuckDB, computing the whole pipeline with SQL from the raw CSVs, must
# agree with every number the marts hold.
# Usage: pipeline_interop.sh DE_SCHEDULER DE_WORKER DECTL
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SCHEDULER="$(realpath "${1:?usage: $0 DE_SCHEDULER DE_WORKER DECTL}")"
WORKER="$(realpath "$2")"
DECTL="$(realpath "$3")"
ROWS=${PIPELINE_ROWS:-1500}
[ -d "$HERE/node_modules/@duckdb/node-api" ] || { echo "FAIL: run scripts/interop-setup.sh first" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/de-pipeline-XXXXXX")"
PIDS=()
cleanup() {
  local rc=$? p
  # The worker is killed outright (a TERM would make it drain, waiting for a scheduler that is
  # stopping too); its tasks die with it.
  [ "${#PIDS[@]}" -lt 2 ] || kill -KILL "${PIDS[1]}" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    echo "--- scheduler log (tail)"; tail -n 30 "$WORK/home/scheduler.log" 2>/dev/null || true
    echo "--- worker log (tail)"; tail -n 30 "$WORK/home/worker.log" 2>/dev/null || true
    echo "(files kept in $WORK)"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
mkdir -p "$WORK/home" "$WORK/data/raw"
for d in $(seq 1 31); do
  day=$(printf '2024-01-%02d' "$d")
  "$REPO/scripts/gen-flights.sh" "$day" "$ROWS" "$d" | gzip -1 >"$WORK/data/raw/flights-$day.csv.gz"
done

"$SCHEDULER" --home "$WORK/home" --listen 127.0.0.1:0 --http 127.0.0.1:0 >"$WORK/home/scheduler.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do [ -s "$WORK/home/scheduler.addr" ] && break; sleep 0.1; done
[ -s "$WORK/home/scheduler.addr" ] || { echo "FAIL: the scheduler did not start"; exit 1; }
export DE_SERVER=$(head -n 1 "$WORK/home/scheduler.addr")
"$WORKER" --scheduler "$DE_SERVER" --name pipeline-worker --slots 4 --data-root "$WORK/data" \
  >"$WORK/home/worker.log" 2>&1 &
PIDS+=($!)
"$DECTL" dag submit "$REPO/dags/flights_daily.yaml" "$REPO/dags/flights_monthly.yaml" >/dev/null

# The scheduler catches up 31 daily runs, then the monthly run leaves `waiting`.
state=""
for _ in $(seq 1500); do
  state=$("$DECTL" runs list flights_monthly --output json 2>/dev/null | jq -r '(if type == "array" then . else .runs end)[0].state // ""' || true)
  case "$state" in success|failed|cancelled) break ;; esac
  sleep 0.2
done
if [ "$state" != success ]; then
  echo "FAIL: flights_monthly ended '$state'"
  "$DECTL" runs list --limit 40 || true
  for r in $("$DECTL" runs list --limit 100 | awk '$4 == "failed" { print $1 }' | head -n 2); do "$DECTL" runs show "$r" || true; done
  exit 1
fi
daily=$("$DECTL" runs list flights_daily --limit 100 --output json | jq -c '(if type == "array" then . else .runs end) | [map(select(.state == "success")) | length, length]')
[ "$daily" = "[31,31]" ] || { echo "FAIL: [successful, all] daily runs: $daily, expected [31,31]"; exit 1; }

# The whole pipeline as SQL over the raw CSVs (`src`): convert rejects rows whose distance or
# delay is not an integer ("" and, for this DAG, NA are null); clean trims and upper-cases text, drops rows with
# distance <= 0 or origin = destination, and removes duplicates of the dedupe keys.
CLEANED="WITH typed AS (
  SELECT CAST(date AS DATE) AS date, upper(trim(carrier)) AS carrier, CAST(flight AS INTEGER) AS flight,
         upper(trim(origin)) AS origin, upper(trim(destination)) AS destination, dep_time,
         TRY_CAST(distance AS INTEGER) AS distance, TRY_CAST(NULLIF(delay, 'NA') AS INTEGER) AS delay
  FROM src
  WHERE (distance IS NULL OR TRY_CAST(distance AS INTEGER) IS NOT NULL)
    AND (NULLIF(delay, 'NA') IS NULL OR TRY_CAST(NULLIF(delay, 'NA') AS INTEGER) IS NOT NULL)),
cleaned AS (
  SELECT DISTINCT ON (date, carrier, flight, origin, destination, dep_time) *
  FROM typed WHERE distance > 0 AND origin <> destination)"
SRC="$WORK/data/raw/*.csv.gz"
CMP="$HERE/aggregate_compare.mjs"
fails=0
node "$CMP" "$WORK/data/marts/monthly_delays/dt=2024-01-01" "$SRC" csv 1 "$CLEANED
  SELECT origin, count(*) AS flights, avg(delay) AS avg_delay, quantile_disc(delay, 0.95) AS p95_delay,
         max(delay) AS max_delay
  FROM cleaned WHERE delay IS NOT NULL GROUP BY origin HAVING count(*) >= 100
  ORDER BY flights DESC, origin LIMIT 20" --ordered || fails=$((fails + 1))
node "$CMP" "$WORK/data/marts/monthly/dt=2024-01-01" "$SRC" csv 1 "$CLEANED
  SELECT origin, count(*) AS flights, count(delay) AS delayed_flights, sum(delay) AS total_delay,
         sum(distance) AS distance, count(DISTINCT date) AS days
  FROM cleaned GROUP BY origin ORDER BY flights DESC" || fails=$((fails + 1))
node "$CMP" "$WORK/data/marts/daily/dt=2024-01-17" "$SRC" csv 1 "$CLEANED
  SELECT origin, count(*) AS flights, count(delay) AS delayed_flights, sum(delay) AS total_delay,
         avg(delay) AS avg_delay, sum(distance) AS distance
  FROM cleaned WHERE date = DATE '2024-01-17' GROUP BY origin" || fails=$((fails + 1))
[ "$fails" -eq 0 ] || { echo "$fails pipeline comparison(s) failed"; exit 1; }
echo "pipeline ok: 31 daily runs and the monthly run succeeded; DuckDB agrees with every mart"
