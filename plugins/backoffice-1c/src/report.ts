import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { ErrorCodes, FormatError } from '@cfx/core/api';
import { durationText } from './duration.js';
import type { Payment, PaymentKind, Sale, SaleKind, SaleLine } from '@cfx/core/api';
import { Fields, LineReader, lineLimit, type LineSink } from './lines.js';
import { fixedAt, formatFixed, formatQty, parseFixed } from './numbers.js';
import { resolveOptions, type AtolFormatOptions, type ResolvedOptions } from './options.js';
import { decodeText, encodeText } from './text.js';

/** fields of a report line; a trailing `;` follows the last */
export const REPORT_FIELDS = 44;

/** transaction types (field 4) cfx writes or reads */
export const TransactionType = {
  /** free-price sale without a code: 1C's whole import fails on it, never written */
  FreeSale: 1,
  FreeStorno: 2,
  /** item sold from the catalog */
  Sale: 11,
  /** storno: removes the last collected line of the document */
  Storno: 12,
  Payment: 40,
  Open: 42,
  Close: 55,
  Cancel: 56,
} as const;

/** field numbers (1-based) */
const R = { txn: 1, date: 2, time: 3, type: 4, workplace: 5, doc: 6, cashier: 7, code: 8, payKind: 9, price: 10, qty: 11, sum: 12, op: 13, shift: 14, unitFinal: 15, amount: 16, printGroup: 17, article: 18, barcode: 19, gross: 20, docKind: 23, docId: 26, f27: 27 } as const;

const PAYMENT_OPERATION: Record<PaymentKind, number> = { cash: 0, card: 1, other: 2 };
const SALE_KINDS: readonly string[] = ['sale', 'return', 'cancel'] satisfies SaleKind[];
const PAYMENT_KINDS: readonly string[] = ['cash', 'card', 'other'] satisfies PaymentKind[];

/** what would make 1C (or this writer) refuse a sale */
export interface SaleProblem {
  field: string;
  message: string;
}

const WALL_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?/;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * Why a sale cannot go into a report 1C imports, or undefined. 1C's import fails as a whole on a
 * line without an item code (type 1) or a non-numeric code, so the adapter holds such sales back
 * ("needs attention") and delivers the rest. `forReport: false` checks only what a fragment needs.
 */
export function reportProblem(sale: Sale, options: AtolFormatOptions | ResolvedOptions = {}, forReport = true): SaleProblem | undefined {
  const o = 'eol' in options ? options : resolveOptions(options);
  if (!sale || typeof sale !== 'object') return { field: 'sale', message: 'not a sale' };
  if (typeof sale.saleId !== 'string' || sale.saleId === '') return { field: 'saleId', message: 'saleId is empty' };
  if (!SALE_KINDS.includes(sale.kind)) return { field: 'kind', message: `kind ${JSON.stringify(sale.kind)} is not sale, return or cancel` };
  if (typeof sale.time !== 'string' || !WALL_RE.test(sale.time)) return { field: 'time', message: `time ${JSON.stringify(sale.time)} is not an ISO 8601 date-time` };
  for (const k of ['shift', 'receiptNo'] as const) {
    const v = sale[k];
    if (v !== undefined && !(isInt(v) && v >= 0)) return { field: k, message: `${k} ${String(v)} is not a whole number >= 0` };
  }
  if (!isInt(sale.total)) return { field: 'total', message: `total ${String(sale.total)} is not integer minor units` };
  if (!Array.isArray(sale.lines) || !Array.isArray(sale.payments)) return { field: 'lines', message: 'lines and payments must be lists' };
  for (const [i, l] of sale.lines.entries()) {
    const at = `line ${i + 1}`;
    if (typeof l.code !== 'string' || /[;\r\n]/.test(l.code)) return { field: 'code', message: `${at}: code ${JSON.stringify(l.code)} cannot be written` };
    if (forReport && l.code.trim() === '') return { field: 'code', message: `${at}: no item code; it would be a free-price line (type 1), which makes 1C's whole import fail` };
    if (forReport && o.numericCodes && !/^\d+$/.test(l.code)) return { field: 'code', message: `${at}: item code ${JSON.stringify(l.code)} is not a number; 1C's import fails on it` };
    if (l.barcode !== undefined && (typeof l.barcode !== 'string' || /[;\r\n]/.test(l.barcode))) return { field: 'barcode', message: `${at}: barcode ${JSON.stringify(l.barcode)} cannot be written` };
    for (const k of ['qty', 'price', 'amount'] as const) if (!isInt(l[k])) return { field: k, message: `${at}: ${k} ${String(l[k])} is not an integer` };
    if (l.discount !== undefined && !isInt(l.discount)) return { field: 'discount', message: `${at}: discount ${String(l.discount)} is not an integer` };
  }
  for (const [i, p] of sale.payments.entries()) {
    if (!PAYMENT_KINDS.includes(p.kind)) return { field: 'payment', message: `payment ${i + 1}: kind ${JSON.stringify(p.kind)} is not cash, card or other` };
    if (!isInt(p.amount)) return { field: 'payment', message: `payment ${i + 1}: amount ${String(p.amount)} is not an integer` };
  }
  return undefined;
}

