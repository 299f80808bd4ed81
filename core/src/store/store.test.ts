import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { PriceRecord, Product, Sale } from '../api/model.js';
import { Store } from './index.js';
import { CATALOG_SEARCH_SQL } from './store.js';
import { CATALOG_MIGRATIONS, JOURNAL_MIGRATIONS, latestVersion, migrate, type Migration } from './schema.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `d${++n}`);

function raw(file: string): Database.Database {
  return new Database(file);
}

/** the query plan of a statement, one line */
const plan = (db: Database.Database, sql: string): string =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('a', 'b') as { detail: string }[]).map((r) => r.detail).join(' | ');

function isCode(code: string, ...parts: RegExp[]) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof CfxError, `expected CfxError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const p of parts) assert.match(e.message, p);
    return true;
  };
}

const product = (code: string, price: number, barcodes: string[], extra: Partial<Product> = {}): Product => ({ code, name: `Item ${code}`, price, barcodes, ...extra });

async function applyAll(store: Store, name: string, mode: 'full' | 'delta', recs: PriceRecord[]) {
  const a = store.beginPriceApply({ name, size: 100 + recs.length, mtime: new Date('2024-03-01T10:00:00Z'), sha256: `sha-${name}`, mode });
  for (const r of recs) {
    a.apply(r);
    await new Promise((res) => setImmediate(res)); // the real import awaits the decoder between records
  }
  return a.commit();
}

const fullCatalog: PriceRecord[] = [
  { op: 'clear' },
  { op: 'upsert', product: product('1001', 1250, ['4820000000011', '4820000000012'], { unit: 'шт', taxGroup: 'A', stock: 12500 }) },
  { op: 'upsert', product: product('1002', 4999, ['4820000000028'], { weighed: true, unit: 'кг', extras: { shelf: '7' } }) },
  { op: 'upsert', product: product('1003', 100, []) },
];

function sale(id: string, total: number, time = '2024-03-02T10:15:00+02:00'): Sale {
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

describe('Store: files and migrations', () => {
  it('creates both files in WAL mode, migrates once, and keeps data across reopen', () => {
    const dir = freshDir();
    const s1 = Store.open(dir);
    assert.deepEqual(s1.paths, { catalog: join(dir, 'catalog.db'), journal: join(dir, 'journal.db') });
    s1.kvSet('tofu:host', 'SHA256:abc');
    s1.close();
    for (const [f, version] of [['catalog.db', latestVersion(CATALOG_MIGRATIONS)], ['journal.db', latestVersion(JOURNAL_MIGRATIONS)]] as const) {
      const db = raw(join(dir, f));
      assert.equal(db.pragma('user_version', { simple: true }), version, f);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal', f);
      db.close();
    }
    const s2 = Store.open(dir);
    assert.equal(s2.kvGet('tofu:host'), 'SHA256:abc');
    s2.kvSet('tofu:host', 'SHA256:def');
    assert.equal(s2.kvGet('tofu:host'), 'SHA256:def');
    assert.equal(s2.kvGet('missing'), undefined);
    s2.close();
    const db = raw(join(dir, 'journal.db'));
    assert.equal(db.pragma('user_version', { simple: true }), latestVersion(JOURNAL_MIGRATIONS));
    assert.equal(db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'kv'").pluck().get(), 1);
    db.close();
  });

  it('refuses a file written by a newer cfx, naming file and versions, and leaves it untouched', () => {
    const dir = freshDir();
    Store.open(dir).close();
    const db = raw(join(dir, 'journal.db'));
    db.pragma('user_version = 7');
    db.close();
    const newer = isCode(ErrorCodes.STORE_VERSION, /journal\.db/, /schema version 7/, new RegExp(`supports up to version ${latestVersion(JOURNAL_MIGRATIONS)}`), /newer cfx; upgrade cfx or restore a backup/);
    assert.throws(() => Store.open(dir), newer);
    assert.throws(() => Store.open(dir, { readonly: true }), newer);
    const check = raw(join(dir, 'journal.db'));
    assert.equal(check.pragma('user_version', { simple: true }), 7);
    check.close();
  });

  it('read-only: clear error when missing, reads an existing store, refuses writes', async () => {
    const dir = freshDir();
    assert.throws(() => Store.open(dir, { readonly: true }), isCode(ErrorCodes.STORE_IO, /catalog\.db not found/));
    const w = Store.open(dir);
    await applyAll(w, 'goods1.csv', 'full', fullCatalog);
    w.kvSet('k', 'v');
    const r = Store.open(dir, { readonly: true }); // while the writer is still open, like `cfx status` next to the daemon
    assert.equal(r.readonly, true);
    assert.equal(r.catalogCount(), 3);
    assert.equal(r.getProduct('1002')?.price, 4999);
    assert.equal(r.kvGet('k'), 'v');
    assert.throws(() => r.kvSet('k', 'x'), isCode(ErrorCodes.USAGE, /read-only/));
    assert.throws(() => r.beginPriceApply({ name: 'x', size: 1, sha256: 'x', mode: 'full' }), isCode(ErrorCodes.USAGE));
    assert.throws(() => r.recordSale(sale('S1', 100), '2024-03-02', '{}'), isCode(ErrorCodes.USAGE));
    r.close();
    w.close();
  });
});

describe('Store: price apply', () => {
  it('a full file replaces the catalog; products and barcodes read back exactly', async () => {
    const s = Store.open(freshDir());
    const r1 = await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    assert.deepEqual(r1, { upserts: 3, deletes: 0, disables: 0, cleared: true, products: 3, inboxId: 1 });
    assert.deepEqual(s.getProduct('1001'), {
      code: '1001',
      barcodes: ['4820000000011', '4820000000012'],
      name: 'Item 1001',
      price: 1250,
      unit: 'шт',
      weighed: false,
      taxGroup: 'A',
      stock: 12500,
      enabled: true,
    });
    assert.deepEqual(s.getProduct('1002'), {
      code: '1002',
      barcodes: ['4820000000028'],
      name: 'Item 1002',
      price: 4999,
      unit: 'кг',
      weighed: true,
      enabled: true,
      extras: { shelf: '7' },
    });
    assert.equal(s.findByBarcode('4820000000012')?.code, '1001');

    const r2 = await applyAll(s, 'goods2.csv', 'full', [
      { op: 'clear' },
      { op: 'upsert', product: product('1002', 5100, ['4820000000035']) },
      { op: 'upsert', product: product('2001', 700, ['4820000000011']) }, // a barcode moved to another product
      { op: 'upsert', product: product('2001', 750, ['4820000000011']) }, // a repeated code: the last line wins
    ]);
    assert.deepEqual(r2, { upserts: 3, deletes: 0, disables: 0, cleared: true, products: 2, inboxId: 2 });
    assert.equal(s.catalogCount(), 2);
    assert.equal(s.getProduct('1001'), undefined);
    assert.equal(s.getProduct('1003'), undefined);
    assert.equal(s.getProduct('1002')?.price, 5100);
    assert.deepEqual(s.getProduct('1002')?.barcodes, ['4820000000035']);
    assert.equal(s.getProduct('2001')?.price, 750);
    assert.equal(s.findByBarcode('4820000000011')?.code, '2001');
    assert.equal(s.findByBarcode('4820000000028'), undefined);
    assert.equal(s.findByBarcode('4820000000012'), undefined);
    s.close();
  });

  it('a delta upserts, deletes and disables, keeping the barcode index in step', async () => {
    const s = Store.open(freshDir());
    await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    const r = await applyAll(s, 'delta1.csv', 'delta', [
      { op: 'upsert', product: product('1001', 1300, ['4820000000011', '4820000000099'], { unit: 'шт' }) },
      { op: 'delete', code: '1002' },
      { op: 'disable', code: '1003' },
      { op: 'upsert', product: product('3001', 25, ['4820000000301'], { enabled: false }) },
      { op: 'delete', code: 'no-such-code' },
    ]);
    assert.deepEqual(r, { upserts: 2, deletes: 2, disables: 1, cleared: false, products: 3, inboxId: 2 });
    assert.equal(s.getProduct('1001')?.price, 1300);
    assert.deepEqual(s.getProduct('1001')?.barcodes, ['4820000000011', '4820000000099']);
    assert.equal(s.findByBarcode('4820000000099')?.code, '1001');
    assert.equal(s.findByBarcode('4820000000012'), undefined, 'barcode dropped from the product is gone');
    assert.equal(s.getProduct('1002'), undefined);
    assert.equal(s.findByBarcode('4820000000028'), undefined);
    assert.equal(s.getProduct('1003')?.enabled, false);
    assert.equal(s.getProduct('1003')?.price, 100);
    assert.equal(s.getProduct('3001')?.enabled, false);
    assert.equal(s.findByBarcode('4820000000301')?.price, 25);
    s.close();
  });

  it('findByBarcode prefers the enabled product when a barcode is shared', async () => {
    const s = Store.open(freshDir());
    await applyAll(s, 'g.csv', 'full', [
      { op: 'clear' },
      { op: 'upsert', product: product('A', 100, ['111'], { enabled: false }) },
      { op: 'upsert', product: product('B', 200, ['111']) },
    ]);
    assert.equal(s.findByBarcode('111')?.code, 'B');
    s.close();
  });

  it('rollback leaves the previous catalog and no inbox_log row; readers never see a half-applied file', async () => {
    const s = Store.open(freshDir());
    await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    const a = s.beginPriceApply({ name: 'goods2.csv', size: 10, sha256: 'sha-goods2', mode: 'full' });
    a.apply({ op: 'clear' });
    a.apply({ op: 'upsert', product: product('9001', 1, ['4829999999999']) });
    await new Promise((res) => setImmediate(res));
    // sales must still be journaled while the catalog transaction is open
    assert.equal(s.recordSale(sale('S-during', 500), '2024-03-02', JSON.stringify(sale('S-during', 500))), 'recorded');
    assert.equal(s.catalogCount(), 3, 'reads see the last committed catalog during the apply');
    assert.equal(s.getProduct('1001')?.price, 1250);
    assert.equal(s.getProduct('9001'), undefined);
    assert.throws(() => s.beginPriceApply({ name: 'other', size: 1, sha256: 'o', mode: 'delta' }), isCode(ErrorCodes.INTERNAL, /still open/));
    a.rollback();
    assert.equal(a.active, false);
    assert.throws(() => a.apply({ op: 'delete', code: '1001' }), isCode(ErrorCodes.INTERNAL));
    assert.equal(s.catalogCount(), 3);
    assert.equal(s.getProduct('1001')?.price, 1250);
    assert.equal(s.findByBarcode('4820000000028')?.code, '1002');
    assert.equal(s.findByBarcode('4829999999999'), undefined);
    assert.equal(s.inboxOpen('goods2.csv', 'sha-goods2'), undefined);
    assert.equal(s.lastInbox()?.name, 'goods1.csv');
    // the writer is free again
    await applyAll(s, 'goods3.csv', 'delta', [{ op: 'disable', code: '1001' }]);
    assert.equal(s.getProduct('1001')?.enabled, false);
    s.close();
  });

  it('a bad price aborts nothing by itself, and close() rolls back an open apply', async () => {
    const dir = freshDir();
    const s = Store.open(dir);
    await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    const a = s.beginPriceApply({ name: 'bad.csv', size: 1, sha256: 'sha-bad', mode: 'full' });
    a.apply({ op: 'clear' });
    assert.throws(() => a.apply({ op: 'upsert', product: product('X', 12.5, []), line: 4 }), isCode(ErrorCodes.FORMAT_INVALID, /"X" \(line 4\)/, /not integer minor units/));
    assert.equal(a.active, true, 'the caller decides: quarantine the file and roll back');
    s.close();
    const s2 = Store.open(dir);
    assert.equal(s2.catalogCount(), 3);
    assert.equal(s2.inboxOpen('bad.csv', 'sha-bad'), undefined);
    s2.close();
  });

  it('the inbox log: a delivery stays open until confirmed; a later delivery of the same name and bytes is applied again', async () => {
    const s = Store.open(freshDir());
    assert.equal(s.lastInbox(), undefined);
    await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    const e = s.inboxOpen('goods1.csv', 'sha-goods1.csv');
    assert.ok(e);
    assert.equal(e.name, 'goods1.csv');
    assert.equal(e.size, 104);
    assert.equal(e.mtime, '2024-03-01T10:00:00.000Z');
    assert.equal(e.sha256, 'sha-goods1.csv');
    assert.equal(e.records, 3);
    assert.equal(e.mode, 'full');
    assert.equal(e.skipped, 0);
    assert.equal(e.confirmedAt, undefined);
    assert.match(e.appliedAt, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(s.inboxOpen('goods1.csv', 'other-sha'), undefined);
    assert.equal(s.inboxOpen('goods9.csv', 'sha-goods1.csv'), undefined);
    assert.deepEqual(s.lastInbox(), e);
    assert.deepEqual(s.inboxOpenAll().map((x) => x.id), [e.id]);
    s.inboxConfirm(e.id);
    assert.equal(s.inboxOpen('goods1.csv', 'sha-goods1.csv'), undefined, 'confirmed: history, not "already applied"');
    assert.match(s.lastInbox()!.confirmedAt!, /^\d{4}-/);
    // the office writes the same name again (even the same bytes): a new delivery, applied again
    await applyAll(s, 'goods1.csv', 'full', [{ op: 'clear' }, ...fullCatalog.slice(1, 2)]);
    assert.equal(s.catalogCount(), 1);
    const again = s.inboxOpen('goods1.csv', 'sha-goods1.csv');
    assert.ok(again && again.id > e.id);
    // a newer delivery of a name closes an open older one: the office wrote over it
    await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    assert.deepEqual(s.inboxOpenAll().map((x) => x.id), [s.lastInbox()!.id]);
    assert.equal(s.recentInbox(5).length, 3);
    s.close();
  });

  it('listProducts pages by code and matches code, barcode or name prefix', async () => {
    const s = Store.open(freshDir());
    await applyAll(s, 'g.csv', 'full', [
      { op: 'clear' },
      { op: 'upsert', product: { code: '100', name: 'Молоко 2,5%', price: 3450, barcodes: ['4820001'] } },
      { op: 'upsert', product: { code: '101', name: 'Milk 1L', price: 4000, barcodes: ['4820002'] } },
      { op: 'upsert', product: { code: '200', name: 'Хліб', price: 2100, barcodes: ['590003'] } },
      { op: 'upsert', product: { code: '300', name: '100% juice', price: 5500, barcodes: [] } },
    ]);
    const codes = (ps: Product[]) => ps.map((p) => p.code);
    assert.deepEqual(codes(s.listProducts()), ['100', '101', '200', '300']);
    assert.deepEqual(codes(s.listProducts({ limit: 2, offset: 1 })), ['101', '200']);
    assert.deepEqual(codes(s.listProducts({ q: '10' })), ['100', '101', '300']);
    assert.deepEqual(codes(s.listProducts({ q: '590' })), ['200']);
    assert.deepEqual(codes(s.listProducts({ q: 'молоко' })), ['100']);
    assert.deepEqual(codes(s.listProducts({ q: 'MILK' })), ['101']);
    assert.deepEqual(codes(s.listProducts({ q: '100%' })), ['300']);
    assert.deepEqual(codes(s.listProducts({ q: '%' })), []);
    assert.equal(s.listProducts({ q: 'хліб' })[0]?.price, 2100);
    s.close();
  });

  it('catalog search: Cyrillic name prefix in any case, code prefix, barcode; merged pages neither repeat nor skip', async () => {
    const s = Store.open(freshDir());
    await applyAll(s, 'g.csv', 'full', [
      { op: 'clear' },
      { op: 'upsert', product: { code: '482', name: 'Квас хлібний', price: 2500, barcodes: ['4820000000011'] } },
      { op: 'upsert', product: { code: '10', name: 'КВИТОК дорослий', price: 35000, barcodes: ['4820000000028', '4821111111111'] } },
      { op: 'upsert', product: { code: '11', name: 'квиток дитячий', price: 17500, barcodes: [] } },
      { op: 'upsert', product: { code: '12', name: 'Ёлка', price: 100, barcodes: ['2000000000012'] } },
      { op: 'upsert', product: { code: '4820000000099', name: '482 Special', price: 700, barcodes: ['4820000000099'] } },
      { op: 'upsert', product: { code: '13', name: 'Їжак', price: 1, barcodes: [] } },
    ]);
    const codes = (ps: Product[]) => ps.map((p) => p.code);
    for (const q of ['квиток', 'КВИТОК', 'Квиток', 'кВиТоК д']) {
      // by name: "квиток дитячий" < "квиток дорослий"
      assert.deepEqual(codes(s.listProducts({ q })), ['11', '10'], q);
    }
    assert.deepEqual(codes(s.listProducts({ q: 'кв' })), ['482', '11', '10']);
    assert.deepEqual(codes(s.listProducts({ q: 'ёл' })), ['12']);
    assert.deepEqual(codes(s.listProducts({ q: 'ЇЖ' })), ['13']);
    assert.deepEqual(codes(s.listProducts({ q: '1' })), ['10', '11', '12', '13']);
    assert.deepEqual(codes(s.listProducts({ q: '4820000000028' })), ['10'], 'exact barcode');
    assert.deepEqual(codes(s.listProducts({ q: '2000' })), ['12'], 'barcode prefix');
    assert.deepEqual(codes(s.listProducts({ q: 'нема' })), []);
    // "482": code 482 and code 4820000000099 (code prefix, by code); then the barcodes 4820000000011
    // (482, listed already), 4820000000028 and 4821111111111 (both product 10: once), 4820000000099
    // (listed already); then the name "482 Special" (listed already)
    const all = codes(s.listProducts({ q: '482' }));
    assert.deepEqual(all, ['482', '4820000000099', '10']);
    for (const size of [1, 2]) {
      const pages: string[] = [];
      for (let offset = 0; offset < 5; offset += size) pages.push(...codes(s.listProducts({ q: '482', limit: size, offset })));
      assert.deepEqual(pages, all, `pages of ${size}`);
    }
    s.close();
  });

  it('catalog search reads indexes only (query plans SEARCH, never SCAN or a sort)', async () => {
    const dir = freshDir();
    const s = Store.open(dir);
    await applyAll(s, 'g.csv', 'full', [{ op: 'clear' }, { op: 'upsert', product: { code: '1', name: 'Хліб', price: 1, barcodes: ['2'] } }]);
    s.close();
    const db = raw(join(dir, 'catalog.db'));
    try {
      for (const [which, sql] of Object.entries(CATALOG_SEARCH_SQL)) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('a', 'b') as { detail: string }[]).map((r) => r.detail);
        assert.ok(plan.length > 0, which);
        for (const step of plan) {
          assert.match(step, /^SEARCH .* USING (INDEX|PRIMARY KEY|COVERING INDEX) /, `${which}: ${plan.join(' | ')}`);
          assert.doesNotMatch(step, /SCAN|TEMP B-TREE/, `${which}: ${plan.join(' | ')}`);
        }
      }
      assert.match(plan(db, CATALOG_SEARCH_SQL.name), /USING INDEX products_name_key \(name_key>\? AND name_key<\?\)/);
    } finally {
      db.close();
    }
  });

  it('a delta keeps the name key; a full file rebuilds its index, and a rolled-back full file keeps the old one', async () => {
    const dir = freshDir();
    const s = Store.open(dir);
    await applyAll(s, 'g1.csv', 'full', [{ op: 'clear' }, { op: 'upsert', product: { code: '1', name: 'Молоко', price: 1, barcodes: [] } }]);
    await applyAll(s, 'd1.csv', 'delta', [
      { op: 'upsert', product: { code: '1', name: 'Кефір', price: 1, barcodes: [] } },
      { op: 'upsert', product: { code: '2', name: 'МОЛОКО 1л', price: 2, barcodes: [] } },
    ]);
    assert.deepEqual(s.listProducts({ q: 'молоко' }).map((p) => p.code), ['2']);
    assert.deepEqual(s.listProducts({ q: 'кеф' }).map((p) => p.code), ['1']);
    const a = s.beginPriceApply({ name: 'g2.csv', size: 1, sha256: 'x', mode: 'full' });
    a.apply({ op: 'clear' });
    a.apply({ op: 'upsert', product: { code: '3', name: 'Сир', price: 3, barcodes: [] } });
    a.rollback();
    assert.deepEqual(s.listProducts({ q: 'кеф' }).map((p) => p.code), ['1']);
    await applyAll(s, 'g3.csv', 'full', [{ op: 'clear' }, { op: 'clear' }, { op: 'upsert', product: { code: '3', name: 'Сир', price: 3, barcodes: [] } }]);
    assert.deepEqual(s.listProducts({ q: 'сир' }).map((p) => p.code), ['3']);
    s.close();
    const db = raw(join(dir, 'catalog.db'));
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'products' AND sql IS NOT NULL").pluck().all(), ['products_name_key']);
    assert.equal(plan(db, CATALOG_SEARCH_SQL.name).includes('products_name_key'), true);
    db.close();
  });

  it('migrates a version-1 catalog.db: the name key is filled for the products already there', () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const old = raw(join(dir, 'catalog.db'));
    old.pragma('journal_mode = WAL');
    migrate(old, join(dir, 'catalog.db'), CATALOG_MIGRATIONS.filter((m) => m.version === 1));
    assert.equal(old.pragma('user_version', { simple: true }), 1);
    const ins = old.prepare('INSERT INTO products (code, barcodes, name, price) VALUES (?, ?, ?, ?)');
    ins.run('1', '["4820000000011"]', 'ЧАЙ Чорний', 4550);
    ins.run('2', '[]', 'Ґудзик', 100);
    ins.run('3', '[]', 'Tea GREEN', 4000);
    old.prepare('INSERT INTO barcodes (barcode, product_code) VALUES (?, ?)').run('4820000000011', '1');
    old.close();

    const s = Store.open(dir);
    const db = raw(join(dir, 'catalog.db'));
    assert.equal(db.pragma('user_version', { simple: true }), latestVersion(CATALOG_MIGRATIONS));
    assert.deepEqual(db.prepare('SELECT code, name_key FROM products ORDER BY code').raw().all(), [
      ['1', 'чай чорний'],
      ['2', 'ґудзик'],
      ['3', 'tea green'],
    ]);
    db.close();
    assert.deepEqual(s.listProducts({ q: 'чай ч' }).map((p) => [p.code, p.name, p.price]), [['1', 'ЧАЙ Чорний', 4550]]);
    assert.deepEqual(s.listProducts({ q: 'ҐУД' }).map((p) => p.code), ['2']);
    assert.deepEqual(s.listProducts({ q: 'tea' }).map((p) => p.code), ['3']);
    assert.deepEqual(s.listProducts({ q: '48200' }).map((p) => p.code), ['1']);
    s.close();
  });
});

describe('Store: sales journal', () => {
  it('records a sale durably, ignores an identical repeat, rejects a different sale under the same id', () => {
    const dir = freshDir();
    const s = Store.open(dir);
    const s1 = sale('S1', 2500);
    const body = JSON.stringify(s1);
    assert.equal(s.recordSale(s1, '2024-03-02', body), 'recorded');
    // committed (visible to another connection) and fsynced at commit when the call returns
    const db = raw(join(dir, 'journal.db'));
    assert.deepEqual(db.prepare('SELECT terminal_id, sale_id, total, local_date, kind FROM sales').all(), [
      { terminal_id: 'T1', sale_id: 'S1', total: 2500, local_date: '2024-03-02', kind: 'sale' },
    ]);
    assert.deepEqual(db.prepare('SELECT dest, state, attempts FROM outbox').all(), [{ dest: 'server', state: 'pending', attempts: 0 }]);
    db.close();
    const internals = s as unknown as { journal: Database.Database; catalogWriter: Database.Database };
    assert.equal(internals.journal.pragma('synchronous', { simple: true }), 2, 'journal.db synchronous=FULL');
    assert.equal(internals.catalogWriter.pragma('synchronous', { simple: true }), 2, 'catalog.db synchronous=FULL');
    assert.equal(internals.journal.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(internals.journal.pragma('busy_timeout', { simple: true }), 5000);

    assert.equal(s.recordSale(s1, '2024-03-02', body), 'duplicate');
    assert.equal(s.countPending(), 1);
    assert.throws(() => s.recordSale(sale('S1', 2600), '2024-03-02', JSON.stringify(sale('S1', 2600))), isCode(ErrorCodes.SALE_CONFLICT, /S1/, /T1/));
    assert.throws(() => s.recordSale(sale('S2', 100), '2024-3-2', '{}'), isCode(ErrorCodes.SALE_INVALID, /localDate/));
    assert.throws(() => s.recordSale(sale('S2', 10.5), '2024-03-02', '{}'), isCode(ErrorCodes.SALE_INVALID, /total/));
    s.close();

    const again = Store.open(dir);
    const [rec] = again.salesBetween('2024-03-02', '2024-03-02');
    assert.equal(rec?.total, 2500);
    assert.equal(rec?.body, body);
    assert.match(rec?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(again.recordSale(s1, '2024-03-02', body), 'duplicate');
    again.close();
  });

  it('the outbox queues, counts attempts and marks sent', () => {
    const s = Store.open(freshDir());
    s.recordSale(sale('S1', 100), '2024-03-02', JSON.stringify(sale('S1', 100)));
    s.recordSale(sale('S2', 200), '2024-03-02', JSON.stringify(sale('S2', 200)));
    assert.equal(s.countPending(), 2);
    assert.deepEqual(s.pendingOutbox(10).map((o) => [o.saleId, o.terminalId, o.dest, o.attempts]), [
      ['S1', 'T1', 'server', 0],
      ['S2', 'T1', 'server', 0],
    ]);
    assert.equal(s.markFailed('S1', 'T1', 'server', 'CFX_E_TRANSPORT_TIMEOUT: no answer in 30 s'), true);
    const [first] = s.pendingOutbox(1);
    assert.equal(first?.attempts, 1);
    assert.equal(first?.lastError, 'CFX_E_TRANSPORT_TIMEOUT: no answer in 30 s');
    assert.equal((JSON.parse(first?.body ?? '{}') as Sale).total, 100);
    assert.equal(s.markSent('S1', 'T1', 'server', 'T1_S1.json'), true);
    assert.equal(s.markSent('S9', 'T1', 'server', 'T1_S9.json'), false);
    assert.equal(s.countPending(), 1);
    assert.deepEqual(s.pendingOutbox(10).map((o) => o.saleId), ['S2']);
    s.close();
  });

  it('salesBetween includes both bounds', () => {
    const s = Store.open(freshDir());
    const days = ['2024-02-29', '2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04'];
    days.forEach((d, i) => s.recordSale(sale(`S${i}`, (i + 1) * 100, `${d}T12:00:00+02:00`), d, JSON.stringify(sale(`S${i}`, (i + 1) * 100))));
    assert.deepEqual(s.salesBetween('2024-03-01', '2024-03-03').map((r) => [r.saleId, r.localDate, r.total]), [
      ['S1', '2024-03-01', 200],
      ['S2', '2024-03-02', 300],
      ['S3', '2024-03-03', 400],
    ]);
    assert.deepEqual(s.salesBetween('2024-03-04', '2024-03-04').map((r) => r.saleId), ['S4']);
    assert.deepEqual(s.salesBetween('2024-03-05', '2024-03-31'), []);
    assert.throws(() => s.salesBetween('2024-03-01', 'tomorrow'), isCode(ErrorCodes.SALE_INVALID, /toDate/));
    s.close();
  });
});

describe('Store: runs and quarantine', () => {
  it('runs round-trip', () => {
    const s = Store.open(freshDir());
    const id1 = s.startRun('pull', { trigger: 'poll' });
    assert.equal(s.lastRun('pull')?.result, 'running');
    s.finishRun(id1, { result: 'ok', files: 2, bytes: 4096 });
    const id2 = s.startRun('pull');
    s.finishRun(id2, { result: 'failed', error: { code: ErrorCodes.TRANSPORT_TIMEOUT, message: 'no answer' }, details: { host: 'ftp.local' } });
    const id3 = s.startRun('push');
    s.finishRun(id3, { result: 'partial', files: 1 });

    const ok = s.lastRun('pull', 'ok');
    assert.ok(ok);
    assert.equal(ok.id, id1);
    assert.equal(ok.files, 2);
    assert.equal(ok.bytes, 4096);
    assert.deepEqual(ok.details, { trigger: 'poll' });
    assert.equal(ok.error, undefined);
    assert.ok(ok.finishedAt && ok.finishedAt >= ok.startedAt);

    const failed = s.lastRun('pull');
    assert.equal(failed?.id, id2);
    assert.equal(failed?.result, 'failed');
    assert.deepEqual(failed?.error, { code: 'CFX_E_TRANSPORT_TIMEOUT', message: 'no answer' });
    assert.deepEqual(failed?.details, { host: 'ftp.local' });
    assert.equal(failed?.files, 0);

    assert.deepEqual(s.listRuns().map((r) => [r.id, r.job, r.result]), [
      [id3, 'push', 'partial'],
      [id2, 'pull', 'failed'],
      [id1, 'pull', 'ok'],
    ]);
    assert.deepEqual(s.listRuns({ job: 'pull', limit: 1 }).map((r) => r.id), [id2]);
    assert.equal(s.lastRun('collect'), undefined);
    assert.equal(s.lastRun('push', 'ok'), undefined);
    s.close();
  });

  it('a finished run keeps its real start; heartbeats per job', () => {
    const s = Store.open(freshDir());
    const id = s.addFinishedRun('prices.pull', { result: 'ok', files: 1 }, { startedAt: new Date('2025-03-15T10:00:00.000Z'), finishedAt: new Date('2025-03-15T10:00:04.250Z') });
    assert.deepEqual([s.getRun(id)?.startedAt, s.getRun(id)?.finishedAt], ['2025-03-15T10:00:00.000Z', '2025-03-15T10:00:04.250Z']);
    const bare = s.getRun(s.addFinishedRun('sales.push', { result: 'ok' }))!;
    assert.equal(bare.startedAt, bare.finishedAt, 'no start given: a run of no duration, as before');
    assert.deepEqual(s.lastContacts(), {});
    s.recordContact('prices.pull', new Date('2025-03-15T10:00:00.000Z'));
    s.recordContact('sales.push', new Date('2025-03-15T10:00:01.000Z'));
    s.recordContact('prices.pull', new Date('2025-03-15T10:01:00.000Z'));
    s.kvSet('contacts', 'not a heartbeat');
    assert.deepEqual(s.lastContacts(), { 'prices.pull': '2025-03-15T10:01:00.000Z', 'sales.push': '2025-03-15T10:00:01.000Z' });
    s.close();
  });

  it('quarantine round-trip', () => {
    const s = Store.open(freshDir());
    const q1 = s.addQuarantine({ job: 'pull', fileName: 'goods.csv', localPath: '/data/quarantine/goods.csv', remotePath: '/rejected/goods.csv', reason: { line: 17, field: 'price', message: 'not a number' } });
    const q2 = s.addQuarantine({ job: 'collect', fileName: 'T1_S9.json', localPath: '/data/quarantine/T1_S9.json', reason: { message: 'bad JSON' } });
    const all = s.listQuarantine();
    assert.deepEqual(all.map((q) => q.id), [q2, q1]);
    const e1 = all[1];
    assert.ok(e1);
    assert.equal(e1.job, 'pull');
    assert.equal(e1.fileName, 'goods.csv');
    assert.equal(e1.localPath, '/data/quarantine/goods.csv');
    assert.equal(e1.remotePath, '/rejected/goods.csv');
    assert.deepEqual(e1.reason, { line: 17, field: 'price', message: 'not a number' });
    assert.equal(e1.state, 'quarantined');
    assert.equal(all[0]?.remotePath, undefined);
    assert.equal(s.setQuarantineState(q1, 'retried'), true);
    assert.equal(s.setQuarantineState(999, 'deleted'), false);
    assert.deepEqual(s.listQuarantine({ state: 'quarantined' }).map((q) => q.id), [q2]);
    assert.deepEqual(s.listQuarantine({ state: 'retried' }).map((q) => q.fileName), ['goods.csv']);
    s.close();
  });
});

describe('migrate', () => {
  it('runs each step once, in a transaction with its user_version', () => {
    const file = join(freshDir() + '.db');
    const db = raw(file);
    const calls: number[] = [];
    const v1: Migration = { version: 1, up: (d) => { calls.push(1); d.exec('CREATE TABLE a (x)'); } };
    const v2: Migration = { version: 2, up: (d) => { calls.push(2); d.exec('CREATE TABLE b (x)'); } };
    const v3bad: Migration = { version: 3, up: (d) => { calls.push(3); d.exec('CREATE TABLE c (x)'); d.exec('this is not sql'); } };
    migrate(db, file, [v1]);
    migrate(db, file, [v1]);
    migrate(db, file, [v1, v2]);
    assert.deepEqual(calls, [1, 2]);
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    assert.throws(() => migrate(db, file, [v1, v2, v3bad]));
    assert.equal(db.pragma('user_version', { simple: true }), 2, 'a failed step leaves the version where it was');
    assert.equal(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'c'").pluck().get(), 0, 'and none of its changes');
    assert.throws(() => migrate(db, file, [v1]), isCode(ErrorCodes.STORE_VERSION, /schema version 2/, /up to version 1/));
    db.close();
  });
});
