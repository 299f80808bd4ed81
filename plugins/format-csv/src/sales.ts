import type { Readable } from 'node:stream';
import { FormatError } from '@cfx/core/api';
import type { DecodeContext, EncodeContext, Payment, PaymentKind, Sale, SaleKind, SaleLine } from '@cfx/core/api';
import { lineLimit, type ResolvedOptions } from './options.js';
import { csvField, fixedField, formatFixed, RowReader, type RowSink } from './rows.js';
import { decodeText, encodeText } from './text.js';

/** the sale dialect (README.md): one header line, then H, L... and P... rows */
export const SALE_COLUMNS = ['record', 'saleId', 'terminal', 'time', 'kind', 'shift', 'receiptNo', 'cashier', 'code', 'barcode', 'name', 'qty', 'price', 'discount', 'amount', 'payment', 'total'] as const;
type SaleColumn = (typeof SALE_COLUMNS)[number];
const REQUIRED: SaleColumn[] = ['record', 'saleId', 'terminal', 'time', 'kind', 'code', 'qty', 'price', 'amount', 'payment', 'total'];
const KINDS: readonly string[] = ['sale', 'return', 'cancel'] satisfies SaleKind[];
const PAYMENTS: readonly string[] = ['cash', 'card', 'other'] satisfies PaymentKind[];

const fixed = (v: number, scale: number, field: string) => {
  if (!Number.isSafeInteger(v)) throw new FormatError(`${field} ${v} is not an integer`, { field });
  return formatFixed(v, scale, '.');
};
const money = (v: number, field: string) => fixed(v, 2, field);
const whole = (v: number | undefined, field: string) => {
  if (v !== undefined && !Number.isSafeInteger(v)) throw new FormatError(`${field} ${v} is not an integer`, { field });
  return v === undefined ? '' : String(v);
};

/**
 * The fixed runs of separators between a row's fields (SALE_COLUMNS order), per separator: a
 * push encodes every sale of a backlog (1,000 sales of 14 lines: 16,000 rows), so a row is built
 * as one string from its few filled fields, not as 17 fields mapped and joined.
 */
interface Gaps {
  /** does a field have to be quoted (separator, quote, CR or LF in it)? */
  quote: RegExp;
  header: string;
  s1: string;
  s7: string;
  s9: string;
  s13: string;
}
const gapsBySep = new Map<string, Gaps>();
function gapsOf(sep: string): Gaps {
  let g = gapsBySep.get(sep);
  if (!g) {
    const esc = sep.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
    g = { quote: new RegExp(`[${esc}"\\r\\n]`), header: SALE_COLUMNS.join(sep) + '\r\n', s1: sep, s7: sep.repeat(7), s9: sep.repeat(9), s13: sep.repeat(13) };
    gapsBySep.set(sep, g);
  }
  return g;
}

export function encodeSale(sale: Sale, _ctx: EncodeContext, o: ResolvedOptions): Uint8Array {
  const g = gapsOf(o.separator);
  const { s1, s7, s9, s13 } = g;
  // quotes a field only when it has to (csvField's rule), so a reader gets back exactly the same text
  const text = (v: string | undefined): string => (v === undefined ? '' : g.quote.test(v) ? csvField(v, s1) : v);
  const saleId = text(sale.saleId);
  let out = g.header;
  // H: record saleId terminal time kind shift receiptNo cashier, 8 empty, total
  out += 'H' + s1 + saleId + s1 + text(sale.terminalId) + s1 + text(sale.time) + s1 + text(sale.kind) + s1 + whole(sale.shift, 'shift') + s1 + whole(sale.receiptNo, 'receiptNo') + s1 + text(sale.cashier) + s9 + money(sale.total, 'total') + '\r\n';
  const lead = s1 + saleId + s7;
  for (const l of sale.lines) {
    // L: record saleId, 6 empty, code barcode name qty price discount amount, payment and total empty
    out += 'L' + lead + text(l.code) + s1 + text(l.barcode) + s1 + text(l.name) + s1 + fixed(l.qty, 3, 'qty') + s1 + money(l.price, 'price') + s1 + (l.discount === undefined ? '' : money(l.discount, 'discount')) + s1 + money(l.amount, 'amount') + s1 + s1 + '\r\n';
  }
  // P: record saleId, 12 empty, amount payment, total empty
  for (const p of sale.payments) out += 'P' + s1 + saleId + s13 + money(p.amount, 'amount') + s1 + text(p.kind) + s1 + '\r\n';
  return encodeText(out, o.encoding === 'auto' ? 'utf-8' : o.encoding);
}

