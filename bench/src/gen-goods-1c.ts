// The 1C goods file of the 1C price-import bench and its CSV twin, both holding the same items.
// ATOL text as 1C writes a full export (../shared/formats/atol-1c.md): `##@@&&`, `#`, the three
// delete-all commands (with 1C's misspelt DELETEALLBACODES), then item lines of 33 fields with no
// ADD command, cp1251, CRLF, comma decimals. The CSV carries every value the atol decoder takes from
// those lines (the same records reach the store), UTF-8 as gen-prices.ts writes it.
// Deterministic (seeded), generated once per size and cached.
import { closeSync, existsSync, fsyncSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeText } from '@cfx/core/text';
import { ADJS, NOUNS, PACKS, cacheDir, ean13, mulberry32 } from './gen-prices.js';

/** bump when the generator changes, so an old cached file is not reused */
const GEN_VERSION = 1;

export interface GoodsItem {
  /** 1C's per-device numeric code */
  code: string;
  barcode: string;
  name: string;
  /** minor units (kopiyky) */
  price: number;
  weighed: boolean;
}

export interface GoodsFiles {
  rows: number;
  atol: { path: string; bytes: number };
  csv: { path: string; bytes: number };
  /** the price-import bench's layout: code;barcodes;name;price only */
  csv4: { path: string; bytes: number };
  /** a few items spread over the file, with what the catalog must hold for them */
  samples: GoodsItem[];
  cached: boolean;
}

const priceText = (kop: number) => `${Math.floor(kop / 100)},${String(kop % 100).padStart(2, '0')}`;

/** item i of the file (the same for both files); codes are a permutation of 1..rows, as an export sorted by name */
function* items(rows: number): Generator<GoodsItem> {
  const rnd = mulberry32(20250315 + rows);
  let step = Math.floor(rows * 0.6180339887) | 1;
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  while (gcd(step, rows) !== 1) step += 2;
  for (let i = 0; i < rows; i++) {
    const code = String(((i * step) % rows) + 1);
    const barcode = ean13('482' + String(Math.floor(rnd() * 1e9)).padStart(9, '0'));
    const noun = NOUNS[Math.floor(rnd() * NOUNS.length)]!;
    const adj = ADJS[Math.floor(rnd() * ADJS.length)]!;
    const pack = `${1 + Math.floor(rnd() * 999)}${PACKS[Math.floor(rnd() * PACKS.length)]}`;
    const price = 1 + Math.floor(rnd() * 99999);
    const name = rnd() < 0.5 ? `${noun} ${adj}` : `${noun} ${pack}`;
    yield { code, barcode, name, price, weighed: rnd() < 0.1 };
  }
}

/** one item line as 1C writes it: 33 fields and a trailing `;` */
function atolLine(it: GoodsItem): string {
  const f = new Array<string>(33).fill('');
  f[0] = it.code;
  f[1] = it.barcode;
  f[2] = it.name;
  f[3] = it.name; // receipt text: 1C repeats the name
  f[4] = priceText(it.price);
  f[5] = '0'; // stock
  f[6] = '0'; // reserved
  f[7] = `${it.weighed ? 1 : 0},1,1,0,0,0,0,1`; // weighed, sale allowed, return allowed, …
  f[13] = '1,000'; // units per barcode
  f[15] = '100'; // parent group code
  f[16] = '1'; // an item, not a group
  f[25] = `A-${it.code}`; // article
  return f.join(';') + ';';
}

const CSV_HEADER = 'code;barcodes;name;receiptName;price;stock;weighed;group;article;reserved;flags;unitsPerBarcode';
/** the same values as atolLine, under format-csv's column names (the last three become extras, as in atol) */
const csvLine = (it: GoodsItem): string =>
  [it.code, it.barcode, it.name, it.name, priceText(it.price), '0', it.weighed ? '1' : '0', '100', `A-${it.code}`, '0', `${it.weighed ? 1 : 0},1,1,0,0,0,0,1`, '1,000'].join(';');

const csv4Line = (it: GoodsItem): string => [it.code, it.barcode, it.name, priceText(it.price)].join(';');

function writeFile(path: string, head: string, line: (it: GoodsItem) => string, rows: number, encode: (s: string) => Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  let out = head;
  for (const it of items(rows)) {
    out += line(it) + '\r\n';
    if (out.length > 1 << 16) {
      writeSync(fd, encode(out));
      out = '';
    }
  }
  writeSync(fd, encode(out));
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

export function goodsFiles(rows: number): GoodsFiles {
  const dir = cacheDir();
  const atol = join(dir, `goods-1c-${rows}-v${GEN_VERSION}.txt`);
  const csv = join(dir, `goods-1c-${rows}-v${GEN_VERSION}.full.csv`);
  const csv4 = join(dir, `goods-1c-${rows}-v${GEN_VERSION}-4col.full.csv`);
  const cached = existsSync(atol) && existsSync(csv) && existsSync(csv4);
  if (!cached) {
    writeFile(csv4, 'code;barcodes;name;price\r\n', csv4Line, rows, (s) => Buffer.from(s, 'utf8'));
    writeFile(atol, '##@@&&\r\n#\r\n$$$DELETEALLWARES\r\n$$$DELETEALLBACODES\r\n$$$DELETEALLASPECTREMAINS\r\n', atolLine, rows, (s) => encodeText(s, 'cp1251'));
    writeFile(csv, CSV_HEADER + '\r\n', csvLine, rows, (s) => Buffer.from(s, 'utf8'));
  }
  // first, last, and a few in between (the file order, not the code order)
  const want = new Set([0, 1, Math.floor(rows / 3), Math.floor(rows / 2), Math.floor((rows * 7) / 9), rows - 1]);
  const samples: GoodsItem[] = [];
  let i = 0;
  for (const it of items(rows)) if (want.has(i++)) samples.push(it);
  return { rows, atol: { path: atol, bytes: statSync(atol).size }, csv: { path: csv, bytes: statSync(csv).size }, csv4: { path: csv4, bytes: statSync(csv4).size }, samples, cached };
}
