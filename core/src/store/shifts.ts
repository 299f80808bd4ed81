import { CfxError, ErrorCodes } from '../api/errors.js';
import type { StoreConnection } from './connection.js';
import type { ServedResend, ShiftCloseKey, ShiftCloseRecord, ShiftJournal, ShiftReceipts, ShiftSummary } from './repositories.js';
import { checkDate, now, sha256Hex, type Row } from './rows.js';

/** served resend requests kept (the status file shows the newest 20) */
export const SERVED_KEEP = 100;

const toClose = (r: Row): ShiftCloseRecord => ({
  terminalId: r.terminal_id as string,
  shift: r.shift as number,
  closedAt: r.closed_at as string,
  localDate: r.local_date as string,
  body: r.body as string,
  sha256: r.sha256 as string,
  recordedAt: r.recorded_at as string,
  state: r.state as 'pending' | 'sent',
  attempts: r.attempts as number,
  ...(r.last_error !== null ? { lastError: r.last_error as string } : {}),
  ...(r.sent_at !== null ? { sentAt: r.sent_at as string } : {}),
  ...(r.remote_name !== null ? { remoteName: r.remote_name as string } : {}),
});

/*
 * A sale's shift and receipt number live in its canonical body (sales.body), not in columns: the
 * queries below read them with json_extract over one period (the local_date index), which for the
 * status file's 7 days or a resend's period is a few thousand rows at most.
 */
const SHIFT = "json_extract(body, '$.shift')";
const RECEIPT = "json_extract(body, '$.receiptNo')";

/** journal.db `shift_closes` and `resends_served`, and the receipt numbers of `sales` (docs/fleet.md). */
export class SqliteShiftJournal implements ShiftJournal {
  constructor(private readonly db: StoreConnection) {}

  record(close: ShiftCloseKey, localDate: string, body: string): 'recorded' | 'duplicate' {
    this.db.writable();
    checkDate(localDate, 'localDate');
    const sha = sha256Hex(body);
    try {
      // IMMEDIATE: the write lock before the repeat check, so two closes of one shift cannot both insert
      return this.db.journal
        .transaction((): 'recorded' | 'duplicate' => {
          const prev = this.db.j('SELECT sha256 FROM shift_closes WHERE terminal_id = ? AND shift = ?').pluck().get(close.terminal, close.shift) as string | undefined;
          if (prev === sha) return 'duplicate';
          if (prev !== undefined) {
            throw new CfxError(ErrorCodes.SHIFT_CONFLICT, `shift ${close.shift} of terminal ${close.terminal} was already closed with different content (sha256 ${prev}, now ${sha})`, {
              details: { shift: close.shift, terminal: close.terminal, recorded: prev, received: sha },
            });
          }
          this.db
            .j('INSERT INTO shift_closes (terminal_id, shift, closed_at, local_date, body, sha256, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
            .run(close.terminal, close.shift, close.closedAt, localDate, body, sha, now());
          return 'recorded';
        })
        .immediate();
    } catch (e) {
      if (e instanceof CfxError) throw e;
      throw new CfxError(ErrorCodes.STORE_IO, `the close of shift ${close.shift} was not recorded: ${(e as Error).message}`, { cause: e, details: { shift: close.shift } });
    }
  }

  get(terminalId: string, shift: number): ShiftCloseRecord | undefined {
    const r = this.db.j('SELECT * FROM shift_closes WHERE terminal_id = ? AND shift = ?').get(terminalId, shift) as Row | undefined;
    return r ? toClose(r) : undefined;
  }

  pending(): ShiftCloseRecord[] {
    return (this.db.j("SELECT * FROM shift_closes WHERE state = 'pending' ORDER BY recorded_at, rowid").all() as Row[]).map(toClose);
  }

  countPending(): number {
    return this.db.j("SELECT count(*) FROM shift_closes WHERE state = 'pending'").pluck().get() as number;
  }

