import type { PaymentKind } from '../api/model.js';
import type { CollectedReceipt, PublishedRecord, ReceiptGap, CollectedShiftClose } from '../store/repositories.js';

/*
 * The fleet's rules as pure functions (docs/fleet.md): what a gap is, when it is asked for again,
 * when it is lost at the till, whether a closed shift reconciles, whether a catalog is current.
 * The collect step and the report apply them to what the store holds; the unit tests pin them.
 */

/** one shift's receipts are at most this many numbers apart: a wild number (a till's bug) cannot make millions of gaps */
export const MAX_GAPS_PER_SHIFT = 500;

export interface DetectedGap {
  shift: number;
  receiptNo: number;
  /** the period to ask for: local dates of the collected receipts around the gap, or of the shift close */
  fromDate: string;
  toDate: string;
}

/**
 * Every receipt number missing per shift: between the lowest and the highest collected one, or
 * from the close's `firstReceiptNo` (else the lowest collected) up to its `lastReceiptNo`.
 */
export function detectGaps(receipts: readonly CollectedReceipt[], closes: readonly CollectedShiftClose[]): DetectedGap[] {
  const byShift = new Map<number, Map<number, string>>();
  for (const r of receipts) {
    let m = byShift.get(r.shift);
    if (!m) byShift.set(r.shift, (m = new Map()));
    if (!m.has(r.receiptNo)) m.set(r.receiptNo, r.localDate);
  }
  const closeOf = new Map(closes.map((c) => [c.shift, c]));
  const shifts = [...new Set([...byShift.keys(), ...closeOf.keys()])].sort((a, b) => a - b);
  const out: DetectedGap[] = [];
  for (const shift of shifts) {
    const have = byShift.get(shift) ?? new Map<number, string>();
    const close = closeOf.get(shift);
    const nums = [...have.keys()].sort((a, b) => a - b);
    const low = close?.firstReceiptNo ?? nums[0] ?? close?.lastReceiptNo;
    const high = Math.max(nums[nums.length - 1] ?? -Infinity, close?.lastReceiptNo ?? -Infinity);
    if (low === undefined || !Number.isFinite(high)) continue;
    let found = 0;
    let i = 0; // index of the first collected number above n
    for (let n = low; n <= high && found < MAX_GAPS_PER_SHIFT; n++) {
      while (i < nums.length && nums[i]! <= n) i++;
      if (have.has(n)) continue;
      const prev = i > 0 && nums[i - 1]! < n ? nums[i - 1] : undefined;
      const next = nums[i];
      const fromDate = (prev !== undefined ? have.get(prev) : undefined) ?? (next !== undefined ? have.get(next) : undefined) ?? close!.localDate;
      let toDate = (next !== undefined ? have.get(next) : undefined) ?? close?.localDate ?? fromDate;
      if (toDate < fromDate) toDate = fromDate;
      out.push({ shift, receiptNo: n, fromDate, toDate });
      found++;
    }
  }
  return out;
}

/** how long after its `requests`-th request a gap is asked for again: `retry`, doubling, at most `max` */
export function retryDelayMs(requests: number, retryMs: number, maxMs: number): number {
  const doublings = Math.max(0, requests - 1);
  // 2^k overflows nothing below 2^53; past 40 doublings any sane retry is far over the max
  return doublings > 40 ? maxMs : Math.min(retryMs * 2 ** doublings, maxMs);
}

/** what the fleet reads of a served resend in a terminal's status */
export interface ServedResend {
  request?: string;
  servedAt?: string;
  from?: string;
  to?: string;
  receipts?: { shift?: number; receiptNos?: number[] }[];
}

/**
 * Lost at the till: the terminal served a resend request covering the gap's period after the
 * office first asked (its clock corrected by `skewMs` = terminal − office), and the receipts its
 * journal holds in that period for the shift do not include the number.
 */
export function isLostAtTill(gap: Pick<ReceiptGap, 'shift' | 'receiptNo' | 'fromDate' | 'toDate' | 'firstRequestAt'>, resends: readonly ServedResend[], skewMs = 0): boolean {
  if (!gap.firstRequestAt) return false;
  const asked = Date.parse(gap.firstRequestAt);
  return resends.some((r) => {
    if (typeof r.from !== 'string' || typeof r.to !== 'string' || typeof r.servedAt !== 'string') return false;
    if (!(r.from <= gap.fromDate && r.to >= gap.toDate)) return false;
    const served = Date.parse(r.servedAt) - skewMs;
    if (!(served >= asked)) return false;
    const held = (r.receipts ?? []).filter((x) => x.shift === gap.shift).flatMap((x) => x.receiptNos ?? []);
    return !held.includes(gap.receiptNo);
  });
}

export type ShiftState = 'open' | 'reconciled' | 'mismatch' | 'incomplete';

export interface Reconciliation {
  state: Exclude<ShiftState, 'open'>;
  /** till's totals − collected, minor units, per payment kind that differs (mismatch only) */
  difference?: Partial<Record<PaymentKind, number>>;
  /** receipt numbers from first to last not collected (incomplete only) */
  missing?: number[];
}

/** collected payments of one shift by kind: sales add, returns subtract (whatever sign the till journals them with), cancels are left out */
export function collectedTotals(receipts: readonly CollectedReceipt[], shift: number): Partial<Record<PaymentKind, number>> {
  const t: Partial<Record<PaymentKind, number>> = {};
  for (const r of receipts) {
    if (r.shift !== shift || r.kind === 'cancel') continue;
    for (const p of r.payments) {
      const v = r.kind === 'return' ? -Math.abs(p.amount) : p.amount;
      t[p.kind] = (t[p.kind] ?? 0) + v;
    }
  }
  return t;
}

/** a closed shift against what the office collected (docs/fleet.md "Reconciliation") */
export function reconcile(close: CollectedShiftClose, receipts: readonly CollectedReceipt[]): Reconciliation {
  const have = new Set(receipts.filter((r) => r.shift === close.shift).map((r) => r.receiptNo));
  const first = close.firstReceiptNo ?? Math.min(...have, close.lastReceiptNo);
  const missing: number[] = [];
  for (let n = first; n <= close.lastReceiptNo && missing.length < MAX_GAPS_PER_SHIFT; n++) if (!have.has(n)) missing.push(n);
  if (missing.length) return { state: 'incomplete', missing };
  const got = collectedTotals(receipts, close.shift);
  const difference: Partial<Record<PaymentKind, number>> = {};
  for (const k of new Set([...Object.keys(close.totals), ...Object.keys(got)]) as Set<PaymentKind>) {
    const d = (close.totals[k] ?? 0) - (got[k] ?? 0);
    if (d !== 0) difference[k] = d;
  }
  return Object.keys(difference).length ? { state: 'mismatch', difference } : { state: 'reconciled' };
}

export type CatalogState = 'current' | 'behind' | 'unknown';

/** the terminal's applied catalog against the last file office.publish put in its inbox */
export function catalogState(applied: { sha256?: unknown } | null | undefined, published: PublishedRecord | undefined): CatalogState {
  if (!published) return 'unknown';
  return applied && typeof applied.sha256 === 'string' && applied.sha256 === published.sha256 ? 'current' : 'behind';
}