/** the transaction lines of one document: 42, 11 per line, 40 per payment, 55 (56 when cancelled) */
function documentText(sale: Sale, doc: number, firstTxn: number, o: ResolvedOptions): { text: string; next: number } {
  const m = WALL_RE.exec(sale.time)!;
  const date = `${m[3]}.${m[2]}.${m[1]}`, time = `${m[4]}:${m[5]}:${m[6] ?? '00'}`;
  const op = sale.kind === 'return' ? 1 : 0;
  const ret = op === 1, rs = o.returnSign;
  /** the sign 1C expects: a return's quantities and sums go by returnSign, whatever the sale had */
  const signed = (v: number) => (ret ? rs * Math.abs(v) : v);
  const shift = sale.shift ?? o.defaultShift;
  const cashier = sale.cashier !== undefined && /^\d{1,9}$/.test(sale.cashier) ? sale.cashier : String(o.cashierCode);
  const common = new Array<string>(REPORT_FIELDS).fill('');
  common[R.date - 1] = date;
  common[R.time - 1] = time;
  common[R.workplace - 1] = String(o.workplace);
  common[R.doc - 1] = String(doc);
  common[R.cashier - 1] = cashier;
  common[R.op - 1] = String(op);
  common[R.shift - 1] = String(shift);
  common[R.printGroup - 1] = '1';
  common[R.docKind - 1] = ret ? '2' : '1';
  common[R.docId - 1] = `${o.workplace}/${shift}/${doc}`;
  common[R.f27 - 1] = '1';
  const point = o.point, eol = ';' + o.eol;
  const money = (v: number) => formatFixed(v, 2, point);
  let txn = firstTxn, text = '';
  const line = (type: number, set: (f: string[]) => void) => {
    const f = common.slice();
    f[R.txn - 1] = String(txn++);
    f[R.type - 1] = String(type);
    set(f);
    text += f.join(';') + eol;
  };
  let qtySum = 0;
  for (const l of sale.lines) qtySum += signed(l.qty);
  const total = signed(sale.total);
  const docLine = (f: string[]) => {
    f[R.qty - 1] = formatQty(qtySum, point);
    f[R.sum - 1] = money(total);
    f[R.gross - 1] = money(total);
  };
  line(TransactionType.Open, docLine);
  for (const l of sale.lines) {
    const disc = l.discount ?? 0;
    const amount = signed(l.amount);
    const gross = ret ? rs * (Math.abs(l.amount) + Math.abs(disc)) : l.amount + disc;
    const aq = Math.abs(l.qty);
    const unitFinal = aq === 0 ? l.price : Math.round((Math.abs(l.amount) * 1000) / aq);
    line(TransactionType.Sale, (f) => {
      f[R.code - 1] = l.code;
      f[R.price - 1] = money(l.price);
      f[R.qty - 1] = formatQty(signed(l.qty), point);
      f[R.sum - 1] = money(gross);
      f[R.unitFinal - 1] = money(unitFinal);
      f[R.amount - 1] = money(amount);
      f[R.barcode - 1] = l.barcode ?? '';
      f[R.gross - 1] = money(gross);
    });
  }
  for (const p of sale.payments) {
    line(TransactionType.Payment, (f) => {
      f[R.payKind - 1] = String(o.paymentCodes[p.kind]);
      f[R.price - 1] = String(PAYMENT_OPERATION[p.kind]);
      f[R.qty - 1] = money(signed(p.amount));
      f[R.sum - 1] = money(signed(p.amount));
    });
  }
  line(sale.kind === 'cancel' ? TransactionType.Cancel : TransactionType.Close, docLine);
  return { text, next: txn };
}

