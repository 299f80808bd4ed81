import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from 'better-sqlite3';
import { ErrorCodes } from '../api/errors.js';
import { Store, StoreConnection } from './index.js';
import { applyAll, fullCatalog, isCode, sale, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-connection-');

/** counts db.prepare calls from now on */
function countPrepares(db: Database): { readonly n: number } {
  const counter = { n: 0 };
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    counter.n++;
    return prepare(sql);
  }) as typeof db.prepare;
  return counter;
}

describe('store connection', () => {
  it('caches a statement per connection: the same SQL is prepared once', () => {
    const c = StoreConnection.open(freshDir());
    try {
      assert.equal(c.j('SELECT 1'), c.j('SELECT 1'));
      assert.equal(c.c('SELECT 1'), c.c('SELECT 1'));
      assert.equal(c.w('SELECT 1'), c.w('SELECT 1'));
      assert.notEqual(c.j('SELECT 1'), c.c('SELECT 1'));
      assert.notEqual(c.c('SELECT 1'), c.w('SELECT 1'));
    } finally {
      c.close();
    }
  });

  it('the repositories of a store share it: journaling a sale and applying a price file prepare nothing after the first time', async () => {
    const s = Store.open(freshDir());
    try {
      const db = (s as unknown as { db: StoreConnection }).db;
      const journal = countPrepares(db.journal);
      const writer = countPrepares(db.catalogWriter!);
      s.journal.recordSale(sale('S1', 100), '2024-03-02', JSON.stringify(sale('S1', 100)));
      await applyAll(s, 'g1.csv', 'full', fullCatalog);
      const first = [journal.n, writer.n];
      assert.ok(journal.n > 0, 'the first sale prepared its statements (the counter sees them)');
      s.recordSale(sale('S2', 200), '2024-03-02', JSON.stringify(sale('S2', 200))); // the old surface: the same statements
      s.journal.recordSale(sale('S3', 300), '2024-03-02', JSON.stringify(sale('S3', 300)));
      await applyAll(s, 'g2.csv', 'full', fullCatalog);
      assert.deepEqual([journal.n, writer.n], first);
    } finally {
      s.close();
    }
  });

  it('refuses writes when read-only and everything once closed; close is idempotent', () => {
    const dir = freshDir();
    StoreConnection.open(dir).close();
    const r = StoreConnection.open(dir, { readonly: true });
    assert.equal(r.catalogWriter, undefined);
    assert.throws(() => r.writable(), isCode(ErrorCodes.USAGE, /read-only/));
    assert.throws(() => r.w('SELECT 1'), isCode(ErrorCodes.USAGE, /read-only/));
    r.close();
    const s = Store.open(dir);
    s.close();
    s.close();
    assert.throws(() => s.catalog.count(), isCode(ErrorCodes.INTERNAL, /is closed/));
    assert.throws(() => s.kv.set('k', 'v'), isCode(ErrorCodes.INTERNAL, /is closed/));
  });

  it('journalUnsynced relaxes journal.db to synchronous=NORMAL for its callback only, even when it throws', () => {
    const c = StoreConnection.open(freshDir());
    try {
      const sync = () => c.journal.pragma('synchronous', { simple: true });
      assert.equal(sync(), 2);
      assert.equal(c.journalUnsynced(() => sync()), 1);
      assert.throws(() => c.journalUnsynced(() => { throw new Error('boom'); }), /boom/);
      assert.equal(sync(), 2);
    } finally {
      c.close();
    }
  });
});
