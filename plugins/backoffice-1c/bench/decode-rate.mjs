// Measures (not a test) decode rows/s of a 100k-item 1C goods file through the `atol` format
// against the `csv` format on CSVs with the same items. Build first: npx tsc -b plugins/backoffice-1c plugins/format-csv
//   node plugins/backoffice-1c/bench/decode-rate.mjs [rows=100000] [rounds=7]
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { createAtolFormat } from '../dist/index.js';
import { createCsvFormat } from '../../format-csv/dist/index.js';

const ROWS = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const NOUNS = ['Молоко', 'Кефір', 'Хліб', 'Батон', 'Сир', 'Масло', 'Ковбаса', 'Цукор', 'Борошно', 'Гречка', 'Рис', 'Чай', 'Кава', 'Сік', 'Вода'];
const ADJS = ['свіже', 'домашнє', 'класичне', 'вершкове', 'житній', 'твердий', 'білий', 'чорний', 'молочний', 'яблучний'];
let seed = 20250315;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

const items = [];
for (let i = 1; i <= ROWS; i++) {
  const kop = 1 + Math.floor(rnd() * 99999);
  items.push({
    code: String(i),
    bc: '482' + String(Math.floor(rnd() * 1e10)).padStart(10, '0'),
    name: `${NOUNS[Math.floor(rnd() * NOUNS.length)]} ${ADJS[Math.floor(rnd() * ADJS.length)]} ${1 + Math.floor(rnd() * 999)} г`,
    price: `${Math.floor(kop / 100)},${String(kop % 100).padStart(2, '0')}`,
    weighed: rnd() < 0.1 ? '1' : '0',
  });
}
const dir = mkdtempSync(join(tmpdir(), 'atol-bench-'));
const files = {};
// the 1C goods file: full export, 33 fields, cp1251, CRLF, as goods-full.txt
let atol = '##@@&&\r\n#\r\n$$$DELETEALLWARES\r\n$$$DELETEALLBACODES\r\n$$$DELETEALLASPECTREMAINS\r\n';
for (const it of items) atol += `${it.code};${it.bc};${it.name};${it.name};${it.price};0;0;${it.weighed},1,1,0,0,0,0,1;;;;;;1,000;;100;1;0;;;;;;;;A-${it.code};;;;;;;\r\n`;
files.atol = join(dir, 'goods.txt');
writeFileSync(files.atol, iconv.encode(atol, 'cp1251'));
// a short goods file with the 4 values only (code;barcodes;name;;price): the atol twin of the bench's CSV
let atolSlim = '##@@&&\r\n#\r\n$$$DELETEALLWARES\r\n';
for (const it of items) atolSlim += `${it.code};${it.bc};${it.name};;${it.price}\r\n`;
files.atolSlim = join(dir, 'goods-slim.txt');
writeFileSync(files.atolSlim, iconv.encode(atolSlim, 'cp1251'));
// CSV, same records out (every value the atol decode yields, extras as extra columns)
let full = '#full\r\ncode;barcodes;name;receiptName;price;stock;weighed;group;article;reserved;flags;unitsPerBarcode;field18\r\n';
for (const it of items) full += `${it.code};${it.bc};${it.name};${it.name};${it.price};0;${it.weighed};100;A-${it.code};0;${it.weighed},1,1,0,0,0,0,1;1,000;0\r\n`;
files.csvSame = join(dir, 'same.csv');
writeFileSync(files.csvSame, iconv.encode(full, 'cp1251'));
// CSV, the bench's 4 columns (code;barcodes;name;price)
let slim = '#full\r\ncode;barcodes;name;price\r\n';
for (const it of items) slim += `${it.code};${it.bc};${it.name};${it.price}\r\n`;
files.csvSlim = join(dir, 'slim.csv');
writeFileSync(files.csvSlim, iconv.encode(slim, 'cp1251'));

// the machine may be shared: CPU time of this process (user + system) is reported beside wall time
async function run(fmt, file) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const d = await fmt.decodePrices(createReadStream(file, { highWaterMark: 256 * 1024 }), { fileName: file, options: {} });
  let n = 0;
  for await (const r of d.records) if (r.op !== 'clear') n++;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  if (n !== ROWS) throw new Error(`${file}: ${n} records`);
  return { wall: ROWS / s, cpu: ROWS / ((c.user + c.system) / 1e6) };
}
const cases = [
  ['atol  1C goods file (33 fields)', createAtolFormat(), files.atol],
  ['csv   same records (13 columns)', createCsvFormat(), files.csvSame],
  ['csv   4 columns (bench layout)', createCsvFormat(), files.csvSlim],
  ['atol  4 values per line', createAtolFormat(), files.atolSlim],
];
const res = Object.fromEntries(cases.map(([k]) => [k, []]));
for (let r = 0; r < ROUNDS + 1; r++) {
  for (const [k, fmt, file] of cases) {
    const v = await run(fmt, file);
    if (r > 0) res[k].push(v); // round 0 warms up
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const fmtN = (v) => Math.round(v).toLocaleString('en');
const cpu = {}, best = {};
for (const [k, , file] of cases) {
  cpu[k] = median(res[k].map((r) => r.cpu));
  best[k] = Math.max(...res[k].map((r) => r.wall));
  console.log(`${k}: ${fmtN(cpu[k])} rows/CPU-s (median of ${ROUNDS}), best wall ${fmtN(best[k])} rows/s, median wall ${fmtN(median(res[k].map((r) => r.wall)))} rows/s, ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB`);
}
const ratio = (o) => {
  const [a, same, slim4, aSlim] = Object.values(o);
  return `atol 1C file / csv same records = ${(a / same).toFixed(2)}x; atol 4 values / csv 4 columns = ${(aSlim / slim4).toFixed(2)}x; (atol 1C file / csv 4 columns = ${(a / slim4).toFixed(2)}x)`;
};
console.log(`CPU time:  ${ratio(cpu)}`);
console.log(`best wall: ${ratio(best)}`);
rmSync(dir, { recursive: true, force: true });
