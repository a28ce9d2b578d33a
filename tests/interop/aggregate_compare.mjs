// Compares the output of `de-worker task aggregate` with what DuckDB computes over the same input.
// Usage: node aggregate_compare.mjs OUTPUT_DIR INPUT KIND NKEYS "SQL" [--ordered] [--hive]
//   INPUT  a CSV file, a Parquet folder (KIND parquet; read recursively), or a glob
//   SQL    over the view `src` (the input as DuckDB reads it; timestamps as TIMESTAMP in UTC)
//   NKEYS  the first NKEYS output columns are the group keys (rows are matched on them)
// Checks: DuckDB reads every file written (Parquet or CSV, per _SUCCESS), the manifest's row
// count, the same column names, the same groups, and per group equal values: exact for integers,
// strings, dates, and 1e-9 relative for doubles. --ordered: the rows come in the SQL's order.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const [outDir, input, kind, nkeysArg, sql] = args.filter((a) => !a.startsWith('--'));
const nkeys = Number(nkeysArg);
const manifest = JSON.parse(readFileSync(join(outDir, '_SUCCESS'), 'utf8'));
const problems = [];
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const q = async (s) => (await con.runAndReadAll(s)).getRowObjectsJson();
await q("SET TimeZone='UTC'");

// A view that turns TIMESTAMP WITH TIME ZONE into TIMESTAMP (our Parquet timestamps are UTC).
const plainView = async (name, from) => {
  const cols = await q(`DESCRIBE SELECT * FROM ${from}`);
  const sel = cols.map((c) => (c.column_type === 'TIMESTAMP WITH TIME ZONE'
    ? `CAST("${c.column_name}" AS TIMESTAMP) AS "${c.column_name}"` : `"${c.column_name}"`));
  await q(`CREATE VIEW ${name} AS SELECT ${sel.join(', ')} FROM ${from}`);
};
const srcFrom = kind === 'csv'
  ? `read_csv('${input}', header=true, allow_quoted_nulls=false)`
  : `read_parquet('${input}/**/*.parquet', hive_partitioning=true)`;
await plainView('src', srcFrom);
const hive = flags.has('--hive');
const outFrom = manifest.format === 'csv'
  ? `read_csv('${outDir}/**/*.csv', header=true, allow_quoted_nulls=false, hive_partitioning=${hive}, union_by_name=true)`
  : `read_parquet('${outDir}/**/*.parquet', hive_partitioning=${hive})`;
await plainView('ours', outFrom);

const want = await q(sql);
const got = await q('SELECT * FROM ours');
if (String(manifest.rows) !== String(got.length)) problems.push(`manifest rows ${manifest.rows}, files hold ${got.length}`);
if (got.length !== want.length) problems.push(`${got.length} rows, DuckDB has ${want.length}`);
const wantCols = want.length ? Object.keys(want[0]) : [];
const gotCols = got.length ? Object.keys(got[0]) : [];
if (want.length && got.length && [...wantCols].sort().join() !== [...gotCols].sort().join()) {
  problems.push(`columns ${gotCols.join(',')}, DuckDB ${wantCols.join(',')}`);
}
const keyOf = (r) => JSON.stringify(wantCols.slice(0, nkeys).map((c) => (r[c] === null ? null : String(r[c]))));
const same = (a, b) => {
  if (a === null || b === null) return a === b;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = Number(a), y = Number(b);
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
    return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)) + 1e-12;
  }
  return String(a) === String(b);
};
const byKey = new Map(got.map((r) => [keyOf(r), r]));
let shown = 0;
want.forEach((w, i) => {
  const g = byKey.get(keyOf(w));
  if (!g) { if (shown++ < 5) problems.push(`group ${keyOf(w)} missing`); return; }
  if (flags.has('--ordered') && keyOf(got[i]) !== keyOf(w) && shown++ < 5) {
    problems.push(`row ${i}: group ${keyOf(got[i])}, DuckDB's order has ${keyOf(w)}`);
  }
  for (const c of wantCols) {
    if (!same(g[c], w[c]) && shown++ < 5) problems.push(`group ${keyOf(w)} ${c}: ours ${JSON.stringify(g[c])}, DuckDB ${JSON.stringify(w[c])}`);
  }
});
if (problems.length) {
  console.error(`FAIL ${outDir}:\n  ` + problems.join('\n  '));
  process.exit(1);
}
console.log(`ok ${outDir}: ${got.length} groups, ${manifest.files.length} file(s)`);
