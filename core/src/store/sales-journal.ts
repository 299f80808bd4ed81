import type { Transaction } from 'better-sqlite3';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { Sale } from '../api/model.js';
import type { StoreConnection } from './connection.js';
import type { OutboxEntry, SaleRecord, SalesJournal, SentMark } from './repositories.js';
import { checkDate, now, saleColumns, sha256Hex, type Row } from './rows.js';

const toSale = (r: Row): SaleRecord => ({ ...saleColumns(r), recordedAt: r.recorded_at as string });

const MARK_SENT = "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, remote_name = ?, last_error = NULL WHERE terminal_id = ? AND sale_id = ? AND dest = ?";

type RecordTx = Transaction<(sale: Sale, localDate: string, body: string, sha: string) => 'recorded' | 'duplicate'>;

/** The till's sales (journal.db `sales`) and their outbox rows, written together in one transaction. */
export class SqliteSalesJournal implements SalesJournal {
  /** undefined when read-only */
  private readonly recordTx: RecordTx | undefined;

  constructor(private readonly db: StoreConnection) {
    if (db.readonly) return;
    // IMMEDIATE: take the write lock before the duplicate check, so two writers cannot both insert
    const tx = db.journal.transaction((sale: Sale, localDate: string, body: string, sha: string): 'recorded' | 'duplicate' => {
      const prev = db.j('SELECT sha256 FROM sales WHERE terminal_id = ? AND sale_id = ?').pluck().get(sale.terminalId, sale.saleId) as string | undefined;
      if (prev === sha) return 'duplicate';
      if (prev !== undefined) {
        throw new CfxError(
          ErrorCodes.SALE_CONFLICT,
          `sale ${sale.saleId} of terminal ${sale.terminalId} was already recorded with different content (sha256 ${prev}, now ${sha})`,
          { details: { saleId: sale.saleId, terminalId: sale.terminalId, recorded: prev, received: sha } },
        );
      }
      db.j('INSERT INTO sales (terminal_id, sale_id, time, local_date, kind, total, body, sha256, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
        sale.terminalId, sale.saleId, sale.time, localDate, sale.kind, sale.total, body, sha, now(),
      );
      db.j("INSERT INTO outbox (terminal_id, sale_id, dest) VALUES (?, ?, 'server')").run(sale.terminalId, sale.saleId);
      return 'recorded';
    });
    this.recordTx = tx.immediate as RecordTx;
  }

  /**
   * Journals the sale and queues it for the server in one transaction; durable (WAL, synchronous=FULL)
   * when this returns. `body` is the sale's canonical serialisation; its sha256 tells a harmless
   * repeat from a different sale reusing the id.
   */
  recordSale(sale: Sale, localDate: string, body: string): 'recorded' | 'duplicate' {
    this.db.writable();
    checkDate(localDate, 'localDate');
    if (typeof sale.saleId !== 'string' || sale.saleId === '' || typeof sale.terminalId !== 'string' || sale.terminalId === '') {
      throw new CfxError(ErrorCodes.SALE_INVALID, 'a sale needs a non-empty saleId and terminalId', { details: { saleId: sale.saleId, terminalId: sale.terminalId } });
    }
    if (!Number.isSafeInteger(sale.total)) {
      throw new CfxError(ErrorCodes.SALE_INVALID, `sale ${sale.saleId}: total ${sale.total} is not integer minor units`, { details: { saleId: sale.saleId, field: 'total' } });
    }
    try {
      return this.recordTx!(sale, localDate, body, sha256Hex(body));
    } catch (e) {
      if (e instanceof CfxError) throw e;
      // the till must hear "not recorded" with a code it can match, e.g. on a full disk
      throw new CfxError(ErrorCodes.STORE_IO, `sale ${sale.saleId} of terminal ${sale.terminalId} was not recorded: ${(e as Error).message}`, {
        cause: e,
        details: { saleId: sale.saleId, terminalId: sale.terminalId },
      });
    }
  }

  pendingOutbox(limit = 100): OutboxEntry[] {
    const rows = this.db.j(
      `SELECT o.terminal_id, o.sale_id, o.dest, o.attempts, o.last_error, s.local_date, s.body
       FROM outbox o JOIN sales s USING (terminal_id, sale_id) WHERE o.state = 'pending' ORDER BY o.id LIMIT ?`,
    ).all(limit) as Row[];
    return rows.map((r) => ({
      terminalId: r.terminal_id as string,
      saleId: r.sale_id as string,
      dest: r.dest as string,
      attempts: r.attempts as number,
      ...(r.last_error !== null ? { lastError: r.last_error as string } : {}),
      localDate: r.local_date as string,
      body: r.body as string,
    }));
  }

  markSent(saleId: string, terminalId: string, dest: string, remoteName: string): boolean {
    this.db.writable();
    return this.db.j(MARK_SENT).run(now(), remoteName, terminalId, saleId, dest).changes > 0;
  }

  /**
   * markSent for a batch of uploads in ONE transaction, committed without a sync of its own
   * (synchronous=NORMAL for this transaction only; journal.db is synchronous=FULL): no fsync on
   * the main thread per group. A mark lost to a power cut only means the sale is uploaded again
   * under the same name (idempotent: rename replaces); what must never happen, a mark on disk
   * before the sale's local copy, the caller rules out by syncing the group's copies first
   * (sales-push.ts). The sales themselves were made durable by recordSale, and the next FULL
   * commit syncs the WAL up to it, these marks included. Returns how many rows changed.
   */
  markSentMany(marks: readonly SentMark[]): number {
    this.db.writable();
    if (marks.length === 0) return 0;
    const st = this.db.j(MARK_SENT);
    const at = now();
    let changed = 0;
    this.db.journalUnsynced(() =>
      this.db.journal.transaction(() => {
        for (const m of marks) changed += st.run(at, m.remoteName, m.terminalId, m.saleId, m.dest).changes;
      })(),
    );
    return changed;
  }

  markFailed(saleId: string, terminalId: string, dest: string, error: string): boolean {
    this.db.writable();
    return this.db.j('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE terminal_id = ? AND sale_id = ? AND dest = ?').run(error, terminalId, saleId, dest).changes > 0;
  }

  salesBetween(fromDate: string, toDate: string): SaleRecord[] {
    checkDate(fromDate, 'fromDate');
    checkDate(toDate, 'toDate');
    return (this.db.j('SELECT * FROM sales WHERE local_date BETWEEN ? AND ? ORDER BY local_date, rowid').all(fromDate, toDate) as Row[]).map(toSale);
  }

  countPending(): number {
    return this.db.j("SELECT count(*) FROM outbox WHERE state = 'pending'").pluck().get() as number;
  }
}
