import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Product } from '../api/model.js';
import { Store } from './index.js';
import { CATALOG_SEARCH_SQL, FIND_BY_BARCODE_SQL } from './catalog.js';
import { applyAll, plan, product, raw, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-catalog-');

describe('catalog', () => {
  it('findByBarcode prefers the enabled product when a barcode is shared', async () => {
    const s = Store.open(freshDir());
    await applyAll(s, 'g.csv', 'full', [
      { op: 'clear' },
      { op: 'upsert', product: product('A', 100, ['111'], { enabled: false }) },
      { op: 'upsert', product: product('B', 200, ['111']) },
    ]);
    assert.equal(s.catalog.findByBarcode('111')?.code, 'B');
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
    assert.deepEqual(codes(s.catalog.list()), ['100', '101', '200', '300']);
    assert.deepEqual(codes(s.catalog.list({ limit: 2, offset: 1 })), ['101', '200']);
    assert.deepEqual(codes(s.catalog.list({ q: '10' })), ['100', '101', '300']);
    assert.deepEqual(codes(s.catalog.list({ q: '590' })), ['200']);
    assert.deepEqual(codes(s.catalog.list({ q: 'молоко' })), ['100']);
    assert.deepEqual(codes(s.catalog.list({ q: 'MILK' })), ['101']);
    assert.deepEqual(codes(s.catalog.list({ q: '100%' })), ['300']);
    assert.deepEqual(codes(s.catalog.list({ q: '%' })), []);
    assert.equal(s.catalog.list({ q: 'хліб' })[0]?.price, 2100);
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
      assert.deepEqual(codes(s.catalog.list({ q })), ['11', '10'], q);
    }
    assert.deepEqual(codes(s.catalog.list({ q: 'кв' })), ['482', '11', '10']);
    assert.deepEqual(codes(s.catalog.list({ q: 'ёл' })), ['12']);
    assert.deepEqual(codes(s.catalog.list({ q: 'ЇЖ' })), ['13']);
    assert.deepEqual(codes(s.catalog.list({ q: '1' })), ['10', '11', '12', '13']);
    assert.deepEqual(codes(s.catalog.list({ q: '4820000000028' })), ['10'], 'exact barcode');
    assert.deepEqual(codes(s.catalog.list({ q: '2000' })), ['12'], 'barcode prefix');
    assert.deepEqual(codes(s.catalog.list({ q: 'нема' })), []);
    // "482": code 482 and code 4820000000099 (code prefix, by code); then the barcodes 4820000000011
    // (482, listed already), 4820000000028 and 4821111111111 (both product 10: once), 4820000000099
    // (listed already); then the name "482 Special" (listed already)
    const all = codes(s.catalog.list({ q: '482' }));
    assert.deepEqual(all, ['482', '4820000000099', '10']);
    for (const size of [1, 2]) {
      const pages: string[] = [];
      for (let offset = 0; offset < 5; offset += size) pages.push(...codes(s.catalog.list({ q: '482', limit: size, offset })));
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
        const st = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
        // the barcode read binds its range twice (two index reads merged)
        const plan = (st.all(...(which === 'barcode' ? ['a', 'b', 'a', 'b'] : ['a', 'b'])) as { detail: string }[]).map((r) => r.detail);
        assert.ok(plan.length > 0, which);
        for (const step of plan) {
          // a merge of two ordered reads shows as its own steps, which read nothing themselves
          if (which === 'barcode' && /^(MERGE \(UNION ALL\)|LEFT|RIGHT)$/.test(step)) continue;
          assert.match(step, /^SEARCH .* USING (INDEX|PRIMARY KEY|COVERING INDEX) /, `${which}: ${plan.join(' | ')}`);
          assert.doesNotMatch(step, /SCAN|TEMP B-TREE/, `${which}: ${plan.join(' | ')}`);
        }
      }
      assert.match(plan(db, CATALOG_SEARCH_SQL.name), /USING INDEX products_name_key \(name_key>\? AND name_key<\?\)/);
      const merged = (db.prepare(`EXPLAIN QUERY PLAN ${CATALOG_SEARCH_SQL.barcode}`).all('a', 'b', 'a', 'b') as { detail: string }[]).map((r) => r.detail).join(' | ');
      assert.match(merged, /^MERGE \(UNION ALL\) \| LEFT \| SEARCH p USING INDEX products_barcode \(<expr>>\? AND <expr><\?\) \| RIGHT \| SEARCH b USING PRIMARY KEY/);
      // a lookup: the first barcodes' index and the side table's key, no scan
      const lookup = (db.prepare(`EXPLAIN QUERY PLAN ${FIND_BY_BARCODE_SQL}`).all('a', 'a') as { detail: string }[]).map((r) => r.detail).join(' | ');
      assert.match(lookup, /SEARCH p USING INDEX products_barcode \(<expr>=\?\)/);
      assert.match(lookup, /SEARCH barcodes USING PRIMARY KEY \(barcode=\?\)/);
      assert.doesNotMatch(lookup, /SCAN/);
    } finally {
      db.close();
    }
  });
});
