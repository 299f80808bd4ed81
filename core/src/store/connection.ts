import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Statement } from 'better-sqlite3';
import { CfxError, ErrorCodes } from '../api/errors.js';
import { currentCatalog, LEGACY_CATALOG, pointerStamp, removeCatalogFiles, sameStamp, staleCatalogFiles, type PointerStamp } from './catalog-files.js';
import { CATALOG_MIGRATIONS, JOURNAL_MIGRATIONS, openDb, type Db } from './schema.js';

export interface StoreOptions {
  /** open existing files without migrating, e.g. `cfx status` next to a running daemon */
  readonly?: boolean;
}

export interface StorePaths {
  catalog: string;
  journal: string;
}

/**
 * The connections every repository shares, and their statement caches: a statement is prepared on
 * first use and reused by every repository that runs the same SQL, as when the store was one class
 * (the hot paths — journaling a sale, the price import — prepare nothing per call).
 *
 * Two files so that a long price import (one write transaction on the catalog, held across awaits)
 * never delays journaling a sale (short transactions on journal.db). Catalog reads go through
 * their own connection and so see the last committed catalog, never a half-applied one.
 *
 * The catalog is a generation (catalog-files.ts): a full import builds a new file and swaps the
 * pointer. {@link syncCatalog} — one stat of the pointer — moves both catalog connections to the
 * generation it names; every catalog repository calls it once at the start of each read or write,
 * so a read sees one generation from its first statement to its last.
 */
export class StoreConnection {
  private readonly journalStmts = new Map<string, Statement>();
  private readerStmts = new Map<string, Statement>();
  private writerStmts = new Map<string, Statement>();
  private closedFlag = false;
  /** the writer is still on an older generation (it held a transaction when the reader moved) */
  private writerBehind = false;

  private constructor(
    readonly dir: string,
    readonly readonly: boolean,
    /** the catalog generation in use (its base name) and the pointer stamp it was read with */
    private gen: { name: string; stamp: PointerStamp | undefined },
    /** the catalog for writing; undefined when read-only */
    private writer: Db | undefined,
    /** the catalog, read-only: the last committed catalog */
    private reader: Db,
    readonly journal: Db,
  ) {}

  static open(dataDir: string, opts: StoreOptions = {}): StoreConnection {
    const dir = resolve(dataDir);
    const readonly = opts.readonly === true;
    if (!readonly) mkdirSync(dir, { recursive: true });
    const opened: Db[] = [];
    try {
      const cat = openCatalog(dir, readonly);
      opened.push(cat.reader);
      if (cat.writer) opened.push(cat.writer);
      const journal = openDb(join(dir, 'journal.db'), JOURNAL_MIGRATIONS, readonly);
      opened.push(journal);
      const conn = new StoreConnection(dir, readonly, cat.gen, cat.writer, cat.reader, journal);
      if (!readonly) conn.removeOldGenerations();
      return conn;
    } catch (e) {
      for (const db of opened) db.close();
      throw e;
    }
  }

  get paths(): StorePaths {
    return { catalog: join(this.dir, this.gen.name), journal: join(this.dir, 'journal.db') };
  }

  /** the catalog for writing (undefined when read-only): the generation in use when last synced */
  get catalogWriter(): Db | undefined {
    return this.writer;
  }

  /** the catalog, read-only */
  get catalogReader(): Db {
    return this.reader;
  }

  /** base name of the catalog generation the connections are on */
  get catalogName(): string {
    return this.gen.name;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** idempotent; an open price apply must be rolled back first (Store.close does) */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.writer?.close();
    this.reader.close();
    this.journal.close();
  }

  /**
   * Moves the catalog connections to the generation the pointer names, when a full import (this
   * process or another) swapped it: one stat when nothing changed. The writer stays where it is
   * while it holds a transaction (an import in flight: its own commit decides).
   */
  syncCatalog(): void {
    this.checkOpen();
    if (sameStamp(pointerStamp(this.dir), this.gen.stamp) && !this.writerBehind) return;
    const keepWriter = this.writer?.inTransaction === true;
    const next = openCatalog(this.dir, this.readonly || keepWriter);
    if (next.gen.name === this.gen.name && !this.writerBehind) {
      next.reader.close();
      next.writer?.close();
      this.gen = next.gen;
      return;
    }
    this.reader.close();
    this.reader = next.reader;
    this.readerStmts = new Map();
    if (next.writer) {
      this.writer?.close();
      this.writer = next.writer;
      this.writerStmts = new Map();
    }
    // a writer kept for its transaction moves at the first sync after it
    this.writerBehind = keepWriter && !this.readonly;
    this.gen = next.gen;
  }

