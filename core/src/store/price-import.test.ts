import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ErrorCodes } from '../api/errors.js';
import { Store } from './index.js';
import { CATALOG_SEARCH_SQL } from './catalog.js';
import { applyAll, fullCatalog, isCode, plan, product, raw, sale, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-price-import-');

describe('price import', () => {
  it('a full file replaces the catalog; products and barcodes read back exactly', async () => {
    const s = Store.open(freshDir());
    const r1 = await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    assert.deepEqual(r1, { upserts: 3, deletes: 0, disables: 0, cleared: true, products: 3, inboxId: 1 });
    assert.deepEqual(s.catalog.get('1001'), {
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
    assert.deepEqual(s.catalog.get('1002'), {
      code: '1002',
      barcodes: ['4820000000028'],
      name: 'Item 1002',
      price: 4999,
      unit: 'кг',
      weighed: true,
      enabled: true,
      extras: { shelf: '7' },
    });
    assert.equal(s.catalog.findByBarcode('4820000000012')?.code, '1001');

    const r2 = await applyAll(s, 'goods2.csv', 'full', [
      { op: 'clear' },
      { op: 'upsert', product: product('1002', 5100, ['4820000000035']) },
      { op: 'upsert', product: product('2001', 700, ['4820000000011']) }, // a barcode moved to another product
      { op: 'upsert', product: product('2001', 750, ['4820000000011']) }, // a repeated code: the last line wins
    ]);
    assert.deepEqual(r2, { upserts: 3, deletes: 0, disables: 0, cleared: true, products: 2, inboxId: 2 });
    assert.equal(s.catalog.count(), 2);
    assert.equal(s.catalog.get('1001'), undefined);
    assert.equal(s.catalog.get('1003'), undefined);
    assert.equal(s.catalog.get('1002')?.price, 5100);
    assert.deepEqual(s.catalog.get('1002')?.barcodes, ['4820000000035']);
    assert.equal(s.catalog.get('2001')?.price, 750);
    assert.equal(s.catalog.findByBarcode('4820000000011')?.code, '2001');
    assert.equal(s.catalog.findByBarcode('4820000000028'), undefined);
    assert.equal(s.catalog.findByBarcode('4820000000012'), undefined);
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
    assert.equal(s.catalog.get('1001')?.price, 1300);
    assert.deepEqual(s.catalog.get('1001')?.barcodes, ['4820000000011', '4820000000099']);
    assert.equal(s.catalog.findByBarcode('4820000000099')?.code, '1001');
    assert.equal(s.catalog.findByBarcode('4820000000012'), undefined, 'barcode dropped from the product is gone');
    assert.equal(s.catalog.get('1002'), undefined);
    assert.equal(s.catalog.findByBarcode('4820000000028'), undefined);
    assert.equal(s.catalog.get('1003')?.enabled, false);
    assert.equal(s.catalog.get('1003')?.price, 100);
    assert.equal(s.catalog.get('3001')?.enabled, false);
    assert.equal(s.catalog.findByBarcode('4820000000301')?.price, 25);
    s.close();
  });

  it('rollback leaves the previous catalog and no inbox_log row; readers never see a half-applied file', async () => {
    const s = Store.open(freshDir());
    await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    const a = s.priceImport.begin({ name: 'goods2.csv', size: 10, sha256: 'sha-goods2', mode: 'full' });
    a.apply({ op: 'clear' });
    a.apply({ op: 'upsert', product: product('9001', 1, ['4829999999999']) });
    await new Promise((res) => setImmediate(res));
    // sales must still be journaled while the catalog transaction is open
    assert.equal(s.journal.recordSale(sale('S-during', 500), '2024-03-02', JSON.stringify(sale('S-during', 500))), 'recorded');
    assert.equal(s.catalog.count(), 3, 'reads see the last committed catalog during the apply');
    assert.equal(s.catalog.get('1001')?.price, 1250);
    assert.equal(s.catalog.get('9001'), undefined);
    assert.throws(() => s.priceImport.begin({ name: 'other', size: 1, sha256: 'o', mode: 'delta' }), isCode(ErrorCodes.INTERNAL, /still open/));
    a.rollback();
    assert.equal(a.active, false);
    assert.throws(() => a.apply({ op: 'delete', code: '1001' }), isCode(ErrorCodes.INTERNAL));
    assert.equal(s.catalog.count(), 3);
    assert.equal(s.catalog.get('1001')?.price, 1250);
    assert.equal(s.catalog.findByBarcode('4820000000028')?.code, '1002');
    assert.equal(s.catalog.findByBarcode('4829999999999'), undefined);
    assert.equal(s.inbox.contains('goods2.csv', 'sha-goods2'), undefined);
    assert.equal(s.inbox.last()?.name, 'goods1.csv');
    // the writer is free again
    await applyAll(s, 'goods3.csv', 'delta', [{ op: 'disable', code: '1001' }]);
    assert.equal(s.catalog.get('1001')?.enabled, false);
    s.close();
  });

  it('a bad price aborts nothing by itself, and close() rolls back an open apply', async () => {
    const dir = freshDir();
    const s = Store.open(dir);
    await applyAll(s, 'goods1.csv', 'full', fullCatalog);
    const a = s.priceImport.begin({ name: 'bad.csv', size: 1, sha256: 'sha-bad', mode: 'full' });
    a.apply({ op: 'clear' });
    assert.throws(() => a.apply({ op: 'upsert', product: product('X', 12.5, []), line: 4 }), isCode(ErrorCodes.FORMAT_INVALID, /"X" \(line 4\)/, /not integer minor units/));
    assert.equal(a.active, true, 'the caller decides: quarantine the file and roll back');
    s.close();
    const s2 = Store.open(dir);
    assert.equal(s2.catalog.count(), 3);
    assert.equal(s2.inbox.contains('bad.csv', 'sha-bad'), undefined);
    s2.close();
  });

  it('a delta keeps the name key; a full file rebuilds its indexes (name key, first barcode), and a rolled-back full file keeps the old one', async () => {
    const dir = freshDir();
    const s = Store.open(dir);
    await applyAll(s, 'g1.csv', 'full', [{ op: 'clear' }, { op: 'upsert', product: { code: '1', name: 'Молоко', price: 1, barcodes: [] } }]);
    await applyAll(s, 'd1.csv', 'delta', [
      { op: 'upsert', product: { code: '1', name: 'Кефір', price: 1, barcodes: [] } },
      { op: 'upsert', product: { code: '2', name: 'МОЛОКО 1л', price: 2, barcodes: [] } },
    ]);
    assert.deepEqual(s.catalog.list({ q: 'молоко' }).map((p) => p.code), ['2']);
    assert.deepEqual(s.catalog.list({ q: 'кеф' }).map((p) => p.code), ['1']);
    const a = s.priceImport.begin({ name: 'g2.csv', size: 1, sha256: 'x', mode: 'full' });
    a.apply({ op: 'clear' });
    a.apply({ op: 'upsert', product: { code: '3', name: 'Сир', price: 3, barcodes: [] } });
    a.rollback();
    assert.deepEqual(s.catalog.list({ q: 'кеф' }).map((p) => p.code), ['1']);
    await applyAll(s, 'g3.csv', 'full', [{ op: 'clear' }, { op: 'clear' }, { op: 'upsert', product: { code: '3', name: 'Сир', price: 3, barcodes: [] } }]);
    assert.deepEqual(s.catalog.list({ q: 'сир' }).map((p) => p.code), ['3']);
    s.close();
    const db = raw(join(dir, 'catalog.db'));
    assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'products' AND sql IS NOT NULL ORDER BY name").pluck().all(), ['products_barcode', 'products_name_key']);
    assert.equal(plan(db, CATALOG_SEARCH_SQL.name).includes('products_name_key'), true);
    db.close();
  });
});
