import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '../api/errors.js';
import { Store } from './index.js';
import { CATALOG_MIGRATIONS, JOURNAL_MIGRATIONS, latestVersion, migrate, type Migration } from './schema.js';
import { applyAll, fullCatalog, isCode, raw, sale, tempDirs } from './test-fixtures.js';

const { freshDir } = tempDirs('cfx-store-');

describe('Store: files and migrations', () => {
  it('creates both files in WAL mode, migrates once, and keeps data across reopen', () => {
    const dir = freshDir();
    const s1 = Store.open(dir);
    assert.deepEqual(s1.paths, { catalog: join(dir, 'catalog.db'), journal: join(dir, 'journal.db') });
    s1.kv.set('tofu:host', 'SHA256:abc');
    s1.close();
    for (const [f, version] of [['catalog.db', latestVersion(CATALOG_MIGRATIONS)], ['journal.db', latestVersion(JOURNAL_MIGRATIONS)]] as const) {
      const db = raw(join(dir, f));
      assert.equal(db.pragma('user_version', { simple: true }), version, f);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal', f);
      db.close();
    }
    const s2 = Store.open(dir);
    assert.equal(s2.kv.get('tofu:host'), 'SHA256:abc');
    s2.kv.set('tofu:host', 'SHA256:def');
    assert.equal(s2.kv.get('tofu:host'), 'SHA256:def');
    assert.equal(s2.kv.get('missing'), undefined);
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
    w.kv.set('k', 'v');
    const r = Store.open(dir, { readonly: true }); // while the writer is still open, like `cfx status` next to the daemon
    assert.equal(r.readonly, true);
    assert.equal(r.catalog.count(), 3);
    assert.equal(r.catalog.get('1002')?.price, 4999);
    assert.equal(r.kv.get('k'), 'v');
    assert.throws(() => r.kv.set('k', 'x'), isCode(ErrorCodes.USAGE, /read-only/));
    assert.throws(() => r.priceImport.begin({ name: 'x', size: 1, sha256: 'x', mode: 'full' }), isCode(ErrorCodes.USAGE));
    assert.throws(() => r.journal.recordSale(sale('S1', 100), '2024-03-02', '{}'), isCode(ErrorCodes.USAGE));
    r.close();
    w.close();
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
    assert.deepEqual(s.catalog.list({ q: 'чай ч' }).map((p) => [p.code, p.name, p.price]), [['1', 'ЧАЙ Чорний', 4550]]);
    assert.deepEqual(s.catalog.list({ q: 'ҐУД' }).map((p) => p.code), ['2']);
    assert.deepEqual(s.catalog.list({ q: 'tea' }).map((p) => p.code), ['3']);
    assert.deepEqual(s.catalog.list({ q: '48200' }).map((p) => p.code), ['1']);
    s.close();
  });
});

