import { CfxError, ErrorCodes } from '../api/errors.js';
import type { Db } from './schema.js';
import { buildsInWorker, FreshCatalogBuild } from './catalog-build.js';
import type { StoreConnection } from './connection.js';
import { InPlaceApply, PriceStatements, type FullFileGuard, type InboxFile, type PriceApply } from './price-apply.js';
import type { BeginOptions, PriceImport } from './repositories.js';

/**
 * Price files applied to the catalog: a delta in place, on the catalog writer (the hot path's
 * statements prepared once per writer, here); a full file that starts with its clear into a fresh
 * catalog file, swapped in at commit (FreshCatalogBuild).
 */
export class SqlitePriceImport implements PriceImport {
  /** prepared on the writer they belong to: a swap opens a new writer */
  private statements: { db: Db; st: PriceStatements } | undefined;
  private current: PriceApply | undefined;

  constructor(private readonly db: StoreConnection) {}

  begin(file: InboxFile, guard?: FullFileGuard, opts: BeginOptions = {}): PriceApply {
    this.db.writable();
    if (this.current) throw new CfxError(ErrorCodes.INTERNAL, `cannot apply ${file.name}: the apply of another price file is still open`);
    const writer = this.lock(file.name);
    const release = () => {
      if (writer.inTransaction) writer.exec('ROLLBACK');
    };
    const onEnd = () => {
      this.current = undefined;
    };
    try {
      if (opts.fresh) {
        this.current = new FreshCatalogBuild(this.db, file, guard ?? { allowEmpty: true }, release, onEnd, buildsInWorker(opts.expectedBytes));
      } else {
        if (this.statements?.db !== writer) this.statements = { db: writer, st: new PriceStatements(writer) };
        this.current = new InPlaceApply(writer, this.statements.st, file, onEnd, guard);
      }
    } catch (e) {
      release();
      throw new CfxError(ErrorCodes.STORE_IO, `cannot start applying ${file.name}: ${(e as Error).message}`, { cause: e });
    }
    return this.current;
  }

  /**
   * BEGIN IMMEDIATE on the catalog generation in use, checked once the lock is held: a full import
   * elsewhere holds the old generation's lock until its swap, and what waited for it must move on.
   */
  private lock(name: string): Db {
    for (let attempt = 0; ; attempt++) {
      this.db.syncCatalog();
      const writer = this.db.catalogWriter!;
      try {
        writer.exec('BEGIN IMMEDIATE');
      } catch (e) {
        throw new CfxError(ErrorCodes.STORE_IO, `cannot start applying ${name}: ${(e as Error).message} (is another cfx writing ${this.db.paths.catalog}?)`, { cause: e });
      }
      if (this.db.isCurrent() || attempt >= 3) return writer;
      writer.exec('ROLLBACK');
    }
  }

  /** rolls back an apply still open (the store is closing) */
  abort(): void {
    this.current?.rollback();
  }
}
