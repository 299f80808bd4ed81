import { CfxError, ErrorCodes } from '../api/errors.js';
import type { StoreConnection } from './connection.js';
import type { CollectedFile, CollectedSale, CollectedSales, CollectInput, CollectOutcome, ListCollectedOptions } from './repositories.js';
import { checkDate, now, sha256Hex, toCollected, type Row } from './rows.js';

/** The office's inbox (journal.db `collected`, `collected_files`); their delivery is {@link SqliteDeliveryBatches}. */
export class SqliteCollectedSales implements CollectedSales {
  constructor(private readonly db: StoreConnection) {}

  /**
   * Stores the sales of one collected file in ONE transaction with its `collected_files` row.
   * A sale already collected with the same body is a duplicate (a resend) and is not stored again;
   * the same (terminal, saleId) with a different body throws SALE_CONFLICT and nothing of the file
   * is stored: accounting data is never overwritten silently.
   */
  collect(file: CollectedFile, sales: CollectInput[]): CollectOutcome {
    this.db.writable();
    for (const c of sales) checkDate(c.localDate, 'localDate');
    const run = this.db.journal.transaction((): CollectOutcome => {
      const out: CollectOutcome = { stored: 0, duplicates: 0, storedKeys: [], duplicateKeys: [] };
      const at = now();
      for (const { sale, localDate, body } of sales) {
        const sha = sha256Hex(body);
        const key = `${sale.terminalId}/${sale.saleId}`;
        const prev = this.db.j('SELECT sha256, file_name FROM collected WHERE terminal_id = ? AND sale_id = ?').get(sale.terminalId, sale.saleId) as Row | undefined;
        if (prev && prev.sha256 === sha) {
          out.duplicates++;
          out.duplicateKeys.push(key);
          continue;
        }
        if (prev) {
          throw new CfxError(
            ErrorCodes.SALE_CONFLICT,
            `sale ${sale.saleId} of terminal ${sale.terminalId} was already collected (from ${prev.file_name as string}) with different content ` +
              `(sha256 ${prev.sha256 as string}, now ${sha}); the collected sale is kept, this file is not taken`,
            { details: { terminalId: sale.terminalId, saleId: sale.saleId, field: 'saleId', collectedFrom: prev.file_name, collected: prev.sha256, received: sha } },
          );
        }
        this.db.j(
          'INSERT INTO collected (terminal_id, sale_id, time, local_date, kind, total, body, sha256, file_name, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(sale.terminalId, sale.saleId, sale.time, localDate, sale.kind, sale.total, body, sha, file.name, at);
        out.stored++;
        out.storedKeys.push(key);
      }
      this.db.j('INSERT INTO collected_files (name, size, sha256, sales, stored, duplicates, collected_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        file.name, file.size, file.sha256, sales.length, out.stored, out.duplicates, at,
      );
      return out;
    });
    return run.immediate();
  }

  get(terminalId: string, saleId: string): CollectedSale | undefined {
    const r = this.db.j('SELECT * FROM collected WHERE terminal_id = ? AND sale_id = ?').get(terminalId, saleId) as Row | undefined;
    return r && toCollected(r);
  }

  list(opts: ListCollectedOptions = {}): CollectedSale[] {
    if (opts.from !== undefined) checkDate(opts.from, 'from');
    if (opts.to !== undefined) checkDate(opts.to, 'to');
    const rows = this.db.j(
      `SELECT * FROM collected
       WHERE local_date >= @from AND local_date <= @to AND (@pending = 0 OR delivered_at IS NULL)
       ORDER BY local_date, time, terminal_id, sale_id LIMIT @limit`,
    ).all({ from: opts.from ?? '0000-00-00', to: opts.to ?? '9999-99-99', pending: opts.pending ? 1 : 0, limit: opts.limit ?? -1 }) as Row[];
    return rows.map(toCollected);
  }

  counts(): { collected: number; undelivered: number; assignedBatches: number } {
    return {
      collected: this.db.j('SELECT count(*) FROM collected').pluck().get() as number,
      undelivered: this.db.j('SELECT count(*) FROM collected WHERE delivered_at IS NULL').pluck().get() as number,
      assignedBatches: this.db.j("SELECT count(*) FROM delivery_batches WHERE state = 'assigned'").pluck().get() as number,
    };
  }
}
