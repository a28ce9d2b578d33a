// Writes deterministic flights-like CSVs for the aggregate interop test into DIR:
//   flights.csv          ts (timestamp), day (date), origin (codes, unicode names, ~3% null),
//                        destination (quoted commas, doubled quotes, newlines), delay (int,
//                        ~8% null), distance (int), fare (double, ~5% null), cancelled (bool)
//   days/YYYY-MM-DD.csv  the same columns, one file per day of 2024-01-01 .. 2024-01-05
// Usage: node gen_flights.mjs DIR [ROWS]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const rows = Number(process.argv[3] || 30000);
let seed = 7;
const rnd = () => {  // mulberry32
  seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const origins = ['ATL', 'LAX', 'ORD', 'JFK', 'SFO', 'SEA', 'Zürich', 'São Paulo', '東京', 'ÅRE'];
const dests = ['PHL', 'BOS', 'comma, inside', 'say "hi"', 'two\nlines', 'Köln', 'DEN'];
const pad = (n, w = 2) => String(n).padStart(w, '0');
const quote = (s) => (/[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);
const header = 'ts,day,origin,destination,delay,distance,fare,cancelled';

const row = (y, m, d) => {
  const ts = `${y}-${pad(m)}-${pad(d)} ${pad(Math.floor(rnd() * 24))}:${pad(Math.floor(rnd() * 60))}:${pad(Math.floor(rnd() * 60))}`;
  const origin = rnd() < 0.03 ? '' : quote(pick(origins));
  const dest = quote(pick(dests));
  const delay = rnd() < 0.08 ? '' : String(Math.floor((rnd() - 0.2) * 300));
  const distance = String(100 + Math.floor(rnd() * 2900));
  const fare = rnd() < 0.05 ? '' : (Math.round(rnd() * 90000) / 100).toString();
  const cancelled = rnd() < 0.02 ? 'true' : 'false';
  return [ts, `${y}-${pad(m)}-${pad(d)}`, origin, dest, delay, distance, fare, cancelled].join(',');
};

const lines = [header];
for (let i = 0; i < rows; i++) {
  const y = 2023 + Math.floor(rnd() * 2), m = 1 + Math.floor(rnd() * 12), d = 1 + Math.floor(rnd() * 28);
  lines.push(row(y, m, d));
}
writeFileSync(join(dir, 'flights.csv'), lines.join('\n') + '\n');
mkdirSync(join(dir, 'days'), { recursive: true });
for (let d = 1; d <= 5; d++) {
  const day = [header];
  for (let i = 0; i < 2000; i++) day.push(row(2024, 1, d));
  writeFileSync(join(dir, 'days', `2024-01-${pad(d)}.csv`), day.join('\n') + '\n');
}
console.log(JSON.stringify({ rows }));
