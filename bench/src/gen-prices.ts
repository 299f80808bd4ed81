// The price CSV the import bench uses: 1C-like, UTF-8, `;`-separated, comma decimals, CRLF,
// Cyrillic names, one EAN-13 barcode per row. Deterministic (seeded), generated once and cached.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** bump when the generator changes, so an old cached file is not reused */
const GEN_VERSION = 3;

export const NOUNS = ['Молоко', 'Кефір', 'Хліб', 'Батон', 'Сир', 'Масло', 'Ковбаса', 'Цукор', 'Борошно', 'Гречка', 'Рис', 'Чай', 'Кава', 'Сік', 'Вода', 'Печиво', 'Цукерки', 'Шоколад', 'Йогурт', 'Сметана', 'Ряжанка', 'Олія', 'Майонез', 'Кетчуп', 'Макарони', 'Пельмені', 'Вареники', 'Сосиски', 'Шинка', 'Оселедець'];
export const ADJS = ['свіже', 'домашнє', 'класичне', 'вершкове', 'пряний', 'житній', 'твердий', 'білий', 'чорний', 'зелений', 'гречаний', 'молочний', 'яблучний', 'столова', 'газована', 'вівсяне', 'ніжний', 'копчена', 'варена', 'сільське'];
export const PACKS = ['г', 'кг', 'мл', 'л', 'шт'];

/** a small seeded PRNG: the generated files are the same on every machine */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function ean13(body12: string): string {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (body12.charCodeAt(i) - 48) * (i % 2 ? 3 : 1);
  return body12 + String((10 - (sum % 10)) % 10);
}

/**
 * Row order: `name` (as a 1C export sorted by description: codes and barcodes in random order, so
 * the code primary key gets random-order inserts) or `code` (sorted by code: sequential key inserts).
 */
export type RowOrder = 'name' | 'code';

export interface PriceCsv {
  path: string;
  order: RowOrder;
  rows: number;
  bytes: number;
  cached: boolean;
}

/** the cache dir: /dev/shm when there is one (the file is read from RAM by both sides), else tmpdir */
export function cacheDir(): string {
  const d = process.env.CFX_BENCH_CACHE || (existsSync('/dev/shm') ? '/dev/shm/cfx-bench-cache' : join(tmpdir(), 'cfx-bench-cache'));
  mkdirSync(d, { recursive: true });
  return d;
}

/** The same values (codes, barcodes, names, prices drawn the same way) in either order; barcodes are random in both. */
export function priceCsv(rows: number, order: RowOrder = 'name'): PriceCsv {
  const path = join(cacheDir(), `prices-${rows}-${order}-v${GEN_VERSION}.full.csv`);
  if (existsSync(path)) return { path, order, rows, bytes: statSync(path).size, cached: true };
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  const rnd = mulberry32(20240601 + rows);
  // a permutation of 1..rows for the codes: i * step mod m, step coprime with m
  const m = rows;
  let step = Math.floor(m * 0.6180339887) | 1;
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  while (gcd(step, m) !== 1) step += 2;
  let out = 'code;barcodes;name;price\r\n';
  for (let i = 0; i < rows; i++) {
    const code = String((order === 'code' ? i : (i * step) % m) + 1).padStart(8, '0');
    const bc = ean13('482' + String(Math.floor(rnd() * 1e9)).padStart(9, '0'));
    const noun = NOUNS[Math.floor(rnd() * NOUNS.length)]!;
    const adj = ADJS[Math.floor(rnd() * ADJS.length)]!;
    const pack = `${1 + Math.floor(rnd() * 999)}${PACKS[Math.floor(rnd() * PACKS.length)]}`;
    const kop = 1 + Math.floor(rnd() * 99999);
    const price = `${Math.floor(kop / 100)},${String(kop % 100).padStart(2, '0')}`;
    // ~56 bytes a row on average, as the file the performance table describes (56 MB / 1M rows)
    const name = rnd() < 0.5 ? `${noun} ${adj}` : `${noun} ${pack}`;
    out += `${code};${bc};${name};${price}\r\n`;
    if (out.length > 1 << 16) {
      writeSync(fd, out);
      out = '';
    }
  }
  writeSync(fd, out);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
  return { path, order, rows, bytes: statSync(path).size, cached: false };
}
