// Shared by the store's unit tests (*.test.ts beside this file); not part of the store.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CfxError } from '../api/errors.js';
import type { PriceRecord, Product, Sale } from '../api/model.js';
import type { CollectInput, Store } from './index.js';

/** a temp dir removed after the test file; `freshDir()` names a new store dir inside it */
export function tempDirs(prefix: string): { root: string; freshDir(): string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  return { root, freshDir: () => join(root, `d${++n}`) };
}

export function raw(file: string): Database.Database {
  return new Database(file);
}

/** the query plan of a statement, one line */
export const plan = (db: Database.Database, sql: string): string =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('a', 'b') as { detail: string }[]).map((r) => r.detail).join(' | ');

export function isCode(code: string, ...parts: RegExp[]) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof CfxError, `expected CfxError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const p of parts) assert.match(e.message, p);
    return true;
  };
}

export const product = (code: string, price: number, barcodes: string[], extra: Partial<Product> = {}): Product => ({ code, name: `Item ${code}`, price, barcodes, ...extra });

export async function applyAll(store: Store, name: string, mode: 'full' | 'delta', recs: PriceRecord[]) {
  const a = store.priceImport.begin({ name, size: 100 + recs.length, mtime: new Date('2024-03-01T10:00:00Z'), sha256: `sha-${name}`, mode });
  for (const r of recs) {
    a.apply(r);
    await new Promise((res) => setImmediate(res)); // the real import awaits the decoder between records
  }
  return a.commit();
}

export const fullCatalog: PriceRecord[] = [
  { op: 'clear' },
  { op: 'upsert', product: product('1001', 1250, ['4820000000011', '4820000000012'], { unit: 'шт', taxGroup: 'A', stock: 12500 }) },
  { op: 'upsert', product: product('1002', 4999, ['4820000000028'], { weighed: true, unit: 'кг', extras: { shelf: '7' } }) },
  { op: 'upsert', product: product('1003', 100, []) },
];

/** a till's sale of terminal T1 */
export function sale(id: string, total: number, time = '2024-03-02T10:15:00+02:00'): Sale {
  return {
    saleId: id,
    terminalId: 'T1',
    time,
    kind: 'sale',
    lines: [{ code: '1001', qty: 2000, price: total / 2, amount: total }],
    payments: [{ kind: 'cash', amount: total }],
    total,
  };
}

// ---- the office side: collected sales and their delivery batches

export function officeSale(terminalId: string, saleId: string, total: number, day = '2025-03-15', hour = 10): Sale {
  return {
    saleId,
    terminalId,
    time: `${day}T${String(hour).padStart(2, '0')}:00:00+02:00`,
    kind: 'sale',
    lines: [{ code: '1', qty: 1000, price: total, amount: total }],
    payments: [{ kind: 'cash', amount: total }],
    total,
  };
}
export const input = (s: Sale): CollectInput => ({ sale: s, localDate: s.time.slice(0, 10), body: JSON.stringify(s) });
export const file = (name: string) => ({ name, size: 100, sha256: `sha-${name}` });
export const keys = (list: { terminalId: string; saleId: string }[]) => list.map((c) => `${c.terminalId}/${c.saleId}`);
