import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { ErrorCodes } from '../api/errors.js';
import type { PriceRecord } from '../api/model.js';
import { buildPlacement } from './catalog-build.js';
import { Store } from './index.js';
import { isShortProduct } from './catalog-build-writer.js';
import { barcodesJson, productRow, writeShortRow } from './price-apply.js';
import { applyAll, fullCatalog, isCode, product, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-catalog-build-');

const file = (name: string, mode: 'full' | 'delta' = 'full') => ({ name, size: 10, mtime: new Date('2024-03-01T10:00:00Z'), sha256: `sha-${name}`, mode });

/** a full file built fresh, its records handed over in batches of `batch` */
function buildFresh(s: Store, name: string, recs: PriceRecord[], batch = 1000, guard?: Parameters<Store['priceImport']['begin']>[1]) {
  const tx = s.priceImport.begin(file(name), guard, { fresh: true });
  try {
    for (let i = 0; i < recs.length; i += batch) tx.applyBatch(recs.slice(i, i + batch));
    return tx.commit();
  } catch (e) {
    tx.rollback();
    throw e;
  }
}

const catalogFiles = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('catalog')).sort();
const everything = (s: Store) => s.catalog.list({ limit: 100_000 });

describe('full import into a fresh catalog file', () => {
  const placement = buildPlacement.inWorker;
  afterEach(() => {
    buildPlacement.inWorker = placement;
  });
  it('builds the same catalog as an in-place apply (groups, tails, deletes, disables, a second clear), then swaps it in', async () => {
    // 70 ascending codes (two groups of 32 and a tail), a code repeated, then one out of order, a delete, a disable
    const recs: PriceRecord[] = [{ op: 'clear' }];
    for (let i = 0; i < 70; i++) recs.push({ op: 'upsert', product: product(`c${String(i).padStart(3, '0')}`, 100 + i, [`48200000${String(i).padStart(5, '0')}`]) });
    recs.push({ op: 'upsert', product: product('c005', 999, ['4820000099999']) }, { op: 'upsert', product: product('a000', 1, []) });
    recs.push({ op: 'delete', code: 'c010' }, { op: 'disable', code: 'c011' }, { op: 'upsert', product: product('c010', 555, ['4820000000010']) });
    const inPlace = Store.open(freshDir());
    const fresh = Store.open(freshDir());
    try {
      await applyAll(inPlace, 'f.csv', 'full', recs);
      for (const batch of [1000, 7]) {
        const r = buildFresh(fresh, `f${batch}.csv`, recs, batch);
        assert.deepEqual([r.upserts, r.deletes, r.disables, r.cleared, r.products], [73, 1, 1, true, 71]);
        assert.deepEqual(everything(fresh), everything(inPlace));
        assert.equal(fresh.catalog.findByBarcode('4820000099999')?.price, 999);
        assert.equal(fresh.catalog.findByBarcode('4820000000005'), undefined, 'c005 lost its old barcode');
        assert.equal(fresh.catalog.get('c011')?.enabled, false);
        assert.deepEqual(fresh.catalog.list({ q: 'item c06', limit: 3 }).map((p) => p.code), ['c060', 'c061', 'c062'], 'the name index is built');
      }
      // the second full file started from nothing: a clear in the middle empties the new file again
      const r = buildFresh(fresh, 'g.csv', [{ op: 'clear' }, { op: 'upsert', product: product('x', 1, []) }, { op: 'clear' }, { op: 'upsert', product: product('y', 2, ['1']) }]);
      assert.equal(r.products, 1);
      assert.deepEqual(everything(fresh).map((p) => p.code), ['y']);
      const dir = fresh.dir;
      assert.equal(readFileSync(join(dir, 'catalog.current'), 'utf8'), 'catalog-3.db\n');
      assert.deepEqual(catalogFiles(dir).filter((f) => !f.startsWith('catalog-3.db')), ['catalog.current'], 'catalog.db and the older generations are gone');
    } finally {
      inPlace.close();
      fresh.close();
    }
  });

  for (const inWorker of [true, false])
  it(`${inWorker ? 'in the build worker' : 'on one thread'}: rows reach the new file with their exact values: nulls, numbers, every column, and values holding the batch separators`, async () => {
    buildPlacement.inWorker = inWorker;
    // a batch with a value holding \u0001 (or being \u0002) goes as plain values; the others as text
    const full = (code: string, extra: Partial<Parameters<typeof product>[3]>) => product(code, 12345, ['4820000000001', '2000000000002'], extra);
    const recs: PriceRecord[] = [
      { op: 'clear' },
      { op: 'upsert', product: full('a1', { receiptName: 'Чек', unit: 'кг', weighed: true, groupCode: 'g1', taxGroup: 'A', article: 'art', stock: 1500, enabled: false, extras: { x: '1' } }) },
      { op: 'upsert', product: product('a2', 0, []) },
      { op: 'upsert', product: full('a3', { stock: 0, receiptName: '' }) },
      { op: 'upsert', product: product('b1', 7, ['1'], { name: 'sep \u0001 inside' }) },
      { op: 'upsert', product: product('b2', 8, ['2'], { receiptName: '\u0002', unit: '\u0002\u0001' }) },
      // short rows (code, barcodes, name, price) between and after full ones, and the short ones
      // that cannot travel as text: a code holding \u0001, a name being \u0002; barcodes JSON must escape
      { op: 'upsert', product: product('c1', 9, ['a"b\\c']) },
      { op: 'upsert', product: product('c2', 10, ['штрих', '\u0007']) },
      { op: 'upsert', product: full('c3', { unit: 'шт' }) },
      { op: 'upsert', product: product('c4', 11, ['x'], { name: '\u0002' }) },
      { op: 'upsert', product: product('c\u00015', 12, ['y']) },
      { op: 'upsert', product: product('c6', 13, ['\ud800']) },
      { op: 'upsert', product: product('c7', 14, ['1'], { name: 'Шоколад ЖИТНІЙ' }) },
    ];
    const inPlace = Store.open(freshDir());
    const fresh = Store.open(freshDir());
    try {
      await applyAll(inPlace, 'f.csv', 'full', recs);
      for (const batch of [1000, 4, 1]) {
        const r = buildFresh(fresh, `f${batch}.csv`, recs, batch);
        assert.deepEqual([r.upserts, r.products], [12, 12]);
        assert.deepEqual(everything(fresh), everything(inPlace));
      }
      assert.equal(fresh.catalog.get('b1')?.name, 'sep \u0001 inside');
      assert.deepEqual([fresh.catalog.get('b2')?.receiptName, fresh.catalog.get('b2')?.unit], ['\u0002', '\u0002\u0001']);
      assert.deepEqual([fresh.catalog.get('c1')?.barcodes, fresh.catalog.get('c2')?.barcodes, fresh.catalog.get('c6')?.barcodes], [['a"b\\c'], ['штрих', '\u0007'], ['\ud800']]);
      assert.deepEqual([fresh.catalog.get('c4')?.name, fresh.catalog.get('c\u00015')?.price, fresh.catalog.get('c7')?.name, fresh.catalog.get('c3')?.unit], ['\u0002', 12, 'Шоколад ЖИТНІЙ', 'шт']);
      assert.equal(fresh.catalog.findByBarcode('a"b\\c')?.code, 'c1');
      assert.deepEqual([fresh.catalog.get('a1')?.stock, fresh.catalog.get('a1')?.weighed, fresh.catalog.get('a1')?.enabled, fresh.catalog.get('a3')?.stock], [1500, true, false, 0]);
      // stored with the column's type, as the in-place apply stores them (not as text)
      const types = (s: Store) => {
        const db = new Database(s.paths.catalog, { readonly: true });
        try {
          return db.prepare("SELECT group_concat(t, ' ') FROM (SELECT typeof(price) || typeof(stock) || typeof(weighed) || typeof(enabled) || typeof(receipt_name) AS t FROM products ORDER BY code)").pluck().get();
        } finally {
          db.close();
        }
      };
      assert.equal(types(fresh), types(inPlace));
      // a built generation has 8 KiB pages (catalog-build-writer.ts), the catalog made in place SQLite's 4 KiB
      const pageSize = (s: Store) => {
        const db = new Database(s.paths.catalog, { readonly: true });
        try {
          return db.pragma('page_size', { simple: true });
        } finally {
          db.close();
        }
      };
      assert.deepEqual([pageSize(fresh), pageSize(inPlace)], [8192, 4096]);
      assert.equal(types(fresh), 'integerintegerintegerintegertext integernullintegerintegernull integerintegerintegerintegertext integernullintegerintegernull integernullintegerintegertext'
        + ' integernullintegerintegernull'.repeat(7));
    } finally {
      inPlace.close();
      fresh.close();
    }
  });

  for (const inWorker of [true, false])
  it(`${inWorker ? 'in the build worker' : 'on one thread'}: codes out of order (staged, then put in sorted) give the in-place catalog: the last row of a code wins, a delete, disable and clear see the rows before them`, async () => {
    buildPlacement.inWorker = inWorker;
    // 600 codes in a scrambled order (a file sorted by name): past a few unordered groups the rows are staged
    const code = (i: number) => `k${String((i * 7919) % 600).padStart(4, '0')}`;
    const recs: PriceRecord[] = [{ op: 'clear' }, { op: 'upsert', product: product('x', 1, ['9']) }, { op: 'clear' }];
    for (let i = 0; i < 600; i++) recs.push({ op: 'upsert', product: product(code(i), 1000 + i, [`4820${String(i).padStart(9, '0')}`]) });
    // repeats of staged codes (the later one wins), one with all columns, then a delete and a disable of staged codes
    recs.push({ op: 'upsert', product: product('k0007', 7, ['4829999999997'], { unit: 'кг', weighed: true, stock: 5, receiptName: 'r', extras: { a: 'b' } }) });
    recs.push({ op: 'upsert', product: product('k0300', 300, []) }, { op: 'upsert', product: product('k0300', 301, ['4829999999300']) });
    recs.push({ op: 'delete', code: 'k0011' }, { op: 'disable', code: 'k0012' });
    // more scrambled rows after the delete: staged again, and one re-adds the deleted code
    for (let i = 0; i < 300; i++) recs.push({ op: 'upsert', product: product(`m${String((i * 131) % 300).padStart(4, '0')}`, 5000 + i, []) });
    recs.push({ op: 'upsert', product: product('k0011', 11, ['4829999999011']) });
    const inPlace = Store.open(freshDir());
    const fresh = Store.open(freshDir());
    try {
      await applyAll(inPlace, 'f.csv', 'full', recs);
      for (const batch of [1000, 50, 1]) {
        const r = buildFresh(fresh, `f${batch}.csv`, recs, batch);
        assert.deepEqual([r.upserts, r.deletes, r.disables, r.products], [905, 1, 1, 900]);
        assert.deepEqual(everything(fresh), everything(inPlace));
        assert.deepEqual([fresh.catalog.get('k0300')?.price, fresh.catalog.get('k0007')?.price, fresh.catalog.get('k0007')?.unit, fresh.catalog.get('k0011')?.price], [301, 7, 'кг', 11]);
        assert.equal(fresh.catalog.get('k0012')?.enabled, false);
        assert.equal(fresh.catalog.get('x'), undefined, 'the clear emptied the file');
        assert.equal(fresh.catalog.findByBarcode('4829999999300')?.code, 'k0300');
        assert.equal(fresh.catalog.findByBarcode('4829999999997')?.code, 'k0007');
      }
      // the removed-share guard counts after the staged rows are in (batches of 50: staging starts at a later
      // batch; no delete or disable after them, so the count is what puts them in): the m-codes and k0011 are gone
      const fewer = recs.filter((r) => !(r.op === 'upsert' && /^m|^k0011$/.test(r.product.code)) && r.op !== 'delete' && r.op !== 'disable');
      const r = buildFresh(fresh, 'g.csv', fewer, 50, { allowEmpty: false, maxRemovedShare: 0.5 });
      assert.deepEqual([r.removed, r.products, fresh.catalog.get('k0300')?.price, fresh.catalog.get('k0012')?.enabled], [301, 599, 301, true]);
    } finally {
      inPlace.close();
      fresh.close();
    }
  });

  for (const [inWorker, scrambled] of [[true, false], [true, true], [false, false], [false, true]] as const)
  it(`${inWorker ? 'in the build worker' : 'on one thread'}, codes ${scrambled ? 'out of order' : 'ascending'}: barcodes (0, 1, 3 per product, shared, repeated, moving) index and look up as in place, also after a delta`, async () => {
    buildPlacement.inWorker = inWorker;
    const SHARED = '2000000000001';
    // the products whose barcodes matter, in code order (ties on a shared barcode list by rowid: file order here)
    const special: PriceRecord[] = [
      { op: 'upsert', product: product('a0', 1, []) },
      { op: 'upsert', product: product('a1', 2, ['4820000000001']) },
      { op: 'upsert', product: product('a3', 3, ['4820000000031', '4820000000032', '4820000000033']) },
      { op: 'upsert', product: product('b0', 4, [SHARED], { enabled: false }) },
      { op: 'upsert', product: product('b1', 5, [SHARED]) },
      { op: 'upsert', product: product('b2', 6, ['4820000000099', SHARED]) },
      { op: 'upsert', product: product('d1', 7, ['777', '888', '777']) },
      // 5555 moves from m1 to m2 within the file: m1's later row takes another barcode
      { op: 'upsert', product: product('m1', 8, ['5555']) },
      { op: 'upsert', product: product('m2', 9, ['5555', '6666']) },
      { op: 'upsert', product: product('m1', 10, ['7777']) },
    ];
    // 200 more with one barcode each, before them: out of order they are staged (past 4 groups of 32)
    const fill: PriceRecord[] = [];
    for (let i = 0; i < 200; i++) {
      const k = scrambled ? (i * 37) % 200 : i;
      fill.push({ op: 'upsert', product: product(`0${String(k).padStart(4, '0')}`, 100 + k, [`46000000${String(k).padStart(5, '0')}`]) });
    }
    const recs: PriceRecord[] = [{ op: 'clear' }, ...fill, ...special];
    const delta: PriceRecord[] = [
      // a3's first barcode changes (033 first), 032 leaves it for a new product; b1 drops the shared one
      { op: 'upsert', product: product('a3', 3, ['4820000000033', '4820000000031']) },
      { op: 'upsert', product: product('n1', 11, ['4820000000032']) },
      { op: 'upsert', product: product('b1', 5, []) },
      // 5555 moves again: m2 goes, a1 takes it as its second barcode
      { op: 'delete', code: 'm2' },
      { op: 'upsert', product: product('a1', 2, ['4820000000001', '5555']) },
      { op: 'disable', code: 'd1' },
    ];
    const lookups = ['4820000000001', '4820000000031', '4820000000032', '4820000000033', SHARED, '4820000000099', '777', '888', '5555', '6666', '7777', '4600000000007', 'none'];
    const found = (s: Store) => lookups.map((b) => s.catalog.findByBarcode(b)?.code ?? null);
    /** the index as stored: each product's first barcode (the expression indexed) and the side table */
    const stored = (s: Store) => {
      const db = new Database(s.paths.catalog, { readonly: true });
      try {
        return {
          first: db.prepare("SELECT code, json_extract(barcodes, '$[0]') FROM products WHERE code NOT LIKE '0%' ORDER BY code").raw().all(),
          side: db.prepare('SELECT barcode, product_code FROM barcodes ORDER BY 1, 2').raw().all(),
          fills: db.prepare("SELECT count(*) FROM products WHERE code LIKE '0%' AND json_extract(barcodes, '$[0]') = '46000000' || code").pluck().get(),
        };
      } finally {
        db.close();
      }
    };
    const searches = (s: Store) => ['2000', '482', '48200000000', '5', '7', '46000000001', '888'].map((q) => s.catalog.list({ q, limit: 20 }).map((p) => p.code));
    const inPlace = Store.open(freshDir());
    const fresh = Store.open(freshDir());
    try {
      await applyAll(inPlace, 'f.csv', 'full', recs);
      buildFresh(fresh, 'f.csv', recs, 64);
      assert.deepEqual(everything(fresh), everything(inPlace));
      assert.deepEqual(stored(fresh), stored(inPlace));
      assert.deepEqual(stored(fresh), {
        first: [['a0', null], ['a1', '4820000000001'], ['a3', '4820000000031'], ['b0', SHARED], ['b1', SHARED], ['b2', '4820000000099'], ['d1', '777'], ['m1', '7777'], ['m2', '5555']],
        side: [[SHARED, 'b2'], ['4820000000032', 'a3'], ['4820000000033', 'a3'], ['6666', 'm2'], ['777', 'd1'], ['888', 'd1']],
        fills: 200,
      });
      // a shared barcode: the enabled products first, then the lowest code
      assert.deepEqual(found(fresh), ['a1', 'a3', 'a3', 'a3', 'b1', 'b2', 'd1', 'd1', 'm2', 'm2', 'm1', '00007', null]);
      assert.deepEqual(found(inPlace), found(fresh));
      assert.deepEqual(searches(fresh), searches(inPlace));
      assert.deepEqual(searches(fresh).slice(0, 2), [['b0', 'b1', 'b2'], ['a1', 'a3', 'b2']]);
      // pages of one: the merged read (first barcodes, then the others) neither repeats nor skips
      const pages: string[] = [];
      for (let offset = 0; offset < 6; offset++) pages.push(...fresh.catalog.list({ q: '482', limit: 1, offset }).map((p) => p.code));
      assert.deepEqual(pages, ['a1', 'a3', 'b2']);

      // a delta goes in place on both, keeping the index row by row; a fresh build of the result agrees
      await applyAll(inPlace, 'd.csv', 'delta', delta);
      await applyAll(fresh, 'd.csv', 'delta', delta);
      const rebuilt = Store.open(freshDir());
      try {
        const final = everything(inPlace).map((p): PriceRecord => ({ op: 'upsert', product: p }));
        buildFresh(rebuilt, 'all.csv', [{ op: 'clear' }, ...final], 64);
        for (const s of [fresh, rebuilt]) {
          assert.deepEqual(everything(s), everything(inPlace));
          assert.deepEqual(stored(s), stored(inPlace));
          assert.deepEqual(found(s), found(inPlace));
        }
      } finally {
        rebuilt.close();
      }
      assert.deepEqual(stored(inPlace).side, [[SHARED, 'b2'], ['4820000000031', 'a3'], ['5555', 'a1'], ['777', 'd1'], ['888', 'd1']]);
      // the shared barcode: b0 has it first but is disabled, b2 (enabled) has it second
      assert.deepEqual(found(inPlace), ['a1', 'a3', 'n1', 'a3', 'b2', 'b2', 'd1', 'd1', 'a1', null, 'm1', '00007', null]);
    } finally {
      inPlace.close();
      fresh.close();
    }
  });

  it('carries the inbox log over, adds the new row in the new file only, and supersedes an open row of the same name', async () => {
    const s = Store.open(freshDir());
    try {
      await applyAll(s, 'd1.csv', 'delta', [{ op: 'upsert', product: product('1', 100, []) }]);
      await applyAll(s, 'p.csv', 'delta', [{ op: 'upsert', product: product('2', 200, []) }]);
      s.inbox.confirm(1);
      const r = buildFresh(s, 'p.csv', fullCatalog);
      assert.equal(r.inboxId, 3);
      assert.deepEqual(s.inbox.recent(5).map((e) => [e.id, e.name, e.mode, e.confirmedAt !== undefined]), [
        [3, 'p.csv', 'full', false],
        [2, 'p.csv', 'delta', true],
        [1, 'd1.csv', 'delta', true],
      ]);
      assert.deepEqual(s.inbox.open().map((e) => e.id), [3]);
      s.inbox.confirm(3);
      assert.deepEqual(s.inbox.open(), [], 'a confirm lands in the generation in use');
    } finally {
      s.close();
    }
  });

  it('guards: an empty full file and one removing too much are refused, the old catalog kept, the new file removed, the lock released', async () => {
    const s = Store.open(freshDir());
    try {
      buildFresh(s, 'p1.csv', fullCatalog);
      const before = catalogFiles(s.dir);
      assert.throws(() => buildFresh(s, 'p2.csv', [{ op: 'clear' }], 1000, { allowEmpty: false }), isCode(ErrorCodes.FULL_FILE_REFUSED, /no products would empty the catalog \(3 products\)/));
      assert.throws(
        () => buildFresh(s, 'p3.csv', [{ op: 'clear' }, { op: 'upsert', product: product('1001', 1, []) }], 1000, { allowEmpty: false, maxRemovedShare: 0.5 }),
        isCode(ErrorCodes.FULL_FILE_REFUSED, /would remove 2 of 3 products \(66\.7%\)/),
      );
      const forced = buildFresh(s, 'p4.csv', [{ op: 'clear' }, { op: 'upsert', product: product('1001', 1, []) }], 1000, { allowEmpty: false, maxRemovedShare: 0.5, forced: true });
      assert.equal(forced.removed, 2);
      assert.deepEqual(everything(s).map((p) => [p.code, p.price]), [['1001', 1]]);
      assert.deepEqual(before.map((f) => f.replace(/\d+/, 'N')), catalogFiles(s.dir).map((f) => f.replace(/\d+/, 'N')), 'one generation, nothing left of the refused builds');
      // the lock was released each time: a delta goes on
      await applyAll(s, 'd.csv', 'delta', [{ op: 'upsert', product: product('5', 5, []) }]);
      assert.equal(s.catalog.count(), 2);
    } finally {
      s.close();
    }
  });

  for (const inWorker of [true, false])
  it(`${inWorker ? 'in the build worker' : 'on one thread'}: an error of the writer comes back to the caller with its message; the old catalog stays, the new file is removed, the lock released`, () => {
    buildPlacement.inWorker = inWorker;
    const s = Store.open(freshDir());
    try {
      buildFresh(s, 'p1.csv', fullCatalog);
      const bad = { op: 'upsert', product: { ...product('x', 1, []), code: null } } as unknown as PriceRecord;
      const recs: PriceRecord[] = [{ op: 'clear' }, { op: 'upsert', product: product('1', 1, []) }, bad];
      // found by the worker after the batch was handed over: thrown at the next batch or at commit
      assert.throws(() => buildFresh(s, 'p2.csv', recs, 2), /NOT NULL constraint failed: products\.code/);
      assert.throws(() => buildFresh(s, 'p3.csv', recs), /NOT NULL constraint failed: products\.code/);
      assert.deepEqual(catalogFiles(s.dir).filter((f) => /^catalog-\d+\.db$/.test(f)), ['catalog-1.db']);
      assert.equal(s.catalog.count(), 3);
      assert.equal(buildFresh(s, 'p4.csv', fullCatalog).products, 3, 'the lock was released');
    } finally {
      s.close();
    }
  });

  it('a rolled-back build leaves the old catalog and no file; an apply open elsewhere blocks a second one', () => {
    const s = Store.open(freshDir());
    const other = Store.open(s.dir);
    try {
      buildFresh(s, 'p1.csv', fullCatalog);
      const tx = s.priceImport.begin(file('p2.csv'), undefined, { fresh: true });
      tx.applyBatch([{ op: 'clear' }, { op: 'upsert', product: product('9', 9, []) }]);
      assert.ok(existsSync(join(s.dir, 'catalog-2.db')), 'the new file is being built');
      // another process starting now: the build holds the old generation's lock, so its file is not taken for a leftover
      const third = Store.open(s.dir);
      third.close();
      assert.ok(existsSync(join(s.dir, 'catalog-2.db')));
      assert.throws(() => other.priceImport.begin(file('p3.csv', 'delta')), isCode(ErrorCodes.STORE_IO, /is another cfx writing/));
      tx.rollback();
      assert.ok(!existsSync(join(s.dir, 'catalog-2.db')));
      assert.equal(s.catalog.count(), 3);
    } finally {
      other.close();
      s.close();
    }
  });

  it('another store (a till, the admin API) moves to the new catalog on its next read; start-up removes what a crash left', () => {
    const dir = freshDir();
    const s = Store.open(dir);
    buildFresh(s, 'p1.csv', fullCatalog);
    const till = Store.open(dir, { readonly: true });
    try {
      assert.equal(till.catalog.get('1001')?.price, 1250);
      buildFresh(s, 'p2.csv', [{ op: 'clear' }, { op: 'upsert', product: product('1001', 1300, ['4820000000011']) }]);
      assert.equal(till.catalog.get('1001')?.price, 1300);
      assert.equal(till.catalog.count(), 1);
      assert.equal(till.inbox.last()?.name, 'p2.csv');
    } finally {
      till.close();
      s.close();
    }
    // a crash after building catalog-9.db, before the swap; and one between the pointer's temp file and its rename
    writeFileSync(join(dir, 'catalog-9.db'), 'half');
    writeFileSync(join(dir, 'catalog-9.db-journal'), '');
    writeFileSync(join(dir, 'catalog.current.tmp'), 'catalog-9.db\n');
    const ro = Store.open(dir, { readonly: true });
    ro.close();
    assert.ok(existsSync(join(dir, 'catalog-9.db')), 'read-only removes nothing');
    const rw = Store.open(dir);
    try {
      assert.deepEqual(catalogFiles(dir).filter((f) => !f.startsWith('catalog-2.db')), ['catalog.current']);
      assert.equal(rw.catalog.get('1001')?.price, 1300);
    } finally {
      rw.close();
    }
  });

  it('where the build runs: a file listed under workerMinBytes on this thread, a larger or unsized one in the worker (with a second core); the same catalog either way', () => {
    buildPlacement.inWorker = true;
    const s = Store.open(freshDir());
    try {
      const placed: [number | undefined, boolean, number][] = [];
      for (const expectedBytes of [2_000, buildPlacement.workerMinBytes, undefined]) {
        const tx = s.priceImport.begin(file(`p${placed.length}.csv`), undefined, { fresh: true, ...(expectedBytes !== undefined ? { expectedBytes } : {}) });
        const inWorker = (tx as unknown as { inWorker: boolean }).inWorker;
        tx.applyBatch(fullCatalog);
        placed.push([expectedBytes, inWorker, tx.commit().products]);
      }
      assert.deepEqual(placed, [[2_000, false, 3], [buildPlacement.workerMinBytes, true, 3], [undefined, true, 3]]);
      // one core: never in a worker, whatever the size
      buildPlacement.inWorker = false;
      const tx = s.priceImport.begin(file('p9.csv'), undefined, { fresh: true, expectedBytes: 50 * 1024 * 1024 });
      assert.equal((tx as unknown as { inWorker: boolean }).inWorker, false);
      tx.rollback();
      assert.deepEqual(everything(s).map((p) => [p.code, p.price]), fullCatalog.filter((r) => r.op === 'upsert').map((r) => [r.product.code, r.product.price]));
    } finally {
      s.close();
    }
  });

  it('a pointer naming something else is refused with a clear error', () => {
    const dir = freshDir();
    Store.open(dir).close();
    writeFileSync(join(dir, 'catalog.current'), '../etc/passwd\n');
    assert.throws(() => Store.open(dir, { readonly: true }), isCode(ErrorCodes.STORE_IO, /catalog\.current names "\.\.\/etc\/passwd", not a catalog-<n>\.db file/));
  });
});