/** the canonical sale as one ASCII line (non-ASCII as \u escapes), so any encoding carries it */
const asciiJson = (v: unknown) => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));

export const TRAILER_PREFIX = '#cfx;sale;';

/**
 * One sale as an ATOL report fragment (the terminal side uploads one sale = one file): its
 * transaction lines without the report header, numbered from `firstTransaction`, document number
 * = receiptNo (or 1). Unless `cfxTrailer: false`, a blank line (which ends a report for 1C) and
 * `#cfx;sale;<document>;<the canonical sale as JSON>` follow: the office reads the sale back
 * exactly (saleId, terminal, time offset, names), checked against the transaction lines.
 */
export function encodeSaleFragment(sale: Sale, options: AtolFormatOptions | ResolvedOptions = {}): Buffer {
  const o = 'eol' in options ? options : resolveOptions(options);
  const bad = reportProblem(sale, o, false);
  if (bad) throw new FormatError(`sale ${JSON.stringify(sale?.saleId)}: ${bad.message}`, { field: bad.field });
  const doc = sale.receiptNo ?? 1;
  let { text } = documentText(sale, doc, o.firstTransaction, o);
  if (o.cfxTrailer) text += o.eol + TRAILER_PREFIX + doc + ';' + asciiJson(sale) + o.eol;
  return encodeText(text, o.writeEncoding);
}

/** the format's options; encodeReport uses databaseId, reportNumber, firstTransaction and the writer options */
export type ReportOptions = AtolFormatOptions;

export interface EncodedReport {
  bytes: Buffer;
  /** number of the first transaction written / the one to start the next report with */
  firstTransaction: number;
  nextTransaction: number;
  /** document number each sale got (receiptNo, unless taken by an earlier sale of the file) */
  documents: { saleId: string; document: number }[];
}

/**
 * A full sales report as 1C's import requires (atol-1c.md §3): `#`, database id, report number,
 * then per sale 42 → 11 per line → 40 per payment → 55 (56 for a cancelled sale, whose lines 1C
 * then drops), 44 fields and a trailing `;` per line. Transaction numbers are unique and
 * increasing from `firstTransaction`; document numbers are unique within the file (a receiptNo
 * already used in the file, or none, gets the next free number). A sale 1C would choke on
 * (see reportProblem) throws FormatError: check with reportProblem first and hold those back.
 */
export function encodeReport(sales: Iterable<Sale>, options: ReportOptions | ResolvedOptions = {}): EncodedReport {
  const o = 'eol' in options ? options : resolveOptions(options);
  const all = [...sales];
  let terminal: string | undefined;
  for (const s of all) {
    const bad = reportProblem(s, o, true);
    if (bad) throw new FormatError(`sale ${JSON.stringify(s?.saleId)}: ${bad.message}`, { field: bad.field });
    if (terminal !== undefined && s.terminalId !== terminal) throw new FormatError(`a report is for one register: sale ${JSON.stringify(s.saleId)} is of terminal ${JSON.stringify(s.terminalId)}, not ${JSON.stringify(terminal)}`, { field: 'terminal' });
    terminal = s.terminalId;
  }
  // document numbers: the receipt number where it is free, else the next number above them all
  const docs = new Array<number>(all.length);
  const used = new Set<number>();
  let max = 0;
  all.forEach((s, i) => {
    if (s.receiptNo !== undefined && !used.has(s.receiptNo)) {
      used.add(s.receiptNo);
      docs[i] = s.receiptNo;
    }
    if (s.receiptNo !== undefined && s.receiptNo > max) max = s.receiptNo;
  });
  all.forEach((_s, i) => {
    if (docs[i] === undefined) {
      while (used.has(++max));
      used.add(max);
      docs[i] = max;
    }
  });
  const eol = o.eol;
  let txn = o.firstTransaction;
  const parts: Buffer[] = [encodeText('#' + eol + o.databaseId + eol + o.reportNumber + eol, o.writeEncoding)];
  let text = '';
  all.forEach((s, i) => {
    const r = documentText(s, docs[i]!, txn, o);
    txn = r.next;
    text += r.text;
    if (text.length > 65536) {
      parts.push(encodeText(text, o.writeEncoding));
      text = '';
    }
  });
  if (text) parts.push(encodeText(text, o.writeEncoding));
  return { bytes: Buffer.concat(parts), firstTransaction: o.firstTransaction, nextTransaction: txn, documents: all.map((s, i) => ({ saleId: s.saleId, document: docs[i]! })) };
}