  /**
   * Runs `fn` in an IMMEDIATE transaction on the catalog generation in use, which it checks once it
   * holds the lock: a full import elsewhere holds the old generation's lock until its swap, and a
   * write that waited for it must not land in a file nobody reads any more.
   */
  catalogWrite<T>(fn: () => T): T {
    this.writable();
    for (let attempt = 0; ; attempt++) {
      this.syncCatalog();
      const w = this.writer!;
      w.exec('BEGIN IMMEDIATE');
      if (attempt < 3 && !sameStamp(pointerStamp(this.dir), this.gen.stamp)) {
        w.exec('ROLLBACK');
        continue;
      }
      try {
        const r = fn();
        w.exec('COMMIT');
        return r;
      } catch (e) {
        if (w.inTransaction) w.exec('ROLLBACK');
        throw e;
      }
    }
  }

  /** true when the pointer still names the generation the connections are on */
  isCurrent(): boolean {
    return sameStamp(pointerStamp(this.dir), this.gen.stamp);
  }

  /**
   * Removes the files of generations no longer named (a crashed build, an old catalog a swap left
   * behind, catalog.db of an older install). Only under the current generation's write lock, which a
   * full import holds for its whole build: a file being built by another process is never removed.
   */
  removeOldGenerations(): string[] {
    if (!this.writer || staleCatalogFiles(this.dir, this.gen.name).length === 0) return [];
    const w = this.writer;
    w.pragma('busy_timeout = 0');
    try {
      w.exec('BEGIN IMMEDIATE');
    } catch {
      return []; // an import holds it: its own swap removes the old files
    } finally {
      w.pragma('busy_timeout = 5000');
    }
    try {
      if (!this.isCurrent()) return [];
      return removeCatalogFiles(this.dir, staleCatalogFiles(this.dir, this.gen.name));
    } finally {
      w.exec('ROLLBACK');
    }
  }

  /** journal.db statement, prepared on first use */
  j(sql: string): Statement {
    return this.prepared(this.journal, this.journalStmts, sql);
  }

  /** catalog reader statement, prepared on first use (call syncCatalog() once per read first) */
  c(sql: string): Statement {
    return this.prepared(this.reader, this.readerStmts, sql);
  }

  /** catalog writer statement, prepared on first use; checks writable() */
  w(sql: string): Statement {
    this.writable();
    return this.prepared(this.writer!, this.writerStmts, sql);
  }

  /** throws unless the store is open for writing */
  writable(): void {
    this.checkOpen();
    if (this.readonly) throw new CfxError(ErrorCodes.USAGE, `store ${this.dir} is open read-only`);
  }

  /**
   * Runs `fn` with journal.db at synchronous=NORMAL: its commits get no sync of their own, the next
   * FULL commit syncs them. Only for writes whose loss in a power cut is harmless (a sent mark, a heartbeat).
   */
  journalUnsynced<T>(fn: () => T): T {
    const sync = this.journal.pragma('synchronous', { simple: true }) as number;
    this.journal.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      this.journal.pragma(`synchronous = ${sync}`);
    }
  }

  private checkOpen(): void {
    if (this.closedFlag) throw new CfxError(ErrorCodes.INTERNAL, `store ${this.dir} is closed`);
  }

  private prepared(db: Db, cache: Map<string, Statement>, sql: string): Statement {
    this.checkOpen();
    let st = cache.get(sql);
    if (!st) cache.set(sql, (st = db.prepare(sql)));
    return st;
  }
}

/**
 * Opens the generation the pointer names: reader, and writer unless `readonly`. A generation is
 * deleted only after the pointer moved past it, so a file gone between reading the pointer and
 * opening it means a swap happened: read the pointer again.
 */
function openCatalog(dir: string, readonly: boolean): { gen: { name: string; stamp: PointerStamp | undefined }; writer: Db | undefined; reader: Db } {
  for (let attempt = 0; ; attempt++) {
    const gen = currentCatalog(dir);
    const file = join(dir, gen.name);
    let writer: Db | undefined;
    try {
      // catalog.db may be created (a new install); a generation is only ever opened, never created here
      writer = readonly ? undefined : openDb(file, CATALOG_MIGRATIONS, false, { mustExist: gen.name !== LEGACY_CATALOG });
      if (writer) {
        // the import's index pages stay in memory; 16 MiB measured as fast as 64 (bench/) at ~75 MB less peak RSS
        writer.pragma('cache_size = -16384');
        // a 1M-row delta grows the WAL to hundreds of MB; give the disk back after the checkpoint
        writer.pragma('journal_size_limit = 67108864');
      }
      const reader = openDb(file, CATALOG_MIGRATIONS, true);
      if (attempt < 5 && !sameStamp(pointerStamp(dir), gen.stamp)) {
        reader.close();
        writer?.close();
        continue;
      }
      return { gen, writer, reader };
    } catch (e) {
      writer?.close();
      if (attempt < 5 && gen.stamp !== undefined && !sameStamp(pointerStamp(dir), gen.stamp)) continue;
      throw e;
    }
  }
}
