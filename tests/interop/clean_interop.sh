#!/usr/bin/env bash
# Interop test for `de-worker task clean`: over generated flights-like data (nulls, null tokens,
# padded values, unicode, quoted newlines, bad and overflowing numbers, duplicate keys) and over
# gen_csv.mjs's mixed.csv, from CSV and from our own Parquet, the output equals what DuckDB (npm
# @duckdb/node-api) computes with the equivalent SQL (trim, CASE for null tokens, TRY_CAST, WHERE,
# row_number() for dedupe), as a row multiset (EXCEPT ALL both ways), with doubles' sums within
# 1e-9 relative; reject, filter and null counts equal DuckDB's counts of the same rows; DuckDB
# reads every file written (Parquet, CSV, _rejects.csv); a failing error check writes nothing.
# Usage: clean_interop.sh DE_WORKER_BINARY
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORKER="$(realpath "${1:?usage: $0 DE_WORKER_BINARY}")"
command -v node >/dev/null 2>&1 || { echo "FAIL: node is not installed" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "FAIL: jq is not installed" >&2; exit 1; }
if [ ! -d "$HERE/node_modules/@duckdb/node-api" ]; then
  echo "FAIL: $HERE/node_modules/@duckdb/node-api is missing; run scripts/interop-setup.sh" >&2
  exit 1
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/de-clean-interop-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
node "$HERE/gen_clean_csv.mjs" "$WORK" 30000 >/dev/null
node "$HERE/gen_csv.mjs" "$WORK" 20000 >/dev/null
Q="$HERE/duckdb_query.mjs"
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# DuckDB's version of the clean steps over flights.csv (read as text, as written).
SETUP=(
  "SET TimeZone='UTC'"
  "CREATE MACRO cl(x) AS CASE WHEN trim(x) IN ('', 'NA', 'N/A') THEN NULL ELSE trim(x) END"
  "CREATE VIEW raw AS SELECT * FROM read_csv('$WORK/flights.csv', header=true, all_varchar=true, allow_quoted_nulls=false)"
  "CREATE VIEW cleaned AS SELECT id::BIGINT AS id, day::DATE AS day, upper(cl(origin)) AS origin, cl(dest) AS dest, cl(carrier) AS carrier, TRY_CAST(cl(delay) AS INTEGER) AS delay, distance::BIGINT AS distance, price::DOUBLE AS price, lower(cl(note)) AS note, cl(flight) AS flight, (cl(delay) IS NOT NULL AND TRY_CAST(cl(delay) AS INTEGER) IS NULL) AS bad_cast FROM raw"
  "CREATE VIEW exp_null AS SELECT * EXCLUDE (bad_cast) FROM cleaned WHERE distance > 0"
  "CREATE VIEW exp_reject AS SELECT * EXCLUDE (bad_cast) FROM cleaned WHERE NOT bad_cast AND distance > 0"
)
COMMON=(input=flights.csv "trim=true" 'null_if=["", NA, "N/A"]' "cast={delay: int32}"
        "filter=distance > 0" "upper=[origin]" "lower=[note]")

duck() { node "$Q" "${SETUP[@]}" "$@"; }
scalar() { duck "$1" | jq -r '.[0] | to_entries[0].value'; }

run() {  # run NAME key=value ...
  local name="$1"; shift
  if ! "$WORKER" task clean output="out/$name" --data-root "$WORK" --result-file "$name.json" \
      "$@" >"$name.log" 2>&1; then
    fail "$name: de-worker failed:"; cat "$name.log"; return 1
  fi
}