/** Sales in file order; normally one per file, though several H blocks are read as several sales. */
export async function* decodeSales(input: Readable, ctx: DecodeContext, o: ResolvedOptions): AsyncGenerator<Sale> {
  const file = ctx.fileName, dec = o.decimal;
  const reader = new RowReader(o.separator, lineLimit(o, ctx.maxLineLength), file);
  let at: Map<string, number> | undefined;
  let width = 0;
  let cur: Sale | undefined;
  let count = 0;
  const ready: Sale[] = [];

  const sink: RowSink = (f, line) => {
    if (!at) {
      at = new Map(f.map((h, k) => [h.trim().toLowerCase(), k]));
      width = f.length;
      for (const c of REQUIRED) if (!at.has(c.toLowerCase())) throw new FormatError(`the header has no "${c}" column`, { file, line, field: c });
      return;
    }
    if (f.length !== width) throw new FormatError(`expected ${width} fields, found ${f.length}`, { file, line });
    const get = (c: SaleColumn) => f[at!.get(c.toLowerCase()) ?? -1] ?? '';
    const opt = (c: SaleColumn) => get(c) || undefined;
    const num = (c: SaleColumn, scale: number) => fixedField(get(c), scale, dec, c, file, line);
    const oneOf = (c: SaleColumn, allowed: readonly string[]) => {
      const v = get(c);
      if (!allowed.includes(v)) throw new FormatError(`${c} "${v}" is not one of ${allowed.join(', ')}`, { file, line, field: c });
      return v;
    };
    const record = get('record'), saleId = get('saleId');
    if (saleId === '') throw new FormatError('saleId is required', { file, line, field: 'saleId' });
    if (record === 'H') {
      if (cur) ready.push(cur);
      count++;
      cur = { saleId, terminalId: get('terminal'), time: get('time'), kind: oneOf('kind', KINDS) as SaleKind, lines: [], payments: [], total: num('total', 2) };
      if (opt('shift')) cur.shift = num('shift', 0);
      if (opt('receiptNo')) cur.receiptNo = num('receiptNo', 0);
      if (opt('cashier')) cur.cashier = get('cashier');
      return;
    }
    if (!cur || cur.saleId !== saleId) throw new FormatError(`row of sale "${saleId}" without its H row`, { file, line, field: 'saleId' });
    if (record === 'L') {
      const l: SaleLine = { code: get('code'), qty: num('qty', 3), price: num('price', 2), amount: num('amount', 2) };
      if (opt('barcode')) l.barcode = get('barcode');
      if (opt('name')) l.name = get('name');
      if (opt('discount')) l.discount = num('discount', 2);
      cur.lines.push(l);
    } else if (record === 'P') {
      const p: Payment = { kind: oneOf('payment', PAYMENTS) as PaymentKind, amount: num('amount', 2) };
      cur.payments.push(p);
    } else throw new FormatError(`record "${record}" is not H, L or P`, { file, line, field: 'record' });
  };

  for await (const text of decodeText(input, o.encoding, ctx.signal, { file, line: () => reader.nextLine() })) {
    reader.push(text, false, sink);
    yield* ready.splice(0);
  }
  reader.push('', true, sink);
  yield* ready.splice(0);
  if (count === 0) throw new FormatError('the file holds no sale', { file });
  if (cur) yield cur;
}
