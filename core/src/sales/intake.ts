import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfxError, ErrorCodes, errorMessage, type Logger, type Sale } from '../api/index.js';
import type { Store } from '../store/index.js';
import { dataPaths, localDate } from '../app/paths.js';
import { canonicalSaleBody, parseSaleInput, saleLocalDate } from './sale-input.js';
import { canonicalShiftBody, parseShiftInput, shiftFileName, shiftLocalDate, type PaymentKindTotals } from './shift-input.js';

export interface RecordOutcome {
  saleId: string;
  status: 'recorded' | 'duplicate';
  total: number;
}

/**
 * Validates every sale first, then journals them: a batch with one bad sale journals nothing.
 * Resolves only after SQLite has the sale on disk (journal.db, synchronous=FULL).
 */
export function recordSales(store: Store, terminalId: string, input: unknown): RecordOutcome[] {
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) throw new CfxError(ErrorCodes.SALE_INVALID, 'no sale given (an empty array)');
  const sales: Sale[] = list.map((i, k) => {
    try {
      return parseSaleInput(i, terminalId);
    } catch (e) {
      if (list.length > 1 && e instanceof CfxError) throw new CfxError(e.code, `sale #${k + 1} of ${list.length}: ${e.message}`, { details: { ...e.details, index: k } });
      throw e;
    }
  });
  return sales.map((s) => ({ saleId: s.saleId, status: store.journal.recordSale(s, saleLocalDate(s), canonicalSaleBody(s)), total: s.total }));
}

export interface ShiftCloseOutcome {
  shift: number;
  /** duplicate: the same close was journaled before (nothing changed) */
  status: 'recorded' | 'duplicate';
  closedAt: string;
  firstReceiptNo?: number;
  lastReceiptNo: number;
  /** minor units by payment kind */
  totals: PaymentKindTotals;
  /** the name it is pushed under */
  remoteName: string;
}

/**
 * Validates and journals a till's shift close (docs/fleet.md); durable when this returns. The same
 * close again is a no-op ('duplicate'); different content for a closed shift is SHIFT_CONFLICT.
 */
export function recordShiftClose(store: Store, terminalId: string, input: unknown): ShiftCloseOutcome {
  const close = parseShiftInput(input, terminalId);
  const status = store.shifts.record(close, shiftLocalDate(close), canonicalShiftBody(close));
  const { shift, closedAt, firstReceiptNo, lastReceiptNo, totals } = close;
  return { shift, status, closedAt, ...(firstReceiptNo !== undefined ? { firstReceiptNo } : {}), lastReceiptNo, totals, remoteName: shiftFileName(terminalId, shift) };
}

/**
 * The spool dir, for tills that can only write files: every `*.json` is journaled and moved to
 * archive/spool/; a bad one goes to quarantine with its reason. Files still being written are
 * expected under a temp name (`.x.json`, `*.tmp`), like every other exchange in cfx.
 */
export function drainSpool(store: Store, terminalId: string, spoolDir: string, dataDir: string, logger: Logger): { recorded: number; rejected: number } {
  let names: string[];
  try {
    names = readdirSync(spoolDir).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch {
    return { recorded: 0, rejected: 0 };
  }
  const p = dataPaths(dataDir);
  let recorded = 0;
  let rejected = 0;
  for (const n of names) {
    const file = join(spoolDir, n);
    try {
      const out = recordSales(store, terminalId, JSON.parse(readFileSync(file, 'utf8')));
      recorded += out.filter((o) => o.status === 'recorded').length;
      const dir = join(p.archive, 'spool', localDate());
      mkdirSync(dir, { recursive: true });
      renameSync(file, join(dir, n));
    } catch (e) {
      if (e instanceof CfxError && e.code === ErrorCodes.STORE_IO) throw e; // the disk, not the file: try again later
      rejected++;
      mkdirSync(p.quarantine, { recursive: true });
      const q = join(p.quarantine, `${new Date().toISOString().replace(/[:.]/g, '-')}_${n}`);
      renameSync(file, q);
      writeFileSync(`${q}.reason.json`, JSON.stringify({ file: n, code: e instanceof CfxError ? e.code : ErrorCodes.SALE_INVALID, message: errorMessage(e), ...(e instanceof CfxError ? e.details : {}) }, null, 2) + '\n');
      store.quarantine.add({ job: 'sales.spool', fileName: n, localPath: q, reason: { message: errorMessage(e) } });
      logger.warn({ file: n, err: errorMessage(e) }, 'spooled sale rejected');
    }
  }
  return { recorded, rejected };
}