describe('barcodesJson', () => {
  it('writes what JSON.stringify writes, for any barcodes (plain, quotes, backslashes, control characters, lone surrogates, none, many)', () => {
    const some = ['4820000000001', '', ' a ', 'a"b', 'a\\b', '\u0001', '\u007f', 'ш', '\ud800', '\udfff\ud800', '~', '#'];
    for (const b of some) assert.equal(barcodesJson([b]), JSON.stringify([b]), JSON.stringify(b));
    assert.equal(barcodesJson([]), '[]');
    assert.equal(barcodesJson(some), JSON.stringify(some));
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 }), (bs) => barcodesJson(bs) === JSON.stringify(bs)), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'binary-ascii' }), (b) => barcodesJson([b]) === JSON.stringify([b])), { numRuns: 2000 });
  });
});

describe('isShortProduct', () => {
  it('is true exactly when writeProductRow gives every column but code, barcodes, name, name key and price its default, and the text can travel joined', () => {
    const p = (extra: Partial<Parameters<typeof product>[3]> = {}, code = 'a1') => product(code, 100, ['4820000000001'], extra);
    const cases: [string, boolean, ReturnType<typeof p>][] = [
      ['plain', true, p()],
      ['no barcodes', true, product('a1', 0, [])],
      ['weighed false, enabled true', true, p({ weighed: false, enabled: true })],
      ['unit', false, p({ unit: 'кг' })],
      ['receipt name ""', false, p({ receiptName: '' })],
      ['weighed', false, p({ weighed: true })],
      ['stock 0', false, p({ stock: 0 })],
      ['disabled', false, p({ enabled: false })],
      ['extras {}', false, p({ extras: {} })],
      ['name holding SEP', false, p({ name: 'a\u0001b' })],
      ['name being NUL_FIELD', false, p({ name: '\u0002' })],
      ['code holding SEP', false, p({}, 'a\u00011')],
    ];
    for (const [what, short, prod] of cases) {
      assert.equal(isShortProduct(prod), short, what);
      // a short one's 14 values are its 5 and the defaults
      if (short) {
        const row = productRow(prod);
        const five: unknown[] = [];
        writeShortRow(prod, five, 0);
        assert.deepEqual([row[0], row[1], row[2], row[3], row[5]], five, what);
        assert.deepEqual([row[4], row[6], row[7], row[8], row[9], row[10], row[11], row[12], row[13]], [null, null, 0, null, null, null, null, 1, null], what);
      }
    }
  });
});
