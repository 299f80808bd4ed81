import type { PriceFileMode } from '../api/model.js';
import type { StoreConnection } from './connection.js';
import type { InboxEntry, InboxLog } from './repositories.js';
import { now, type Row } from './rows.js';

const toInbox = (r: Row): InboxEntry => ({
  id: r.id as number,
  name: r.name as string,
  size: r.size as number,
  ...(r.mtime !== null ? { mtime: r.mtime as string } : {}),
  sha256: r.sha256 as string,
  appliedAt: r.applied_at as string,
  records: r.records as number,
  mode: r.mode as PriceFileMode,
  ...(r.archived !== null ? { archived: r.archived as string } : {}),
  skipped: r.skipped as number,
  ...(r.skipped_lines !== null ? (({ lines, reasons }: { lines: number[]; reasons: string[] }) => ({ skippedLines: lines, skippedReasons: reasons }))(JSON.parse(r.skipped_lines as string)) : {}),
  ...(r.confirmed_at !== null ? { confirmedAt: r.confirmed_at as string } : {}),
});

/**
 * The inbox log (catalog.db) as an idempotent repository: see {@link InboxLog}. Its rows are added
 * by the price import's commit (PriceStatements.logInbox), read here on the reader connection and
 * confirmed on the writer.
 */
export class SqliteInboxLog implements InboxLog {
  constructor(private readonly db: StoreConnection) {}

  contains(name: string, sha256: string): InboxEntry | undefined {
    this.db.syncCatalog();
    const r = this.db.c('SELECT * FROM inbox_log WHERE name = ? AND sha256 = ? AND confirmed_at IS NULL ORDER BY id DESC LIMIT 1').get(name, sha256) as Row | undefined;
    return r && toInbox(r);
  }

  confirm(id: number): void {
    const at = now();
    this.db.catalogWrite(() => this.db.w('UPDATE inbox_log SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL').run(at, id));
  }

  open(): InboxEntry[] {
    this.db.syncCatalog();
    return (this.db.c('SELECT * FROM inbox_log WHERE confirmed_at IS NULL ORDER BY id').all() as Row[]).map(toInbox);
  }

  last(): InboxEntry | undefined {
    this.db.syncCatalog();
    const r = this.db.c('SELECT * FROM inbox_log ORDER BY id DESC LIMIT 1').get() as Row | undefined;
    return r && toInbox(r);
  }

  recent(limit = 10): InboxEntry[] {
    this.db.syncCatalog();
    return (this.db.c('SELECT * FROM inbox_log ORDER BY id DESC LIMIT ?').all(limit) as Row[]).map(toInbox);
  }
}
