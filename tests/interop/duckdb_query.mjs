// Runs SQL statements with DuckDB (npm @duckdb/node-api) and prints the last statement's rows as
// JSON (one array of objects). Usage: node duckdb_query.mjs "SQL" ["SQL" ...]
// Exit 1 with the error on stderr when a statement fails.
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
  for (const sql of statements) {
    const reader = await con.runAndReadAll(sql);
    rows = reader.getRowObjectsJson();
  }
  console.log(JSON.stringify(rows));
} catch (e) {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
}