export interface ReportHeader {
  state: '#' | '@';
  /** byte offset of the state character (1C writes `@` there once it has imported the file) */
  stateOffset: number;
  databaseId: string | undefined;
  reportNumber: string | undefined;
}

/** The header of a report file: throws FormatError unless line 1 is `#` or `@` (1C: "wrong format"). */
export function readReportHeader(buf: Uint8Array, fileName?: string): ReportHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const start = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  const lines: string[] = [];
  for (let p = start; p < b.length && lines.length < 3; ) {
    let nl = b.indexOf(10, p);
    if (nl < 0) nl = b.length;
    lines.push(b.toString('latin1', p, nl > p && b[nl - 1] === 13 ? nl - 1 : nl).trim());
    p = nl + 1;
  }
  const state = lines[0];
  if (state !== '#' && state !== '@') throw new FormatError(`not an ATOL report: line 1 must be "#" or "@"`, { file: fileName, line: 1 });
  return { state, stateOffset: start, databaseId: lines[1], reportNumber: lines[2] };
}

export interface SalesDecodeOptions extends AtolFormatOptions {
  fileName?: string;
  signal?: AbortSignal;
}

interface OpenDoc {
  key: string;
  doc: number;
  shift: number;
  op: number;
  time: string;
  cashier: string;
  docId: string;
  lines: SaleLine[];
  payments: Payment[];
  firstLine: number;
}

const DATE_RE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;
const TIME_RE = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const pad2 = (n: number | string) => String(n).padStart(2, '0');

