#!/usr/bin/env bash
# Interop test: DuckDB (npm @duckdb/node-api) must read every Parquet output of
# `de-worker task csv_to_parquet` exactly as it reads the source CSV: schema, row count, null
# counts, aggregates and the full row multiset; across codecs, compressed inputs, threads,
# partitioned (hive) and rotated outputs, and rows rejected from a dirty file.
# Usage: csv_to_parquet_interop.sh DE_WORKER_BINARY
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORKER="$(realpath "${1:?usage: $0 DE_WORKER_BINARY}")"
if ! command -v node >/dev/null 2>&1; then
  echo "FAIL: node is not installed (scripts/deps.sh installs nodejs)" >&2
  exit 1
fi
if [ ! -d "$HERE/node_modules/@duckdb/node-api" ]; then
  echo "FAIL: $HERE/node_modules/@duckdb/node-api is missing; run scripts/interop-setup.sh (npm install)" >&2
  exit 1
fi
if ! command -v zstd >/dev/null 2>&1; then
  echo "FAIL: the zstd command is needed to make a .csv.zst input (apt package zstd)" >&2
  exit 1
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/de-interop-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
node "$HERE/gen_csv.mjs" "$WORK" 40000 >/dev/null
zstd -q -f mixed.csv -o mixed.csv.zst

failures=0
run() {  # run NAME SOURCE_CSV [--hive] -- key=value ...
  local name="$1" src="$2"; shift 2
  local hive=""
  if [ "${1:-}" = "--hive" ]; then hive="--hive"; shift; fi
  [ "${1:-}" = "--" ] && shift
  if ! "$WORKER" task csv_to_parquet output="out/$name" --data-root "$WORK" \
      --result-file "$name.json" "$@" >"$name.log" 2>&1; then
    echo "FAIL $name: de-worker failed:"; cat "$name.log"; failures=$((failures + 1)); return
  fi
  if ! node "$HERE/compare.mjs" "$WORK/$src" "$WORK/out/$name" $hive; then
    failures=$((failures + 1))
  fi
}

for codec in snappy zstd gzip none; do
  run "plain_$codec" mixed.csv -- input=mixed.csv compression=$codec
done
run gz_input mixed.csv -- input=mixed.csv.gz threads=1
run zst_input mixed.csv -- input=mixed.csv.zst compression=zstd threads=2
run by_category mixed.csv --hive -- input=mixed.csv "partition_by=[category]"
run by_month mixed.csv --hive -- input=mixed.csv "partition_by=[{column: ts, granularity: month}]" compression=zstd
run rotated mixed.csv -- input=mixed.csv target_file_size=256KB row_group_size=5000

# Rotation really happened.
files=$(jq '.counters.files' rotated.json)
if [ "$files" -lt 3 ]; then echo "FAIL rotated: expected several files, got $files"; failures=$((failures + 1)); fi

# Explicit schema, custom null token, and rejected rows.
"$WORKER" task csv_to_parquet input=dirty.csv output=out/dirty --data-root "$WORK" \
  "schema={a: int64}" --result-file dirty.json >dirty.log 2>&1 || { cat dirty.log; failures=$((failures + 1)); }
got=$(jq -c '[.counters.rows_in, .counters.rows_out, .counters.rows_rejected]' dirty.json)
if [ "$got" != "[6,3,3]" ]; then echo "FAIL dirty: counters $got, expected [6,3,3]"; failures=$((failures + 1)); fi
rej=$(node "$HERE/duckdb_query.mjs" "SELECT list(line ORDER BY line) AS l FROM read_csv('$WORK/out/dirty/_rejects.csv', header=true)" | jq -c '.[0].l')
if [ "$rej" != '["3","4","8"]' ] && [ "$rej" != '[3,4,8]' ]; then echo "FAIL dirty: reject lines $rej"; failures=$((failures + 1)); fi
n=$(node "$HERE/duckdb_query.mjs" "SELECT count(*) AS n, count(DISTINCT b) AS d FROM read_parquet('$WORK/out/dirty/*.parquet')" | jq -c '.[0]')
if [ "$n" != '{"n":"3","d":"3"}' ]; then echo "FAIL dirty: parquet $n"; failures=$((failures + 1)); fi

# Bad input: a clear error and exit 1, never a crash.
head -c 30000 mixed.csv.gz > trunc.csv.gz
set +e
"$WORKER" task csv_to_parquet input=trunc.csv.gz output=out/trunc --data-root "$WORK" >trunc.log 2>&1
rc=$?
set -e
if [ $rc -ne 1 ] || ! grep -q "truncated gzip stream" trunc.log; then
  echo "FAIL truncated gzip: rc=$rc"; cat trunc.log; failures=$((failures + 1))
fi

if [ $failures -ne 0 ]; then
  echo "$failures interop check(s) failed"
  exit 1
fi
echo "all csv_to_parquet interop checks passed"
