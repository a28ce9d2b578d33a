// Writes deterministic test CSVs for the interop tests into DIR:
//   mixed.csv      BOM, CRLF, quoted delimiters/newlines/doubled quotes, unicode, ~10% nulls,
//                  int, double, bool, date, timestamp, string and low-cardinality category columns
//   mixed.csv.gz   the same bytes gzipped as two members (multi-member gzip)
//   dirty.csv      a few rows that do not fit (field count, bad int) between good rows
// Usage: node gen_csv.mjs DIR [ROWS]
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dir = process.argv[2];
const rows = Number(process.argv[3] || 40000);
let seed = 42;
const rnd = () => {  // mulberry32
  seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const names = ['alice', 'Bob', 'Zoë', 'José María', '日本語', 'emoji 😀', 'comma, inside',
               'say "hi"', 'two\nlines', 'crlf\r\ninside', 'tab\there', '  spaced  ', 'Ünïcödé'];
const cats = ['north', 'south', 'east', 'west', 'zentrum', 'außen'];
const pad = (n, w = 2) => String(n).padStart(w, '0');
const quote = (s) => (/[",\r\n]/.test(s) || s !== s.trim() ? '"' + s.replace(/"/g, '""') + '"' : s);

const lines = ['id,name,amount,qty,flag,day,ts,category'];
for (let i = 0; i < rows; i++) {
  const nul = () => rnd() < 0.1;
  const id = String(i);
  const name = nul() ? '' : quote(pick(names) + (rnd() < 0.3 ? ' #' + Math.floor(rnd() * 1000) : ''));
  const amount = nul() ? '' : (Math.round((rnd() - 0.3) * 1e6) / 100).toString();
  const qty = nul() ? '' : String(Math.floor((rnd() - 0.5) * 2e9));
  const flag = nul() ? '' : pick(['true', 'false', 'TRUE', 'False']);
  const y = 2020 + Math.floor(rnd() * 5), m = 1 + Math.floor(rnd() * 12), d = 1 + Math.floor(rnd() * 28);
  const day = nul() ? '' : `${y}-${pad(m)}-${pad(d)}`;
  const ts = nul() ? '' : `${y}-${pad(m)}-${pad(d)} ${pad(Math.floor(rnd() * 24))}:${pad(Math.floor(rnd() * 60))}:${pad(Math.floor(rnd() * 60))}` +
      (rnd() < 0.3 ? '.' + pad(Math.floor(rnd() * 1e6), 6) : '');
  const category = nul() ? '' : pick(cats);
  lines.push([id, name, amount, qty, flag, day, ts, category].join(','));
}
const text = '\uFEFF' + lines.join('\r\n') + '\r\n';
const buf = Buffer.from(text, 'utf8');
writeFileSync(join(dir, 'mixed.csv'), buf);
const half = buf.indexOf('\r\n', Math.floor(buf.length / 2)) + 2;
writeFileSync(join(dir, 'mixed.csv.gz'),
              Buffer.concat([gzipSync(buf.subarray(0, half)), gzipSync(buf.subarray(half))]));
writeFileSync(join(dir, 'dirty.csv'),
              'a,b,c\n1,x,2024-01-01\n2,y\nnot_an_int,z,2024-01-02\n4,w,2024-01-03\n5,"v\nv",2024-01-04\n6,u,2024-01-05,extra\n');
console.log(JSON.stringify({ rows, bytes: buf.length }));
