import { CfxError, ErrorCodes } from '../api/errors.js';
import type { StoreConnection } from './connection.js';
import { PriceApply, PriceStatements, type FullFileGuard, type InboxFile } from './price-apply.js';
import type { PriceImport } from './repositories.js';

/** Price files applied on the catalog writer; the hot path's statements are prepared once, here. */
export class SqlitePriceImport implements PriceImport {
  /** prepared by the first price file (not at every store open: `cfx sale add` applies none) */
  private statementsRef: PriceStatements | undefined;
  private current: PriceApply | undefined;

  constructor(private readonly db: StoreConnection) {}

  private get statements(): PriceStatements {
    return (this.statementsRef ??= new PriceStatements(this.db.catalogWriter!));
  }

  begin(file: InboxFile, guard?: FullFileGuard): PriceApply {
    this.db.writable();
    const writer = this.db.catalogWriter!;
    if (this.current) throw new CfxError(ErrorCodes.INTERNAL, `cannot apply ${file.name}: the apply of another price file is still open`);
    try {
      writer.exec('BEGIN IMMEDIATE');
    } catch (e) {
      throw new CfxError(ErrorCodes.STORE_IO, `cannot start applying ${file.name}: ${(e as Error).message} (is another cfx writing ${this.db.paths.catalog}?)`, { cause: e });
    }
    this.current = new PriceApply(
      writer,
      this.statements,
      file,
      () => {
        this.current = undefined;
      },
      guard,
    );
    return this.current;
  }

  /** rolls back an apply still open (the store is closing) */
  abort(): void {
    this.current?.rollback();
  }
}
