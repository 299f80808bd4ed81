import { CfxError, ErrorCodes } from '../api/errors.js';
import type { PaymentKind, SaleKind } from '../api/model.js';
import type { StoreConnection } from './connection.js';
import type { CollectedReceipt, FleetStatusRecord, FleetStore, GapState, PublishedRecord, ReceiptGap, CollectedShiftClose } from './repositories.js';
import type { Row } from './rows.js';

const opt = <K extends string, V>(k: K, v: V | null | undefined): { [P in K]?: V } => (v === null || v === undefined ? {} : ({ [k]: v } as { [P in K]?: V }));

const toGap = (r: Row): ReceiptGap => ({
  terminalId: r.terminal_id as string,
  shift: r.shift as number,
  receiptNo: r.receipt_no as number,
  state: r.state as GapState,
  fromDate: r.from_date as string,
  toDate: r.to_date as string,
  detectedAt: r.detected_at as string,
  requests: r.requests as number,
  ...opt('firstRequestAt', r.first_request_at as string | null),
  ...opt('lastRequestAt', r.last_request_at as string | null),
  ...opt('nextRequestAt', r.next_request_at as string | null),
  ...opt('requestName', r.request_name as string | null),
  ...opt('endedAt', r.ended_at as string | null),
});

const toShift = (r: Row): CollectedShiftClose => ({
  terminalId: r.terminal_id as string,
  shift: r.shift as number,
  closedAt: r.closed_at as string,
  localDate: r.local_date as string,
  ...opt('firstReceiptNo', r.first_receipt_no as number | null),
  lastReceiptNo: r.last_receipt_no as number,
  totals: JSON.parse(r.totals as string) as Partial<Record<PaymentKind, number>>,
  sha256: r.sha256 as string,
  fileName: r.file_name as string,
  receivedAt: r.received_at as string,
});

/** journal.db `fleet_*` (schema version 4): what the office knows of each terminal besides its sales. */
export class SqliteFleetStore implements FleetStore {
  constructor(private readonly db: StoreConnection) {}

  lastStatus(terminalId: string): FleetStatusRecord | undefined {
    const r = this.db.j('SELECT * FROM fleet_status WHERE terminal_id = ?').get(terminalId) as Row | undefined;
    if (!r) return undefined;
    return { terminalId, seq: r.seq as number, writtenAt: r.written_at as string, readAt: r.read_at as string, status: JSON.parse(r.body as string) as Record<string, unknown> };
  }

  saveStatus(s: FleetStatusRecord): void {
    this.db.writable();
    this.db.j(
      `INSERT INTO fleet_status (terminal_id, seq, written_at, read_at, body) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (terminal_id) DO UPDATE SET seq = excluded.seq, written_at = excluded.written_at, read_at = excluded.read_at, body = excluded.body`,
    ).run(s.terminalId, s.seq, s.writtenAt, s.readAt, JSON.stringify(s.status));
  }

