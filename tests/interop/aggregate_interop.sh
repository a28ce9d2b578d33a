#!/usr/bin/env bash
# Interop test: `de-worker task aggregate` must compute what DuckDB (npm @duckdb/node-api)
# computes with the equivalent SQL over the same input, and DuckDB must read every file it
# writes. Flights-like data (nulls, unicode, quoted newlines) from CSV and from our Parquet (made
# by csv_to_parquet); group_by / metrics / filter / having / order_by / limit / time buckets;
# CSV and partitioned output; 1 and 2 threads; a daily-partition time range, with a day whose
# _SUCCESS is missing (the task must fail clearly, or warn with allow_missing).
# Usage: aggregate_interop.sh DE_WORKER_BINARY
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORKER="$(realpath "${1:?usage: $0 DE_WORKER_BINARY}")"
command -v node >/dev/null 2>&1 || { echo "FAIL: node is not installed (scripts/deps.sh installs nodejs)" >&2; exit 1; }
if [ ! -d "$HERE/node_modules/@duckdb/node-api" ]; then
  echo "FAIL: $HERE/node_modules/@duckdb/node-api is missing; run scripts/interop-setup.sh (npm install)" >&2
  exit 1
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/de-agg-interop-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
node "$HERE/gen_flights.mjs" "$WORK" 30000 >/dev/null

failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
task() {  # task TYPE NAME key=value ... (log in NAME.log, result in NAME.json)
  local type="$1" name="$2"; shift 2
  "$WORKER" task "$type" --data-root "$WORK" --result-file "$name.json" "$@" >"$name.log" 2>&1
}
# Our Parquet copy of the CSV (small row groups, so that there are several).
task csv_to_parquet pq input=flights.csv output=pq row_group_size=4000 || { cat pq.log; exit 1; }

check() {  # check NAME NKEYS "SQL" [--ordered] [--hive] -- key=value ...  (runs on csv and parquet)
  local name="$1" nkeys="$2" sql="$3"; shift 3
  local flags=()
  while [ "${1:-}" != "--" ]; do flags+=("$1"); shift; done
  shift
  for src in csv pq; do
    local input=flights.csv kind=csv
    [ "$src" = pq ] && { input=pq; kind=parquet; }
    local n="${name}_$src"
    if ! task aggregate "$n" input="$input" output="out/$n" "$@"; then
      fail "$n: de-worker failed:"; cat "$n.log"; continue
    fi
    node "$HERE/aggregate_compare.mjs" "$WORK/out/$n" "$WORK/$input" "$kind" "$nkeys" "$sql" "${flags[@]}" \
      || failures=$((failures + 1))
  done
}

for t in 1 2; do
  check "by_origin_t$t" 1 "SELECT origin, count(*) AS n, count(delay) AS nd, sum(delay) AS sd, avg(delay) AS ad,
      min(delay) AS mn, max(delay) AS mx, sum(distance) AS dist, sum(fare) AS sf, avg(fare) AS af
      FROM src GROUP BY origin" -- threads=$t 'group_by=[origin]' \
    'metrics={n: count(*), nd: count(delay), sd: sum(delay), ad: avg(delay), mn: min(delay), mx: max(delay), dist: sum(distance), sf: sum(fare), af: avg(fare)}'
done
check two_keys 2 "SELECT origin, destination, count(*) AS n, min(ts) AS first, max(day) AS last,
    max(fare) AS mxf, min(destination) AS md, count(DISTINCT delay) AS cd FROM src GROUP BY ALL" -- \
  'group_by=[origin, destination]' \
  'metrics={n: count(*), first: min(ts), last: max(day), mxf: max(fare), md: min(destination), cd: count_distinct(delay)}'
check buckets 2 "SELECT date_trunc('month', ts) AS month, CAST(date_trunc('week', day) AS DATE) AS week,
    count(*) AS n, sum(delay) AS sd FROM src GROUP BY ALL" -- \
  'group_by=[{bucket: month, of: ts, as: month}, {bucket: week, of: day, as: week}]' \
  'metrics={n: count(*), sd: sum(delay)}'
check hours_years 2 "SELECT date_trunc('hour', ts) AS h, CAST(date_trunc('year', day) AS DATE) AS y,
    count(*) AS n FROM src GROUP BY ALL" -- \
  'group_by=[{bucket: hour, of: ts, as: h}, {bucket: year, of: day, as: y}]' 'metrics={n: count(*)}'