# compare NAME EXPECTED_VIEW_SQL: row multisets equal, sums of doubles within 1e-9.
compare() {
  local name="$1" exp="$2"
  local act="(SELECT * FROM read_parquet('$WORK/out/$name/*.parquet'))"
  local r
  r=$(duck "SELECT (SELECT count(*) FROM $exp) AS ne, (SELECT count(*) FROM $act) AS na,
            (SELECT count(*) FROM (SELECT * FROM $exp EXCEPT ALL SELECT * FROM $act)) AS missing,
            (SELECT count(*) FROM (SELECT * FROM $act EXCEPT ALL SELECT * FROM $exp)) AS extra,
            (SELECT abs(sum(price) - (SELECT sum(price) FROM $act)) <= 1e-9 * abs(sum(price)) FROM $exp) AS sums_ok") \
    || { fail "$name: DuckDB query failed"; return; }
  local ne na missing extra ok
  ne=$(jq -r '.[0].ne' <<<"$r"); na=$(jq -r '.[0].na' <<<"$r")
  missing=$(jq -r '.[0].missing' <<<"$r"); extra=$(jq -r '.[0].extra' <<<"$r")
  ok=$(jq -r '.[0].sums_ok' <<<"$r")
  if [ "$ne" != "$na" ] || [ "$missing" != 0 ] || [ "$extra" != 0 ] || [ "$ok" != true ]; then
    fail "$name: DuckDB expects $ne rows, we wrote $na ($missing missing, $extra extra, sums ok: $ok)"
    duck "SELECT * FROM (SELECT * FROM $exp EXCEPT ALL SELECT * FROM $act) LIMIT 3" >&2 || true
    duck "SELECT * FROM (SELECT * FROM $act EXCEPT ALL SELECT * FROM $exp) LIMIT 3" >&2 || true
  else
    echo "ok $name: $na rows equal DuckDB's"
  fi
}

counter() { jq -r ".counters[\"$2\"] // 0" "$1.json"; }
expect_eq() {  # expect_eq WHAT GOT WANT
  if [ "$2" != "$3" ]; then fail "$1: got $2, DuckDB says $3"; else echo "ok $1 = $2"; fi
}

BAD_CASTS=$(scalar "SELECT count(*) FROM cleaned WHERE bad_cast")
FILTERED_NULL=$(scalar "SELECT count(*) FROM cleaned WHERE distance IS NULL OR distance <= 0")
FILTERED_REJECT=$(scalar "SELECT count(*) FROM cleaned WHERE NOT bad_cast AND (distance IS NULL OR distance <= 0)")

# 1. on_error: null from CSV, one thread.
if run csv_null "${COMMON[@]}" on_error=null threads=1; then
  compare csv_null exp_null
  expect_eq "csv_null values nulled by casts" "$(jq -r '.summary.values_cast_nulled' csv_null.json)" "$BAD_CASTS"
  expect_eq "csv_null rows filtered" "$(counter csv_null rows_filtered)" "$FILTERED_NULL"
  expect_eq "csv_null rows rejected" "$(counter csv_null rows_rejected)" 0
fi

# 2. on_error: reject from CSV, two threads: rejects = the rows TRY_CAST makes null.
if run csv_reject "${COMMON[@]}" on_error=reject threads=2 compression=zstd; then
  compare csv_reject exp_reject
  expect_eq "csv_reject rows rejected" "$(counter csv_reject rows_rejected)" "$BAD_CASTS"
  expect_eq "csv_reject rejected for cast" "$(counter csv_reject 'rejected: cast delay to int32')" "$BAD_CASTS"
  expect_eq "csv_reject rows filtered" "$(counter csv_reject rows_filtered)" "$FILTERED_REJECT"
  expect_eq "csv_reject _rejects.csv rows" \
    "$(node "$Q" "SELECT count(*) AS n FROM read_csv('$WORK/out/csv_reject/_rejects.csv', header=true)" | jq -r '.[0].n')" "$BAD_CASTS"
  reason=$(node "$Q" "SELECT min(reason) AS r FROM read_csv('$WORK/out/csv_reject/_rejects.csv', header=true) WHERE reason LIKE '%''abc''%'" | jq -r '.[0].r')
  expect_eq "csv_reject reason text" "$reason" "cast delay 'abc' to int32"
  rows=$(jq -r '.rows' out/csv_reject/_SUCCESS)
  expect_eq "csv_reject manifest rows" "$rows" "$(counter csv_reject rows_out)"
fi

# 3. From our Parquet (a folder written by csv_to_parquet).
if "$WORKER" task csv_to_parquet input=flights.csv output=lake/flights --data-root "$WORK" >c2p.log 2>&1; then
  if run pq_null "${COMMON[@]/#input=flights.csv/input=lake/flights}" on_error=null; then
    compare pq_null exp_null
  fi
else
  fail "csv_to_parquet for the Parquet input:"; cat c2p.log
fi

# 4. dedupe on (day, flight): keep first (1 and 2 threads), keep last.
dedupe_exp() {  # dedupe_exp ASC|DESC
  echo "(SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY day, flight ORDER BY id $1) AS rn FROM exp_null) WHERE rn = 1)"
}
run dd_first1 "${COMMON[@]}" on_error=null threads=1 "dedupe={keys: [day, flight]}" && compare dd_first1 "$(dedupe_exp ASC)"
run dd_first2 "${COMMON[@]}" on_error=null threads=2 "dedupe={keys: [day, flight], keep: first}" && compare dd_first2 "$(dedupe_exp ASC)"
run dd_last2 "${COMMON[@]}" on_error=null threads=2 "dedupe={keys: [day, flight], keep: last}" && compare dd_last2 "$(dedupe_exp DESC)"
run dd_last_pq "${COMMON[@]/#input=flights.csv/input=lake/flights}" on_error=null threads=2 "dedupe={keys: [day, flight], keep: last}" && compare dd_last_pq "$(dedupe_exp DESC)"
if [ -f dd_first1.json ]; then
  expect_eq "dedupe rows removed" "$(counter dd_first1 rows_deduped)" \
    "$(scalar "SELECT count(*) - count(DISTINCT (day, flight)) FROM exp_null")"
fi

# 5. CSV output, select/drop/rename: DuckDB reads it back.
if run csv_out "${COMMON[@]}" on_error=null format=csv "select=[id, origin, delay, fare]" "rename={price: fare}"; then
  r=$(duck "SELECT (SELECT count(*) FROM exp_null) AS ne, (SELECT count(*) FROM read_csv('$WORK/out/csv_out/*.csv', header=true)) AS na, (SELECT sum(delay) FROM exp_null) AS se, (SELECT sum(delay) FROM read_csv('$WORK/out/csv_out/*.csv', header=true)) AS sa, (SELECT string_agg(column_name, ',') FROM (DESCRIBE SELECT * FROM read_csv('$WORK/out/csv_out/*.csv', header=true))) AS cols")
  expect_eq "csv_out rows" "$(jq -r '.[0].na' <<<"$r")" "$(jq -r '.[0].ne' <<<"$r")"
  expect_eq "csv_out sum(delay)" "$(jq -r '.[0].sa' <<<"$r")" "$(jq -r '.[0].se' <<<"$r")"
  expect_eq "csv_out columns" "$(jq -r '.[0].cols' <<<"$r")" "id,origin,delay,fare"
fi

# 6. Checks: warn reports counts equal to DuckDB's; error writes nothing.
if run checks_warn "${COMMON[@]}" on_error=null \
    'checks=[{not_null: [carrier, delay], severity: warn}, {unique: [day, flight], severity: warn}, {accepted_values: {column: origin, values: [JFK, LAX, ORD, ATL, SFO, SEA, BOS, DEN]}}, {range: {column: distance, min: 1, max: 2500, severity: warn}}, {regex: {column: origin, pattern: "^[A-Z]{3}$"}}, {row_count: {min: 1}}]'; then
  expect_eq "check not_null(carrier)" "$(counter checks_warn 'check: not_null(carrier)')" "$(scalar "SELECT count(*) FROM exp_null WHERE carrier IS NULL")"
  expect_eq "check not_null(delay)" "$(counter checks_warn 'check: not_null(delay)')" "$(scalar "SELECT count(*) FROM exp_null WHERE delay IS NULL")"
  expect_eq "check unique(day, flight)" "$(counter checks_warn 'check: unique(day, flight)')" "$(scalar "SELECT count(*) - count(DISTINCT (day, flight)) FROM exp_null")"
  expect_eq "check range(distance)" "$(counter checks_warn 'check: range(distance)')" "$(scalar "SELECT count(*) FROM exp_null WHERE distance > 2500")"
  expect_eq "check accepted_values(origin)" "$(counter checks_warn 'check: accepted_values(origin)')" 0
  expect_eq "check regex(origin)" "$(counter checks_warn 'check: regex(origin)')" 0
  expect_eq "manifest checks" "$(jq -c '[.checks[] | .failing_rows > 0]' out/checks_warn/_SUCCESS)" '[true,true,true,false,true,false,false]'
fi
set +e
"$WORKER" task clean output=out/checks_error --data-root "$WORK" "${COMMON[@]}" \
  'checks=[{not_null: [carrier]}]' >checks_error.log 2>&1
rc=$?
set -e
if [ $rc -ne 1 ] || [ -e out/checks_error ] || ! grep -q "not_null(carrier)" checks_error.log; then
  fail "checks_error: rc=$rc, output exists: $([ -e out/checks_error ] && echo yes || echo no)"; cat checks_error.log
else
  echo "ok checks_error: failed, nothing written"
fi

# 7. mixed.csv: BOM, CRLF, quoted newlines, unicode; trim + lower, both thread counts.
MIXED_EXP="(SELECT id::BIGINT AS id, lower(trim(name)) AS name, amount::DOUBLE AS price, qty::BIGINT AS qty, flag::BOOLEAN AS flag, day::DATE AS day, ts::TIMESTAMP AS ts, trim(category) AS category FROM read_csv('$WORK/mixed.csv', header=true, all_varchar=true, allow_quoted_nulls=false))"
for t in 1 2; do
  if run "mixed$t" input=mixed.csv trim=true "lower=[name]" "rename={amount: price}" threads=$t; then
    SETUP+=("CREATE OR REPLACE VIEW mixed_act$t AS SELECT * REPLACE (ts::TIMESTAMP AS ts) FROM read_parquet('$WORK/out/mixed$t/*.parquet')")
    act_view="(SELECT * FROM mixed_act$t)"
    r=$(duck "SELECT (SELECT count(*) FROM (SELECT * FROM $MIXED_EXP EXCEPT ALL SELECT * FROM $act_view)) AS missing, (SELECT count(*) FROM (SELECT * FROM $act_view EXCEPT ALL SELECT * FROM $MIXED_EXP)) AS extra, (SELECT count(*) FROM $act_view) AS n")
    if [ "$(jq -r '.[0].missing' <<<"$r")" != 0 ] || [ "$(jq -r '.[0].extra' <<<"$r")" != 0 ]; then
      fail "mixed$t: $r"
      duck "SELECT * FROM (SELECT * FROM $MIXED_EXP EXCEPT ALL SELECT * FROM $act_view) LIMIT 3" >&2 || true
      duck "SELECT * FROM (SELECT * FROM $act_view EXCEPT ALL SELECT * FROM $MIXED_EXP) LIMIT 3" >&2 || true
    else
      echo "ok mixed$t: $(jq -r '.[0].n' <<<"$r") rows equal DuckDB's"
    fi
  fi
done

# 8. Bad parameters: a clear error, exit 1.
set +e
"$WORKER" task clean input=flights.csv output=out/bad --data-root "$WORK" "cast={dealy: int32}" >bad.log 2>&1
rc=$?
set -e
if [ $rc -ne 1 ] || ! grep -q "cast: no column 'dealy'" bad.log; then fail "bad parameters: rc=$rc"; cat bad.log; else echo "ok bad parameters"; fi

if [ $failures -ne 0 ]; then
  echo "$failures clean interop check(s) failed"
  exit 1
fi
echo "all clean interop checks passed"
