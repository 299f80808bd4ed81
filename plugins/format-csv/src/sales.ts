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

export function encodeSale(sale: Sale, _ctx: EncodeContext, o: ResolvedOptions): Uint8Array {
  const sep = o.separator;
  const row = (v: Partial<Record<SaleColumn, string>>) => SALE_COLUMNS.map((c) => csvField(v[c] ?? '', sep)).join(sep) + '\r\n';
  const { saleId } = sale;
  let out = SALE_COLUMNS.join(sep) + '\r\n';
  out += row({ record: 'H', saleId, terminal: sale.terminalId, time: sale.time, kind: sale.kind, shift: whole(sale.shift, 'shift'), receiptNo: whole(sale.receiptNo, 'receiptNo'), cashier: sale.cashier, total: money(sale.total, 'total') });
  for (const l of sale.lines) {
    out += row({ record: 'L', saleId, code: l.code, barcode: l.barcode, name: l.name, qty: fixed(l.qty, 3, 'qty'), price: money(l.price, 'price'), discount: l.discount === undefined ? '' : money(l.discount, 'discount'), amount: money(l.amount, 'amount') });
  }
  for (const p of sale.payments) out += row({ record: 'P', saleId, payment: p.kind, amount: money(p.amount, 'amount') });
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