check quantiles 1 "SELECT date_trunc('day', ts) AS d, count(DISTINCT origin) AS co,
    quantile_disc(delay, 0.9) AS q, quantile_cont(fare, 0.5) AS qc, median(distance) AS md
    FROM src GROUP BY ALL" -- \
  'group_by=[{bucket: day, of: ts, as: d}]' \
  'metrics={co: count_distinct(origin), q: "quantile(delay, 0.9)", qc: "quantile_cont(fare, 0.5)", md: median(distance)}'
check filtered 1 "SELECT origin, count(*) AS n, avg(delay) AS ad FROM src
    WHERE delay > 0 AND origin IS NOT NULL AND NOT cancelled GROUP BY origin HAVING count(*) > 1000
    ORDER BY ad DESC LIMIT 5" --ordered -- \
  'filter=delay > 0 and origin is not null and not cancelled' 'group_by=[origin]' \
  'metrics={n: count(*), ad: avg(delay)}' 'having=n > 1000' 'order_by=[ad desc]' limit=5
check ordered 2 "SELECT cancelled, origin, sum(distance) AS dist FROM src GROUP BY ALL
    ORDER BY cancelled, dist DESC NULLS LAST, origin" --ordered -- \
  'group_by=[cancelled, origin]' 'metrics={dist: sum(distance)}' 'order_by=[cancelled, dist desc, origin]'
check global 0 "SELECT count(*) AS n, sum(distance) AS s, count(DISTINCT destination) AS cd,
    min(origin) AS mo, max(ts) AS mt FROM src" -- \
  'metrics={n: count(*), s: sum(distance), cd: count_distinct(destination), mo: min(origin), mt: max(ts)}'
check csv_out 2 "SELECT cancelled, origin, count(*) AS n, avg(distance) AS ad FROM src GROUP BY ALL" -- \
  format=csv 'group_by=[cancelled, origin]' 'metrics={n: count(*), ad: avg(distance)}'
check partitioned 2 "SELECT cancelled, origin, count(*) AS n FROM src GROUP BY ALL" --hive -- \
  'group_by=[cancelled, origin]' 'metrics={n: count(*)}' 'partition_by=[cancelled]'

# Parquet written by DuckDB with a DECIMAL column: sums stay exact decimals.
mkdir -p duck
node "$HERE/duckdb_query.mjs" "COPY (SELECT origin, CAST(fare AS DECIMAL(10,2)) AS fare_d, delay
    FROM read_csv('$WORK/flights.csv', header=true, allow_quoted_nulls=false)) TO '$WORK/duck/f.parquet' (FORMAT PARQUET)" >/dev/null
if task aggregate decimals input=duck output=out/decimals 'group_by=[origin]' \
    'metrics={s: sum(fare_d), a: avg(fare_d), mx: max(fare_d), q: "quantile(fare_d, 0.5)", n: count(fare_d)}'; then
  node "$HERE/aggregate_compare.mjs" "$WORK/out/decimals" "$WORK/duck" parquet 1 \
    "SELECT origin, sum(fare_d) AS s, avg(fare_d) AS a, max(fare_d) AS mx, quantile_disc(fare_d, 0.5) AS q,
     count(fare_d) AS n FROM src GROUP BY origin" || failures=$((failures + 1))
  t=$(jq -c '[.schema[] | .type]' out/decimals/_SUCCESS)
  case "$t" in *decimal*) ;; *) fail "decimals: sum is not a decimal: $t" ;; esac
else
  fail "decimals: de-worker failed:"; cat decimals.log
fi

# Only the result files and _SUCCESS are in an output folder.
extra=$(find out/by_origin_t1_csv out/partitioned_pq -type f ! -name '*.parquet' ! -name _SUCCESS | wc -l)
[ "$extra" = 0 ] || fail "output folders hold other files: $(find out -type f ! -name '*.parquet' ! -name '*.csv' ! -name _SUCCESS)"
# Counts are int64, averages double (the manifest's schema).
types=$(jq -c '[.schema[] | .type]' out/by_origin_t1_pq/_SUCCESS)
[ "$types" = '["string","int64","int64","int64","double","int64","int64","int64","double","double"]' ] \
  || fail "by_origin types $types"

