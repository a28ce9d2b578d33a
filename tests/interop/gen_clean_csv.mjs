// Writes a deterministic flights-like CSV for the clean interop test into DIR/flights.csv:
//   id        int, increasing (input order, for dedupe's first/last)
//   day       date; origin, dest (3-letter codes, some padded with spaces, some lower case);
//   carrier   with null tokens ("", NA, N/A) now and then
//   delay     text: integers, padded integers, null tokens, garbage ("abc", "12x") and values
//             beyond int32 (what a cast rejects or nulls)
//   distance  int, some zero or negative (what a filter drops), some empty
//   price     double
//   note      unicode (accents, Greek, Cyrillic, CJK, emoji), quoted commas, quotes and newlines
//   flight    a key with duplicates (same day + flight several times)
// Usage: node gen_clean_csv.mjs DIR [ROWS]
import { writeFileSync } from 'node:fs';
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
const pad = (n, w = 2) => String(n).padStart(w, '0');
const quote = (s) => (/[",\r\n]/.test(s) || s !== s.trim() ? '"' + s.replace(/"/g, '""') + '"' : s);
const airports = ['JFK', 'LAX', 'ORD', 'ATL', 'SFO', 'SEA', 'BOS', 'DEN'];
const carriers = ['AA', 'DL', 'UA', 'WN', 'B6', '', 'NA', 'N/A'];
const notes = ['on time', 'Zoë', 'JOSÉ MARÍA', 'ΑΘΗΝΑ', 'Москва', '東京', 'emoji 😀', 'comma, inside',
               'say "hi"', 'two\nlines', 'Ünïcödé', 'gate  change'];

const lines = ['id,day,origin,dest,carrier,delay,distance,price,note,flight'];
for (let i = 0; i < rows; i++) {
  const d = 1 + Math.floor(rnd() * 28);
  const day = `2024-0${1 + Math.floor(rnd() * 3)}-${pad(d)}`;
  let origin = pick(airports);
  if (rnd() < 0.1) origin = '  ' + origin + ' ';
  if (rnd() < 0.05) origin = origin.toLowerCase();
  const dest = rnd() < 0.03 ? 'NA' : pick(airports);
  const carrier = pick(carriers);
  const r = rnd();
  let delay;
  if (r < 0.75) delay = String(Math.floor((rnd() - 0.2) * 300));
  else if (r < 0.82) delay = ' ' + String(Math.floor(rnd() * 60)) + '  ';
  else if (r < 0.88) delay = pick(['', 'NA', 'N/A']);
  else if (r < 0.95) delay = pick(['abc', '12x', '--', 'late']);
  else delay = pick(['99999999999', '-3000000000', '2147483648']);
  const distance = rnd() < 0.05 ? '' : String(Math.floor((rnd() - 0.1) * 3000));
  const price = (Math.round(rnd() * 1e7) / 100 + 0.01).toString();
  const note = rnd() < 0.1 ? '' : quote(pick(notes) + (rnd() < 0.2 ? ' ' : ''));
  const flight = `F${Math.floor(rnd() * 800)}`;
  lines.push([i, day, quote(origin), dest, carrier, quote(delay), distance, price, note, flight].join(','));
}
writeFileSync(join(dir, 'flights.csv'), lines.join('\n') + '\n');
console.log(JSON.stringify({ rows }));
