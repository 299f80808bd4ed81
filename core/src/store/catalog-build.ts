import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database, { type Statement } from 'better-sqlite3';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { PriceRecord } from '../api/model.js';
import { fault } from '../faults/index.js';
import { currentCatalog, fsyncFile, nextCatalogName, removeCatalogFiles, writeCatalogPointer } from './catalog-files.js';
import type { StoreConnection } from './connection.js';
import {
  checkFullFile,
  checkMoney,
  commitFailed,
  inboxRow,
  LOG_INBOX_SQL,
  productRow,
  REBUILD_BARCODES_SQL,
  SUPERSEDE_SQL,
  UPSERT_COLUMNS,
  UPSERT_SQL,
  writeProductRow,
  type CommitInfo,
  type FullFileGuard,
  type InboxFile,
  type PriceApply,
  type PriceApplyResult,
} from './price-apply.js';
import { CATALOG_MIGRATIONS, migrate, NAME_KEY_INDEX, NAME_KEY_INDEX_SQL, type Db } from './schema.js';

/** upserts per multi-row statement: 32 measured best on sorted codes (8: 25 % slower, 64: no better); 32 × 14 parameters is far below SQLite's limit */
const GROUP = 32;

/** inbox_log's columns, named: the copy does not depend on the order a migration left them in */
const INBOX_COLUMNS = 'id, name, size, mtime, sha256, applied_at, records, mode, archived, skipped, skipped_lines, confirmed_at';

/**
 * A full price file built into a NEW catalog file, then swapped in (docs/ARCHITECTURE.md, store):
 *
 * - the caller holds the current generation's write lock (BEGIN IMMEDIATE) from begin to the swap:
 *   no other cfx changes the inbox log meanwhile or builds a generation of its own, and start-up
 *   never takes this file for a crash's leftover;
 * - the new file is written with no journal and no syncs (a crash leaves a file nobody names,
 *   removed at the next start-up), the indexes are built once at the end, sorted;
 * - at commit the old generation's inbox log and meta are copied in, with the new delivery's row:
 *   the new file is the whole catalog.db content, its row visible exactly when its prices are;
 * - the file is switched to WAL, closed, fsynced; then the pointer is replaced (temp, fsync,
 *   rename, dir fsync) — THE commit point — and the old generation's files are removed.
 *
 * Fault points: `prices.pull:building` (rows in, no indexes, nothing synced), `prices.pull:built`
 * (complete and synced, not named), `prices.pull:swapped` (named; the old files still there).
 */
export class FreshCatalogBuild implements PriceApply {
  private upserts = 0;
  private deletes = 0;
  private disables = 0;
  private rows = false;
  private open = true;
  private readonly db: Db;
  private readonly upsert: Statement;
  private readonly upsertGroup: Statement;
  private readonly args: unknown[] = new Array(GROUP * UPSERT_COLUMNS);
  /** the last upserted code: are the codes coming in ascending order? */
  private lastCode = '';
  private readonly del: Statement;
  private readonly disable: Statement;
  readonly name: string;
  private readonly file: string;

  constructor(
    private readonly conn: StoreConnection,
    private readonly inbox: InboxFile,
    private readonly guard: FullFileGuard,
    /** releases the old generation's lock (the caller's transaction) */
    private readonly release: () => void,
    private readonly onEnd: () => void,
  ) {
    this.name = nextCatalogName(conn.dir, conn.catalogName);
    this.file = join(conn.dir, this.name);
    removeCatalogFiles(conn.dir, [this.name, `${this.name}-wal`, `${this.name}-shm`, `${this.name}-journal`]);
    const db = new Database(this.file);
    try {
      // a file nobody reads until it is complete and synced needs neither journal nor syncs
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      // the catalog writer's page cache: 32 MiB measured no faster, for ~30 MB more RSS
      db.pragma('cache_size = -16384');
      migrate(db, this.file, CATALOG_MIGRATIONS);
      // built once, sorted, at the end
      db.exec(`DROP INDEX IF EXISTS ${NAME_KEY_INDEX}`);
      db.prepare('ATTACH ? AS prev').run(conn.paths.catalog);
      db.exec('BEGIN');
      this.upsert = db.prepare(UPSERT_SQL);
      this.upsertGroup = db.prepare(`${UPSERT_SQL.slice(0, UPSERT_SQL.indexOf('VALUES'))}VALUES ${Array(GROUP).fill(`(${Array(UPSERT_COLUMNS).fill('?').join(', ')})`).join(', ')}`);
      this.del = db.prepare('DELETE FROM main.products WHERE code = ?');
      this.disable = db.prepare('UPDATE main.products SET enabled = 0 WHERE code = ?');
    } catch (e) {
      db.close();
      this.removeFiles();
      throw e;
    }
    this.db = db;
  }

  get active(): boolean {
    return this.open;
  }

  apply(rec: PriceRecord): void {
    this.check();
    this.one(rec);
  }

