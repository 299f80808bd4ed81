import type { Sale } from '../api/index.js';
import { TERMINAL_ID_PATTERN } from '../config/schema.js';

/*
 * The rules every canonical Sale meets, wherever it comes from: the till's own JSON (`cfx sale add`,
 * recordSale, the spool dir, POST /api/sales — sale-input.ts converts it, then checks it here) and
 * every sale file the office collects (sales-collect.ts), whoever wrote it. One function, so the
 * office cannot accept what a till would have refused.
 */

/** Lines and payments may differ by this much (cash rounding to 0.10 leaves up to 0.05). */
export const TOTAL_TOLERANCE_MINOR = 5;

export interface SaleProblem {
  field: string;
  message: string;
}

const TERMINAL_RE = new RegExp(TERMINAL_ID_PATTERN);
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
// C0, DEL and C1 controls have no place in an id or a code
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const KINDS = ['sale', 'return', 'cancel'];
const PAYMENT_KINDS = ['cash', 'card', 'other'];

export const money = (m: number): string => `${m < 0 ? '-' : ''}${Math.trunc(Math.abs(m) / 100)}.${String(Math.abs(m) % 100).padStart(2, '0')}`;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** qty (thousandths) × price (minor units), rounded half up, exactly (BigInt: no float ever sees the product) */
function lineGross(qty: number, price: number): number {
  const p = BigInt(qty) * BigInt(price);
  return Number((p + 500n) / 1000n);
}

/**
 * Every problem of a canonical sale, by field (`lines[1].amount`, `payments[0].amount`, …); empty
 * when it is sound:
 * - required fields: saleId, a valid terminal id, an ISO 8601 time, kind, at least one line with a code;
 * - integers only (minor units, thousandths) — never a fraction;
 * - signs per kind: a sale has no negative number and no zero quantity; a return or a cancel has
 *   one sign throughout (all ≥ 0, or all ≤ 0 as some tills journal returns); a price is never negative;
 * - each line: amount = qty × price − discount (within 1 minor unit, rounding);
 * - the lines add up to the total, and the payments to the total (within TOTAL_TOLERANCE_MINOR;
 *   a cancelled sale was not paid, so its payments are not compared).
 */
export function checkSale(sale: Sale): SaleProblem[] {
  const problems: SaleProblem[] = [];
  const bad = (field: string, message: string) => {
    if (!problems.some((p) => p.field === field)) problems.push({ field, message });
  };
  const s = sale as Partial<Sale> & Record<string, unknown>;
  if (!s || typeof s !== 'object') return [{ field: '(sale)', message: 'is not a sale' }];
  if (typeof s.saleId !== 'string' || s.saleId === '' || s.saleId.length > 128 || CONTROL.test(s.saleId)) bad('saleId', 'is required: 1 to 128 characters, no control characters');
  if (typeof s.terminalId !== 'string' || !TERMINAL_RE.test(s.terminalId)) bad('terminal', `${JSON.stringify(s.terminalId)} is not a terminal id`);
  if (typeof s.time !== 'string' || !ISO_DATE_TIME.test(s.time) || Number.isNaN(Date.parse(s.time))) bad('time', `${JSON.stringify(s.time)} is not an ISO 8601 date-time`);
  if (!KINDS.includes(s.kind as string)) bad('kind', `${JSON.stringify(s.kind)} is not one of: ${KINDS.join(', ')}`);
  for (const k of ['shift', 'receiptNo'] as const) if (s[k] !== undefined && !(isInt(s[k]) && s[k] >= 0)) bad(k, `${String(s[k])} is not a whole number >= 0`);
  if (!Array.isArray(s.lines) || s.lines.length === 0) bad('lines', 'at least one line is required');
  if (!Array.isArray(s.payments)) bad('payments', 'must be a list');
  if (problems.length) return problems;

  const nums: { field: string; v: number }[] = [];
  const int = (field: string, v: unknown): number => {
    if (!isInt(v)) {
      bad(field, `${String(v)} is not a whole number of minor units / thousandths`);
      return 0;
    }
    return v;
  };
  const lines = s.lines!.map((l, k) => {
    const f = `lines[${k}]`;
    if (typeof l.code !== 'string' || l.code === '' || l.code.length > 64 || CONTROL.test(l.code)) bad(`${f}.code`, 'is required: 1 to 64 characters, no control characters');
    const qty = int(`${f}.qty`, l.qty);
    const price = int(`${f}.price`, l.price);
    const amount = int(`${f}.amount`, l.amount);
    const discount = l.discount !== undefined ? int(`${f}.discount`, l.discount) : 0;
    if (qty === 0) bad(`${f}.qty`, 'must not be zero');
    if (price < 0) bad(`${f}.price`, 'must not be negative');
    nums.push({ field: `${f}.qty`, v: qty }, { field: `${f}.amount`, v: amount }, ...(l.discount !== undefined ? [{ field: `${f}.discount`, v: discount }] : []));
    return { f, qty, price, amount, discount };
  });
  const payments = s.payments!.map((p, k) => {
    if (!PAYMENT_KINDS.includes(p.kind)) bad(`payments[${k}].kind`, `${JSON.stringify(p.kind)} is not one of: ${PAYMENT_KINDS.join(', ')}`);
    const amount = int(`payments[${k}].amount`, p.amount);
    nums.push({ field: `payments[${k}].amount`, v: amount });
    return amount;
  });
  const total = int('total', s.total);
  nums.push({ field: 'total', v: total });

  // signs per kind: the kind says the direction; the numbers of one sale never disagree about it
  const negative = s.kind !== 'sale' && nums.some((n) => n.v < 0) && nums.every((n) => n.v <= 0);
  for (const n of nums) {
    if (negative ? n.v > 0 : n.v < 0) {
      bad(n.field, s.kind === 'sale' ? 'must not be negative (a return is kind: return)' : `must not be ${negative ? 'positive' : 'negative'}: the other numbers of this ${s.kind} are ${negative ? 'negative' : 'positive'}`);
    }
  }
  if (problems.length) return problems;

  const sign = negative ? -1 : 1;
  for (const l of lines) {
    // on magnitudes: a negative return rounds like its positive twin
    const expected = sign * (lineGross(Math.abs(l.qty), l.price) - Math.abs(l.discount));
    if (Math.abs(expected - l.amount) > 1) bad(`${l.f}.amount`, `is ${money(l.amount)} but qty × price − discount is ${money(expected)}`);
  }
  const sum = lines.reduce((a, l) => a + l.amount, 0);
  if (sum !== total) bad('total', `is ${money(total)} but the lines add up to ${money(sum)}`);
  const paid = payments.reduce((a, p) => a + p, 0);
  // a sale with no payments at all comes from a format that carries none (CommerceML orders from a
  // web shop): nothing to compare. The till always records them (sale-input requires one or more),
  // and a payment that is there must add up — a tampered −7.00 is caught.
  if (s.kind !== 'cancel' && payments.length > 0 && Math.abs(sum - paid) > TOTAL_TOLERANCE_MINOR) bad('payments', `lines total ${money(sum)} but payments total ${money(paid)}`);
  return problems;
}