describe('Store: catalog schema 4 (the first barcode as products.barcode)', () => {
  it('migrates a version-3 catalog: lookups and barcode searches answer as before; the side table keeps the other barcodes only', () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'catalog.db');
    const old = raw(file);
    old.pragma('journal_mode = WAL');
    migrate(old, file, CATALOG_MIGRATIONS.filter((m) => m.version <= 3));
    assert.equal(old.pragma('user_version', { simple: true }), 3);
    const ins = old.prepare('INSERT INTO products (code, barcodes, name, name_key, price, enabled) VALUES (?, ?, ?, ?, ?, ?)');
    const rows: [string, string[], number][] = [
      ['1', [], 1],
      ['2', ['4820000000011'], 1],
      ['3', ['4820000000031', '4820000000032', '4820000000033'], 1],
      ['4', ['2000000000001'], 0],
      ['5', ['2000000000001'], 1],
      ['6', ['4820000000061', '2000000000001'], 1],
      ['7', ['777', '888', '777'], 1],
    ];
    for (const [code, bc, enabled] of rows) ins.run(code, JSON.stringify(bc), `Item ${code}`, `item ${code}`, 100 + Number(code), enabled);
    // version 3's index: every barcode in the side table
    old.exec('INSERT OR IGNORE INTO barcodes (barcode, product_code) SELECT j.value, p.code FROM products p, json_each(p.barcodes) j ORDER BY 1, 2');
    const barcodes = ['4820000000011', '4820000000031', '4820000000032', '4820000000033', '2000000000001', '4820000000061', '777', '888', 'none'];
    // what version 3's reads answered (catalog.ts before schema 4)
    const lookupV3 = old.prepare('SELECT p.code FROM products p WHERE p.code IN (SELECT product_code FROM barcodes WHERE barcode = ?) ORDER BY p.enabled DESC, p.code LIMIT 1').pluck();
    const searchV3 = old.prepare('SELECT p.code FROM barcodes b JOIN products p ON p.code = b.product_code WHERE b.barcode >= ? AND b.barcode < ? ORDER BY b.barcode, b.product_code').pluck();
    const before = barcodes.map((b) => (lookupV3.get(b) as string | undefined) ?? null);
    const prefixes = ['2000', '48200000000', '4820000000061', '7', '88'];
    const uniq = (codes: string[]) => codes.filter((c, i) => codes.indexOf(c) === i);
    const searchedBefore = prefixes.map((q) => uniq(searchV3.all(q, `${q}\u{10FFFF}`) as string[]));
    old.close();
    assert.deepEqual(before, ['2', '3', '3', '3', '5', '6', '7', '7', null]);

    const s = Store.open(dir);
    try {
      const db = raw(file);
      assert.equal(db.pragma('user_version', { simple: true }), 4);
      assert.deepEqual(db.prepare("SELECT code, json_extract(barcodes, '$[0]') FROM products ORDER BY code").raw().all(), [
        ['1', null], ['2', '4820000000011'], ['3', '4820000000031'], ['4', '2000000000001'], ['5', '2000000000001'], ['6', '4820000000061'], ['7', '777'],
      ]);
      assert.deepEqual(db.prepare('SELECT barcode, product_code FROM barcodes ORDER BY 1, 2').raw().all(), [
        ['2000000000001', '6'], ['4820000000032', '3'], ['4820000000033', '3'], ['777', '7'], ['888', '7'],
      ]);
      assert.equal(db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'products_barcode'").pluck().get(), 1);
      db.close();
      assert.deepEqual(barcodes.map((b) => s.catalog.findByBarcode(b)?.code ?? null), before);
      // a code listed once per search; barcodes in the same order (a tie on one barcode: first barcodes, then the others)
      assert.deepEqual(prefixes.map((q) => s.catalog.list({ q, limit: 50 }).map((p) => p.code)), searchedBefore);
      assert.deepEqual(s.catalog.get('3')?.barcodes, ['4820000000031', '4820000000032', '4820000000033']);
    } finally {
      s.close();
    }
    // a read-only store (cfx status) opens the migrated file
    const r = Store.open(dir, { readonly: true });
    assert.equal(r.catalog.findByBarcode('4820000000033')?.price, 103);
    r.close();
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

describe('Store: the old one-class surface', () => {
  it('every old method hands its arguments to its repository and returns its answer', () => {
    const s = Store.open(freshDir());
    // [old method, repository, its method]: the @deprecated delegates kept while call sites move
    const table: [string, string, string][] = [
      ['beginPriceApply', 'priceImport', 'begin'],
      ['inboxOpen', 'inbox', 'contains'], ['inboxOpenAll', 'inbox', 'open'], ['inboxConfirm', 'inbox', 'confirm'], ['lastInbox', 'inbox', 'last'], ['recentInbox', 'inbox', 'recent'],
      ['catalogCount', 'catalog', 'count'], ['getProduct', 'catalog', 'get'], ['findByBarcode', 'catalog', 'findByBarcode'], ['listProducts', 'catalog', 'list'],
      ['startRun', 'runs', 'start'], ['finishRun', 'runs', 'finish'], ['addFinishedRun', 'runs', 'addFinished'], ['recordContact', 'runs', 'recordContact'],
      ['lastContacts', 'runs', 'lastContacts'], ['listRuns', 'runs', 'list'], ['getRun', 'runs', 'get'], ['updateRunDetails', 'runs', 'updateDetails'], ['lastRun', 'runs', 'last'],
      ['addQuarantine', 'quarantine', 'add'], ['listQuarantine', 'quarantine', 'list'], ['setQuarantineState', 'quarantine', 'setState'],
      ['recordSale', 'journal', 'recordSale'], ['pendingOutbox', 'journal', 'pendingOutbox'], ['markSent', 'journal', 'markSent'], ['markSentMany', 'journal', 'markSentMany'],
      ['markFailed', 'journal', 'markFailed'], ['salesBetween', 'journal', 'salesBetween'], ['countPending', 'journal', 'countPending'],
      ['collectSales', 'collected', 'collect'], ['getCollected', 'collected', 'get'], ['listCollected', 'collected', 'list'], ['collectedCounts', 'collected', 'counts'],
      ['createDeliveryBatches', 'batches', 'createNew'], ['createRedeliveryBatches', 'batches', 'createRedelivery'], ['assignedBatches', 'batches', 'assigned'],
      ['getBatch', 'batches', 'get'], ['listBatches', 'batches', 'list'], ['batchSales', 'batches', 'sales'], ['markBatchDelivered', 'batches', 'markDelivered'], ['markBatchFailed', 'batches', 'markFailed'],
      ['kvGet', 'kv', 'get'], ['kvSet', 'kv', 'set'], ['kvDelete', 'kv', 'delete'],
    ];
    try {
      const store = s as unknown as Record<string, unknown>;
      const old = Object.getOwnPropertyNames(Store.prototype).filter((m) => !['constructor', 'close', 'dir', 'readonly', 'paths'].includes(m));
      assert.deepEqual(table.map(([m]) => m).sort(), old.sort(), 'the table lists every old method');
      for (const [m, repo, method] of table) {
        const r = store[repo] as Record<string, unknown>;
        const calls: unknown[][] = [];
        const answer = { from: `${repo}.${method}` };
        r[method] = (...args: unknown[]) => {
          calls.push(args);
          return answer;
        };
        const args = ['a', 2, { c: 3 }, 'd'].slice(0, (store[m] as (...a: unknown[]) => unknown).length);
        const got = (store[m] as (...a: unknown[]) => unknown).call(s, ...args);
        assert.deepEqual(calls, [args], m);
        if (got !== undefined) assert.equal(got, answer, m);
      }
    } finally {
      s.close();
    }
  });
});