function offsetOf(o: string, y: number, mo: number, d: number, h: number, mi: number, s: number): string {
  if (o !== 'local') return o === 'Z' ? 'Z' : o;
  const off = -new Date(y, mo - 1, d, h, mi, s).getTimezoneOffset();
  const a = Math.abs(off);
  return `${off < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}

/**
 * Reads ATOL reports and cfx fragments back into Sales. A report starts with `#`/`@`, database id
 * and report number; a fragment starts with its first transaction. Per document (workplace, shift,
 * document number): 42 opens, 11 (and 1) add a line, 12 (and 2) remove the last line, 40 adds a
 * payment, 55 makes it a sale (field 13: 0 sale, 1 return; quantities and sums take their sign
 * from it), 56 drops it (or gives a `cancel` sale with `cancelled: keep`). Documents never closed
 * are dropped, as 1C does. In a fragment the cfx trailer, checked against the lines, gives the
 * exact canonical sale. Sales of a report come as their 55 is read; a fragment's at its end.
 */
export async function* decodeSalesWith(
  input: Readable,
  o: ResolvedOptions,
  ctx: { fileName: string | undefined; signal: AbortSignal | undefined; maxLineLength: number | undefined; modifiedAt?: Date | undefined },
): AsyncGenerator<Sale> {
  const file = ctx.fileName;
  const reader = new LineReader(lineLimit(o.maxLineLength, ctx.maxLineLength), file);
  const f = new Fields(256);
  let phase: 'start' | 'dbid' | 'repno' | 'body' | 'after' = 'start';
  let fragment = false;
  const open = new Map<string, OpenDoc>();
  const ready: Sale[] = [];
  /** fragments: closed documents wait for the trailer */
  const closed: { doc: number; sale: Sale; line: number }[] = [];
  const trailers = new Map<number, { sale: Sale; line: number }>();
  const fallbackTerminal = (() => {
    if (o.terminal) return o.terminal;
    const base = file ? basename(file) : '';
    const u = base.indexOf('_');
    return u > 0 ? base.slice(0, u) : undefined;
  })();

  const err = (msg: string, line: number, column?: number, field?: string) =>
    new FormatError(column !== undefined ? `field ${column} (${field}): ${msg}` : msg, { file, line, ...(field !== undefined ? { field, column } : {}) });
  const int = (k: number, field: string, line: number, required = true): number | undefined => {
    if (f.empty(k)) {
      if (!required) return undefined;
      throw err('is empty', line, k, field);
    }
    const raw = f.get(k).trim();
    const v = parseFixed(raw, 0, '.');
    if (typeof v === 'string') throw err(`"${raw}" ${v}`, line, k, field);
    return v;
  };
  const num = (k: number, scale: number, field: string, line: number) => fixedAt(f.get(k).trim(), scale, 'auto', { file, line, column: k, field });

  const finish = (d: OpenDoc, kind: SaleKind, total: number | undefined, line: number) => {
    const sale: Sale = {
      saleId: d.docId || d.key,
      terminalId: fallbackTerminal ?? (d.key.split('/')[0] || '1'),
      shift: d.shift,
      receiptNo: d.doc,
      time: d.time,
      kind,
      lines: d.lines,
      payments: d.payments,
      total: total ?? d.lines.reduce((a, l) => a + l.amount, 0),
    };
    if (d.cashier) sale.cashier = d.cashier;
    if (fragment) closed.push({ doc: d.doc, sale, line });
    else ready.push(sale);
  };

  const transaction = (s: string, start: number, end: number, line: number) => {
    if (!f.split(s, start, end)) throw err('more than 256 fields', line);
    if (f.count < R.shift) throw err(`a transaction line has ${R.shift} fields or more, this one ${f.count}`, line);
    int(R.txn, 'transaction', line);
    const type = int(R.type, 'type', line)!;
    const doc = int(R.doc, 'document', line)!;
    const shift = int(R.shift, 'shift', line)!;
    const key = `${f.get(R.workplace).trim()}/${shift}/${doc}`;
    const opOf = () => int(R.op, 'operation', line, false) ?? 0;
    const sign = (op: number, v: number) => (op === 1 ? -Math.abs(v) || 0 : v); // never -0
    const openDoc = (): OpenDoc => {
      const date = f.get(R.date).trim(), time = f.get(R.time).trim();
      const dm = DATE_RE.exec(date);
      if (!dm) throw err(`"${date}" is not dd.MM.yyyy`, line, R.date, 'date');
      const tm = TIME_RE.exec(time);
      if (!tm) throw err(`"${time}" is not H:mm:ss`, line, R.time, 'time');
      const [d, mo, y] = [Number(dm[1]), Number(dm[2]), Number(dm[3])];
      const [h, mi, sec] = [Number(tm[1]), Number(tm[2]), Number(tm[3] ?? 0)];
      if (mo < 1 || mo > 12 || d < 1 || d > 31) throw err(`"${date}" is not a date`, line, R.date, 'date');
      if (h > 23 || mi > 59 || sec > 59) throw err(`"${time}" is not a time`, line, R.time, 'time');
      const iso = `${y}-${pad2(mo)}-${pad2(d)}T${pad2(h)}:${pad2(mi)}:${pad2(sec)}${offsetOf(o.utcOffset, y, mo, d, h, mi, sec)}`;
      const doc0: OpenDoc = { key, doc, shift, op: opOf(), time: iso, cashier: f.get(R.cashier).trim(), docId: f.get(R.docId).trim(), lines: [], payments: [], firstLine: line };
      open.set(key, doc0);
      return doc0;
    };
    switch (type) {
      case TransactionType.Open: {
        if (open.has(key)) throw err(`document ${key} is opened again before it was closed (line ${open.get(key)!.firstLine})`, line, R.type, 'type');
        openDoc();
        return;
      }
      case TransactionType.Sale:
      case TransactionType.FreeSale: {
        const d = open.get(key) ?? openDoc();
        const op = opOf();
        const qty = num(R.qty, 3, 'qty', line);
        const price = f.empty(R.price) ? 0 : num(R.price, 2, 'price', line);
        const amountField = f.empty(R.amount) ? R.sum : R.amount;
        if (f.empty(amountField)) throw err('the line amount (field 16, or 12) is empty', line, R.amount, 'amount');
        const amount = num(amountField, 2, 'amount', line);
        const l: SaleLine = { code: f.get(R.code).trim(), qty: sign(op, qty), price: Math.abs(price), amount: sign(op, amount) };
        if (!f.empty(R.barcode)) l.barcode = f.get(R.barcode).trim();
        const grossField = !f.empty(R.gross) ? R.gross : amountField !== R.sum && !f.empty(R.sum) ? R.sum : 0;
        if (grossField) {
          const disc = Math.abs(num(grossField, 2, 'gross', line)) - Math.abs(amount);
          if (disc > 0) l.discount = disc;
        }
        d.lines.push(l);
        return;
      }
      case TransactionType.Storno:
      case TransactionType.FreeStorno: {
        open.get(key)?.lines.pop();
        return;
      }
      case TransactionType.Payment: {
        const d = open.get(key) ?? openDoc();
        const opk = f.get(R.price).trim();
        const kind: PaymentKind = opk === '0' ? 'cash' : opk === '1' ? 'card' : 'other';
        const k = f.empty(R.qty) ? R.sum : R.qty;
        d.payments.push({ kind, amount: sign(opOf(), num(k, 2, 'payment', line)) });
        return;
      }
      case TransactionType.Close:
      case TransactionType.Cancel: {
        const d = open.get(key);
        if (!d) throw err(`closes document ${key}, which was not opened (no 42 before it)`, line, R.type, 'type');
        open.delete(key);
        if (d.op !== 0 && d.op !== 1) return; // not a sale or a return (cash in/out, ...): 1C takes none of it
        const total = f.empty(R.sum) ? undefined : sign(d.op, num(R.sum, 2, 'total', line));
        if (type === TransactionType.Close) finish(d, d.op === 1 ? 'return' : 'sale', total, line);
        else if (o.keepCancelled) finish(d, 'cancel', total, line);
        return;
      }
      default:
        return; // shift close (61), Z report (63), cash in/out, ...: not sales
    }
  };

  const trailer = (s: string, start: number, end: number, line: number) => {
    const rest = s.slice(start + TRAILER_PREFIX.length, end);
    const semi = rest.indexOf(';');
    const doc = Number(rest.slice(0, semi));
    let sale: Sale;
    try {
      if (semi < 1 || !Number.isSafeInteger(doc)) throw new Error('no document number');
      sale = JSON.parse(rest.slice(semi + 1)) as Sale;
    } catch (e) {
      throw err(`the cfx trailer is not readable: ${(e as Error).message}`, line);
    }
    const bad = reportProblem(sale, o, false);
    if (bad) throw err(`the cfx trailer holds no valid sale: ${bad.message}`, line);
    if (typeof sale.terminalId !== 'string' || sale.terminalId === '') throw err('the cfx trailer has no terminal', line);
    if (trailers.has(doc)) throw err(`a second cfx trailer for document ${doc}`, line);
    trailers.set(doc, { sale, line });
  };

  const sink: LineSink = (s, start, end, line) => {
    if (phase === 'body') {
      if (end === start || s.slice(start, end).trim() === '') {
        phase = 'after';
        return;
      }
      return transaction(s, start, end, line);
    }
    if (phase === 'after') {
      if (s.startsWith(TRAILER_PREFIX, start)) return trailer(s, start, end, line);
      if (s.slice(start, end).trim() === '') return;
      throw err('a blank line ends the report (1C reads nothing after it), but more lines follow', line);
    }
    const text = s.slice(start, end).trim();
    if (phase === 'start') {
      if (text === '#' || text === '@') phase = 'dbid';
      else if (/^\d/.test(text)) {
        fragment = true;
        phase = 'body';
        transaction(s, start, end, line);
      } else throw err(`not an ATOL report: line 1 must be "#" or "@" (or a transaction, in a fragment), not "${text.slice(0, 40)}"`, line);
    } else if (phase === 'dbid') phase = 'repno';
    else phase = 'body';
  };

  for await (const text of decodeText(input, o.encoding, ctx.signal, { file, line: () => reader.nextLine() })) {
    reader.push(text, false, sink);
    if (ready.length) yield* ready.splice(0);
  }
  reader.push('', true, sink);
  if (phase === 'start') throw err('the file is empty', 1);
  if (!fragment && open.size) throw openReceipt([...open.values()][0]!, open.size, o, ctx.modifiedAt, file);
  yield* ready.splice(0);
  if (!fragment) return;
  if (open.size) {
    const d = [...open.values()][0]!;
    throw err(`document ${d.key} is not closed (no 55 or 56)`, d.firstLine);
  }
  for (const c of closed) {
    const t = trailers.get(c.doc);
    if (!t) {
      yield c.sale;
      continue;
    }
    const diff = disagreement(c.sale, t.sale);
    if (diff) throw err(`the cfx trailer of document ${c.doc} disagrees with its transactions: ${diff}`, t.line);
    yield t.sale;
  }
}

/**
 * A report with a receipt the register has not closed yet (a 42 without its 55/56): 1C would skip
 * it, but then it is lost — the register writes it again once closed. So the file is not complete:
 * it stays on the server (FORMAT_INCOMPLETE) until it is, or until it has not changed for
 * `openReceiptWait`, when it is a broken file (quarantined) naming the receipt.
 */
function openReceipt(d: OpenDoc, count: number, o: ResolvedOptions, modifiedAt: Date | undefined, file: string | undefined): FormatError {
  const what = `receipt ${d.doc} (workplace/shift/document ${d.key}, opened on line ${d.firstLine}${count > 1 ? `, and ${count - 1} more` : ''}) has no closing line (55 or 56)`;
  const at = { file, line: d.firstLine, field: 'type', column: R.type };
  const age = modifiedAt ? Date.now() - modifiedAt.getTime() : undefined;
  if (age !== undefined && age >= o.openReceiptWaitMs) return new FormatError(`${what}, and the file has not changed for ${durationText(age - (age % 60_000))} (openReceiptWait ${durationText(o.openReceiptWaitMs)})`, at);
  return new FormatError(`${what} yet: the report is read again once the register has closed it`, at, { code: ErrorCodes.FORMAT_INCOMPLETE });
}

/** what differs between the sale read from the transaction lines and the trailer's (signs aside) */
function disagreement(a: Sale, t: Sale): string | undefined {
  if (a.kind !== t.kind) return `kind ${a.kind} / ${t.kind}`;
  if (a.lines.length !== t.lines.length) return `${a.lines.length} / ${t.lines.length} lines`;
  for (let i = 0; i < a.lines.length; i++) {
    const x = a.lines[i]!, y = t.lines[i]!;
    if (x.code !== y.code || Math.abs(x.qty) !== Math.abs(y.qty) || Math.abs(x.amount) !== Math.abs(y.amount) || Math.abs(x.price) !== Math.abs(y.price)) return `line ${i + 1}`;
  }
  if (a.payments.length !== t.payments.length) return `${a.payments.length} / ${t.payments.length} payments`;
  for (let i = 0; i < a.payments.length; i++) {
    const x = a.payments[i]!, y = t.payments[i]!;
    if (x.kind !== y.kind || Math.abs(x.amount) !== Math.abs(y.amount)) return `payment ${i + 1}`;
  }
  if (Math.abs(a.total) !== Math.abs(t.total)) return `total ${a.total} / ${t.total}`;
  return undefined;
}

/** decodeSalesWith with plain options: every sale of a report or fragment */
export function decodeReport(input: Readable, options: SalesDecodeOptions = {}): AsyncGenerator<Sale> {
  const { fileName, signal, ...rest } = options;
  return decodeSalesWith(input, resolveOptions(rest), { fileName, signal, maxLineLength: undefined });
}
