// Runs SQL statements with DuckDB (npm @duckdb/node-api) and prints the last statement's rows as
// JSON (one array of objects). Usage: node duckdb_query.mjs "SQL" ["SQL" ...]
// Exit 1 with the error on stderr when a statement fails. With DUCKDB_TIMING=1 the wall seconds
// of the last statement go to stderr as `duckdb_seconds=S` (the benchmark uses it).
import { DuckDBInstance } from '@duckdb/node-api';

const statements = process.argv.slice(2);
if (statements.length === 0) {
  console.error('usage: node duckdb_query.mjs "SQL" ["SQL" ...]');
  process.exit(2);
}
try {
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  let rows = [];
  let seconds = 0;
  for (const sql of statements) {
    const t0 = performance.now();
    const reader = await con.runAndReadAll(sql);
    seconds = (performance.now() - t0) / 1000;
    rows = reader.getRowObjectsJson();
  }
  if (process.env.DUCKDB_TIMING) console.error(`duckdb_seconds=${seconds.toFixed(3)}`);
  console.log(JSON.stringify(rows));
} catch (e) {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
}
