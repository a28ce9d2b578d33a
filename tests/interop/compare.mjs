// Compares DuckDB reading our Parquet output with DuckDB reading the source CSV directly.
// Usage: node compare.mjs SOURCE_CSV OUTPUT_DIR [--hive] [--skip-col NAME ...]
// Checks: the _SUCCESS manifest's schema equals the Parquet schema DuckDB sees (and DuckDB's own
// CSV sniffing of the source agrees on every type), row count, per-column null counts, count
// distinct, min, max, sum/avg of numbers, total string length, and that the two row multisets are
// equal (EXCEPT ALL both ways). Prints what differs and exits 1; prints "ok ..." and exits 0.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [src, outDir, ...rest] = process.argv.slice(2);
const hive = rest.includes('--hive');
const manifest = JSON.parse(readFileSync(join(outDir, '_SUCCESS'), 'utf8'));
const duckType = { bool: 'BOOLEAN', int32: 'INTEGER', int64: 'BIGINT', double: 'DOUBLE',
                   date: 'DATE', timestamp: 'TIMESTAMP', string: 'VARCHAR' };
const problems = [];

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
await q("SET TimeZone='UTC'");

const pq = `read_parquet('${outDir}/**/*.parquet', hive_partitioning=${hive})`;
// 1. Parquet schema vs manifest.
const pqCols = await q(`DESCRIBE SELECT * FROM ${pq}`);
const pqType = Object.fromEntries(pqCols.map((c) => [c.column_name, c.column_type]));
for (const f of manifest.schema) {
  let t = pqType[f.name];
  if (t === 'TIMESTAMP WITH TIME ZONE') t = 'TIMESTAMP';
  if (t !== duckType[f.type]) problems.push(`column ${f.name}: manifest ${f.type}, DuckDB sees ${pqType[f.name]}`);
}
// 2. The source read by DuckDB with the same types (plus partition columns as VARCHAR).
const srcCols = await q(`DESCRIBE SELECT * FROM read_csv('${src}', allow_quoted_nulls=false)`);
const inFile = new Set(manifest.schema.map((f) => f.name));
const cols = srcCols.map((c) => c.column_name);
for (const c of srcCols) {
  const f = manifest.schema.find((x) => x.name === c.column_name);
  if (f && duckType[f.type] !== c.column_type) {
    problems.push(`column ${f.name}: we inferred ${f.type}, DuckDB's sniffer says ${c.column_type}`);
  }
}
const types = Object.fromEntries(srcCols.map((c) => {
  const f = manifest.schema.find((x) => x.name === c.column_name);
  return [c.column_name, f ? duckType[f.type] : c.column_type];
}));
const colSpec = '{' + cols.map((c) => `'${c}': '${types[c]}'`).join(', ') + '}';
await q(`CREATE VIEW s AS SELECT * FROM read_csv('${src}', header=true, allow_quoted_nulls=false, columns=${colSpec})`);
const sel = cols.map((c) => {
  if (!inFile.has(c) && hive) return `CAST("${c}" AS ${types[c]}) AS "${c}"`;
  if (pqType[c] === 'TIMESTAMP WITH TIME ZONE') return `CAST("${c}" AS TIMESTAMP) AS "${c}"`;
  return `"${c}"`;
}).join(', ');
await q(`CREATE VIEW p AS SELECT ${sel} FROM ${pq}`);

// 3. Aggregates.
const aggs = ['count(*) AS n'];
for (const c of cols) {
  const t = types[c];
  aggs.push(`count("${c}") AS "${c}_count"`, `count(DISTINCT "${c}") AS "${c}_distinct"`,
            `CAST(min("${c}") AS VARCHAR) AS "${c}_min"`, `CAST(max("${c}") AS VARCHAR) AS "${c}_max"`);
  if (['BIGINT', 'INTEGER', 'DOUBLE'].includes(t)) {
    aggs.push(`round(sum("${c}"), 4) AS "${c}_sum"`, `round(avg("${c}"), 6) AS "${c}_avg"`);
  }
  if (t === 'VARCHAR') aggs.push(`sum(strlen("${c}")) AS "${c}_len"`);
}
const a = (await q(`SELECT ${aggs.join(', ')} FROM s`))[0];
const b = (await q(`SELECT ${aggs.join(', ')} FROM p`))[0];
for (const k of Object.keys(a)) {
  if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) problems.push(`${k}: csv ${JSON.stringify(a[k])} parquet ${JSON.stringify(b[k])}`);
}
// 4. Same rows.
const d1 = (await q('SELECT count(*) AS n FROM (SELECT * FROM s EXCEPT ALL SELECT * FROM p)'))[0].n;
const d2 = (await q('SELECT count(*) AS n FROM (SELECT * FROM p EXCEPT ALL SELECT * FROM s)'))[0].n;
if (String(d1) !== '0' || String(d2) !== '0') problems.push(`row sets differ: ${d1} rows only in csv, ${d2} only in parquet`);
if (String(manifest.rows) !== String(a.n)) problems.push(`manifest rows ${manifest.rows}, csv has ${a.n}`);

if (problems.length) {
  console.error(`FAIL ${outDir}:\n  ` + problems.join('\n  '));
  process.exit(1);
}
console.log(`ok ${outDir}: ${a.n} rows, ${cols.length} columns, ${manifest.files.length} file(s)`);