  between(fromDate: string, toDate: string): ShiftCloseRecord[] {
    checkDate(fromDate, 'fromDate');
    checkDate(toDate, 'toDate');
    return (this.db.j('SELECT * FROM shift_closes WHERE local_date BETWEEN ? AND ? ORDER BY local_date, shift').all(fromDate, toDate) as Row[]).map(toClose);
  }

  markSent(terminalId: string, shift: number, remoteName: string): boolean {
    this.db.writable();
    return (
      this.db
        .j("UPDATE shift_closes SET state = 'sent', attempts = attempts + 1, sent_at = ?, remote_name = ?, last_error = NULL WHERE terminal_id = ? AND shift = ?")
        .run(now(), remoteName, terminalId, shift).changes > 0
    );
  }

  markFailed(terminalId: string, shift: number, error: string): boolean {
    this.db.writable();
    return this.db.j('UPDATE shift_closes SET attempts = attempts + 1, last_error = ? WHERE terminal_id = ? AND shift = ?').run(error, terminalId, shift).changes > 0;
  }

  receiptsBetween(terminalId: string, fromDate: string, toDate: string): ShiftReceipts[] {
    checkDate(fromDate, 'fromDate');
    checkDate(toDate, 'toDate');
    const rows = this.db
      .j(`SELECT DISTINCT ${SHIFT} AS shift, ${RECEIPT} AS receipt FROM sales WHERE terminal_id = ? AND local_date BETWEEN ? AND ? AND ${SHIFT} IS NOT NULL AND ${RECEIPT} IS NOT NULL ORDER BY 1, 2`)
      .all(terminalId, fromDate, toDate) as { shift: number; receipt: number }[];
    const out: ShiftReceipts[] = [];
    for (const r of rows) {
      const last = out[out.length - 1];
      if (last?.shift === r.shift) last.receiptNos.push(r.receipt);
      else out.push({ shift: r.shift, receiptNos: [r.receipt] });
    }
    return out;
  }

  lastReceipts(terminalId: string, fromDate: string): ShiftSummary[] {
    checkDate(fromDate, 'fromDate');
    const rows = this.db
      .j(
        `SELECT s.shift, s.last, c.shift IS NOT NULL AS closed FROM
           (SELECT ${SHIFT} AS shift, max(${RECEIPT}) AS last FROM sales WHERE terminal_id = ? AND local_date >= ? AND ${SHIFT} IS NOT NULL AND ${RECEIPT} IS NOT NULL GROUP BY 1) s
         LEFT JOIN shift_closes c ON c.terminal_id = ? AND c.shift = s.shift ORDER BY s.shift`,
      )
      .all(terminalId, fromDate, terminalId) as { shift: number; last: number; closed: number }[];
    return rows.map((r) => ({ shift: r.shift, lastReceiptNo: r.last, closed: r.closed === 1 }));
  }

  salesSummary(): { journaled: number; lastSaleAt?: string } {
    const journaled = this.db.j('SELECT count(*) FROM sales').pluck().get() as number;
    const last = this.db.j('SELECT time FROM sales ORDER BY rowid DESC LIMIT 1').pluck().get() as string | undefined;
    return { journaled, ...(last !== undefined ? { lastSaleAt: last } : {}) };
  }

  recordServed(s: ServedResend): void {
    this.db.writable();
    this.db.journal.transaction(() => {
      this.db.j('INSERT INTO resends_served (request, served_at, from_date, to_date, sales, receipts) VALUES (?, ?, ?, ?, ?, ?)').run(s.request, s.servedAt, s.from, s.to, s.sales, JSON.stringify(s.receipts));
      this.db.j('DELETE FROM resends_served WHERE id <= (SELECT max(id) FROM resends_served) - ?').run(SERVED_KEEP);
    })();
  }

  recentServed(limit: number): ServedResend[] {
    const rows = this.db.j('SELECT * FROM resends_served ORDER BY id DESC LIMIT ?').all(limit) as Row[];
    return rows.map((r) => ({
      request: r.request as string,
      servedAt: r.served_at as string,
      from: r.from_date as string,
      to: r.to_date as string,
      sales: r.sales as number,
      receipts: JSON.parse(r.receipts as string) as ShiftReceipts[],
    }));
  }
}