  /**
   * Runs of upserts in ascending code order (a file sorted by code) go in GROUP rows per statement
   * (one multi-row INSERT): the per-call cost of a statement (bind, step, reset, the JS/C++
   * crossing) was ~0.75 s of a 1M-row file. Codes in random order (a file sorted by name) measured
   * slower that way (~+10 %), so a group that is not ascending goes row by row. Order is kept: a
   * delete, disable or clear first flushes the upserts before it.
   */
  applyBatch(recs: readonly PriceRecord[]): void {
    this.check();
    const args = this.args;
    let n = 0;
    let ascending = true;
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i]!;
      if (rec.op !== 'upsert') {
        if (n) this.flush(n, false);
        n = 0;
        ascending = true;
        this.one(rec);
        continue;
      }
      const p = rec.product;
      checkMoney(p, rec.line);
      if (p.code <= this.lastCode) ascending = false;
      this.lastCode = p.code;
      writeProductRow(p, args, n * UPSERT_COLUMNS);
      if (++n === GROUP) {
        this.flush(n, ascending);
        n = 0;
        ascending = true;
      }
    }
    if (n) this.flush(n, false);
  }

  /** the first n rows of args: one statement for a whole ascending group, else one per row */
  private flush(n: number, group: boolean): void {
    const args = this.args;
    if (group && n === GROUP) this.upsertGroup.run(args);
    else for (let k = 0; k < n; k++) this.upsert.run(args.slice(k * UPSERT_COLUMNS, (k + 1) * UPSERT_COLUMNS));
    this.upserts += n;
    this.rows = true;
  }

  private one(rec: PriceRecord): void {
    switch (rec.op) {
      case 'upsert':
        checkMoney(rec.product, rec.line);
        this.upsert.run(productRow(rec.product));
        this.upserts++;
        this.rows = true;
        break;
      case 'delete':
        this.del.run(rec.code);
        this.deletes++;
        break;
      case 'disable':
        this.disable.run(rec.code);
        this.disables++;
        break;
      case 'clear':
        // the leading clear of a full file finds the new file empty; a later one empties it again
        if (this.rows) this.db.exec('DELETE FROM main.products');
        this.rows = false;
        break;
    }
  }

  commit(info: CommitInfo = {}): PriceApplyResult {
    this.check();
    const f = this.inbox;
    const db = this.db;
    let products: number;
    let removed: number | undefined;
    let inboxId: number;
    try {
      const one = (sql: string) => db.prepare(sql).pluck().get() as number;
      removed = checkFullFile(f, this.guard, this.upserts, () => one('SELECT count(*) FROM prev.products'), () =>
        one('SELECT count(*) FROM prev.products p WHERE NOT EXISTS (SELECT 1 FROM main.products q WHERE q.code = p.code)'),
      );
      fault('prices.pull:building');
      db.prepare(REBUILD_BARCODES_SQL).run();
      db.exec(NAME_KEY_INDEX_SQL);
      // the history and settings of the catalog carry over; the lock keeps them still since begin
      db.exec(`INSERT INTO main.inbox_log (${INBOX_COLUMNS}) SELECT ${INBOX_COLUMNS} FROM prev.inbox_log; INSERT INTO main.meta SELECT * FROM prev.meta`);
      const now = new Date().toISOString();
      db.prepare(SUPERSEDE_SQL).run(now, f.name);
      inboxId = Number(db.prepare(LOG_INBOX_SQL).run(inboxRow(f, now, this.upserts + this.deletes + this.disables, info.skipped)).lastInsertRowid);
      products = one('SELECT count(*) FROM main.products');
      db.exec('COMMIT');
      db.exec('DETACH prev');
      // readers open it in WAL like every catalog; on a file with no journal this only rewrites the header
      db.pragma('journal_mode = WAL');
      db.close();
      fsyncFile(this.file);
      fault('prices.pull:built');
    } catch (e) {
      this.rollback();
      throw commitFailed(e, f.name);
    }
    try {
      writeCatalogPointer(this.conn.dir, this.name);
    } catch (e) {
      // the rename happened or it did not: only a pointer naming the new file makes it the catalog
      let named = false;
      try {
        named = currentCatalog(this.conn.dir).name === this.name;
      } catch {
        /* unreadable: not named */
      }
      if (!named) {
        this.rollback();
        throw commitFailed(e, f.name);
      }
    }
    fault('prices.pull:swapped');
    this.open = false;
    try {
      this.release();
      this.conn.syncCatalog();
      // the old generation: readers elsewhere move on at their next read (an open file stays readable on POSIX)
      this.conn.removeOldGenerations();
    } catch {
      /* committed: a file left behind is removed at the next start-up */
    } finally {
      this.onEnd();
    }
    return { upserts: this.upserts, deletes: this.deletes, disables: this.disables, cleared: true, products, inboxId, ...(removed !== undefined ? { removed } : {}) };
  }

  rollback(): void {
    if (!this.open) return;
    this.open = false;
    try {
      if (this.db.open) this.db.close();
      this.removeFiles();
    } finally {
      try {
        this.release();
      } finally {
        this.onEnd();
      }
    }
  }

  private removeFiles(): void {
    for (const sfx of ['', '-wal', '-shm', '-journal']) rmSync(this.file + sfx, { force: true });
  }

  private check(): void {
    if (!this.open) throw new CfxError(ErrorCodes.INTERNAL, `price apply of ${this.inbox.name} is already committed or rolled back`);
  }
}