# Daily partitions dt=YYYY-MM-DD (each written by csv_to_parquet, with _SUCCESS) read by range.
for d in 01 02 03 04 05; do
  task csv_to_parquet "day$d" input="days/2024-01-$d.csv" output="lake/dt=2024-01-$d" row_group_size=500 \
    || { cat "day$d.log"; exit 1; }
done
range='input={path: lake, from: "2024-01-02", to: "2024-01-04"}'
if task aggregate range "$range" output=out/range 'group_by=[{bucket: day, of: ts, as: d}]' \
    'metrics={n: count(*), sd: sum(delay)}'; then
  node "$HERE/aggregate_compare.mjs" "$WORK/out/range" "$WORK/lake" parquet 1 \
    "SELECT date_trunc('day', ts) AS d, count(*) AS n, sum(delay) AS sd FROM src
     WHERE dt >= '2024-01-02' AND dt < '2024-01-04' GROUP BY ALL" || failures=$((failures + 1))
  grep -q "dt=2024-01-02" range.log || fail "range: the task log does not name the partitions read"
else
  fail "range: de-worker failed:"; cat range.log
fi
# Row-group pruning: a filter on the day skips the other days' row groups.
if task aggregate pruned input=lake output=out/pruned "filter=ts >= timestamp '2024-01-05 00:00:00'" \
    'metrics={n: count(*)}'; then
  skipped=$(jq '.counters.row_groups_skipped' pruned.json)
  [ "$skipped" -ge 16 ] || fail "pruned: only $skipped row groups skipped"
  node "$HERE/aggregate_compare.mjs" "$WORK/out/pruned" "$WORK/lake" parquet 0 \
    "SELECT count(*) AS n FROM src WHERE ts >= TIMESTAMP '2024-01-05 00:00:00'" || failures=$((failures + 1))
else
  fail "pruned: de-worker failed:"; cat pruned.log
fi
# A day in range without _SUCCESS fails the task with a clear message ...
rm "lake/dt=2024-01-03/_SUCCESS"
if task aggregate missing "$range" output=out/missing 'metrics={n: count(*)}'; then
  fail "missing: succeeded although dt=2024-01-03 has no _SUCCESS"
elif ! grep -q "dt=2024-01-03" missing.log || ! grep -q "_SUCCESS" missing.log; then
  fail "missing: unclear error:"; cat missing.log
fi
[ ! -e out/missing ] || fail "missing: an output folder was written"
# ... or is left out with a warning when allowed.
if task aggregate allowed 'input={path: lake, from: "2024-01-02", to: "2024-01-04", allow_missing: true}' \
    output=out/allowed 'metrics={n: count(*)}'; then
  n=$(node "$HERE/duckdb_query.mjs" "SELECT n FROM read_parquet('$WORK/out/allowed/*.parquet')" | jq -r '.[0].n')
  [ "$n" = 2000 ] || fail "allowed: $n rows counted, expected 2000 (one day)"
else
  fail "allowed: de-worker failed:"; cat allowed.log
fi

# Bad parameters: exit 1 with a message naming the problem, no output.
bad() {  # bad NAME EXPECTED_TEXT key=value ...
  local name="$1" text="$2"; shift 2
  if task aggregate "$name" input=flights.csv output="out/$name" "$@"; then
    fail "$name: accepted"
  elif ! grep -qF "$text" "$name.log"; then
    fail "$name: expected '$text' in:"; cat "$name.log"
  fi
}
bad bad_fn "unknown function 'summ'" 'metrics={x: summ(delay)}'
bad bad_col "did you mean delay?" 'metrics={x: sum(delya)}'
bad bad_type "sum needs an int32, int64, decimal or double column, not string" 'metrics={x: sum(origin)}'
bad bad_key "did you mean origin?" 'group_by=[orign]' 'metrics={n: count(*)}'
bad bad_param "parameter 'groupby'" 'groupby=[origin]' 'metrics={n: count(*)}'
bad bad_bucket "not one of hour, day, week, month, year" 'group_by=[{bucket: minute, of: ts}]' 'metrics={n: count(*)}'
bad bad_order "no output column 'x'" 'group_by=[origin]' 'metrics={n: count(*)}' 'order_by=[x desc]'
bad max_groups "max_groups=10" 'group_by=[ts]' 'metrics={n: count(*)}' max_groups=10

if [ $failures -ne 0 ]; then
  echo "$failures aggregate interop check(s) failed"
  exit 1
fi
echo "all aggregate interop checks passed"