  recordShift(s: CollectedShiftClose): 'stored' | 'duplicate' {
    this.db.writable();
    const run = this.db.journal.transaction((): 'stored' | 'duplicate' => {
      const prev = this.db.j('SELECT sha256, file_name FROM fleet_shifts WHERE terminal_id = ? AND shift = ?').get(s.terminalId, s.shift) as Row | undefined;
      if (prev && prev.sha256 === s.sha256) return 'duplicate';
      if (prev) {
        throw new CfxError(
          ErrorCodes.SHIFT_CONFLICT,
          `shift ${s.shift} of terminal ${s.terminalId} was already closed (from ${prev.file_name as string}) with different content; the first close is kept, this file is not taken`,
          { details: { terminalId: s.terminalId, shift: s.shift, field: 'shift', collectedFrom: prev.file_name, collected: prev.sha256, received: s.sha256 } },
        );
      }
      this.db.j(
        'INSERT INTO fleet_shifts (terminal_id, shift, closed_at, local_date, first_receipt_no, last_receipt_no, totals, sha256, file_name, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(s.terminalId, s.shift, s.closedAt, s.localDate, s.firstReceiptNo ?? null, s.lastReceiptNo, JSON.stringify(s.totals), s.sha256, s.fileName, s.receivedAt);
      return 'stored';
    });
    return run.immediate();
  }

  shifts(terminalId: string): CollectedShiftClose[] {
    return (this.db.j('SELECT * FROM fleet_shifts WHERE terminal_id = ? ORDER BY shift').all(terminalId) as Row[]).map(toShift);
  }

  gaps(terminalId: string, states?: readonly GapState[]): ReceiptGap[] {
    const all = (this.db.j('SELECT * FROM fleet_gaps WHERE terminal_id = ? ORDER BY shift, receipt_no').all(terminalId) as Row[]).map(toGap);
    return states ? all.filter((g) => states.includes(g.state)) : all;
  }

  putGap(g: ReceiptGap): void {
    this.db.writable();
    this.db.j(
      `INSERT INTO fleet_gaps (terminal_id, shift, receipt_no, state, from_date, to_date, detected_at, requests, first_request_at, last_request_at, next_request_at, request_name, ended_at)
       VALUES (@terminalId, @shift, @receiptNo, @state, @fromDate, @toDate, @detectedAt, @requests, @firstRequestAt, @lastRequestAt, @nextRequestAt, @requestName, @endedAt)
       ON CONFLICT (terminal_id, shift, receipt_no) DO UPDATE SET state = excluded.state, from_date = excluded.from_date, to_date = excluded.to_date,
         requests = excluded.requests, first_request_at = excluded.first_request_at, last_request_at = excluded.last_request_at,
         next_request_at = excluded.next_request_at, request_name = excluded.request_name, ended_at = excluded.ended_at`,
    ).run({
      terminalId: g.terminalId,
      shift: g.shift,
      receiptNo: g.receiptNo,
      state: g.state,
      fromDate: g.fromDate,
      toDate: g.toDate,
      detectedAt: g.detectedAt,
      requests: g.requests,
      firstRequestAt: g.firstRequestAt ?? null,
      lastRequestAt: g.lastRequestAt ?? null,
      nextRequestAt: g.nextRequestAt ?? null,
      requestName: g.requestName ?? null,
      endedAt: g.endedAt ?? null,
    });
  }

  receipts(terminalId: string, sinceDate: string): CollectedReceipt[] {
    const rows = this.db.j(
      `SELECT json_extract(body, '$.shift') AS shift, json_extract(body, '$.receiptNo') AS receipt_no, local_date, time, kind, json_extract(body, '$.payments') AS payments
       FROM collected WHERE terminal_id = ? AND local_date >= ? AND json_extract(body, '$.receiptNo') IS NOT NULL AND json_extract(body, '$.shift') IS NOT NULL
       ORDER BY shift, receipt_no`,
    ).all(terminalId, sinceDate) as Row[];
    return rows.map((r) => ({
      shift: r.shift as number,
      receiptNo: r.receipt_no as number,
      localDate: r.local_date as string,
      time: r.time as string,
      kind: r.kind as SaleKind,
      payments: JSON.parse((r.payments as string | null) ?? '[]') as CollectedReceipt['payments'],
    }));
  }

  salesPerHour(terminalId: string, since: string): Map<string, number> {
    const sinceMs = Date.parse(since);
    // local_date is at most a day off UTC: a day's margin, then the exact instant in JS
    const sinceDate = new Date(sinceMs - 86_400_000).toISOString().slice(0, 10);
    const out = new Map<string, number>();
    for (const t of this.db.j("SELECT time FROM collected WHERE terminal_id = ? AND local_date >= ? AND kind = 'sale'").pluck().all(terminalId, sinceDate) as string[]) {
      const ms = Date.parse(t);
      if (!(ms >= sinceMs)) continue;
      const hour = new Date(ms).toISOString().slice(0, 13);
      out.set(hour, (out.get(hour) ?? 0) + 1);
    }
    return out;
  }

  recordPublished(p: PublishedRecord): void {
    this.db.writable();
    this.db.j(
      `INSERT INTO fleet_published (terminal_id, name, sha256, published_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (terminal_id) DO UPDATE SET name = excluded.name, sha256 = excluded.sha256, published_at = excluded.published_at`,
    ).run(p.terminalId, p.name, p.sha256, p.publishedAt);
  }

  published(terminalId: string): PublishedRecord | undefined {
    const r = this.db.j('SELECT * FROM fleet_published WHERE terminal_id = ?').get(terminalId) as Row | undefined;
    return r && { terminalId, name: r.name as string, sha256: r.sha256 as string, publishedAt: r.published_at as string };
  }
}
