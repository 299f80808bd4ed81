// A sale as a CommerceML 2.08 `Документ`, and back. The document is what 1C's "exchange with a
// site" imports as an order (ХозОперация "Заказ товара") or a return ("Возврат товара"); what the
// schema has no place for — the till's sale id and terminal, the exact time with its offset, shift,
// receipt number, cashier, payments — travels in the document's ЗначенияРеквизитов under `cfx.*`
// names, so decodeSales gives back exactly the Sale that was encoded.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { formatFixed } from '@cfx/core/text';
import { FormatError, type DecodeContext, type EncodeContext, type Payment, type PaymentKind, type Sale, type SaleKind, type SaleLine } from '@cfx/core/api';
import { exactFixed } from './numbers.js';
import { resolveOptions, type ResolvedOptions, type XmlFormatOptions } from './options.js';
import { limitsFor } from './prices.js';
import { bool, Collector, kid, kids, nodeXml, textOf, type XNode } from './tree.js';
import { checkRoot, CML_NS, pump, SafeXmlReader } from './xml-reader.js';
import { el } from './xml-writer.js';

export const SCHEMA_VERSION = '2.08';
const ROOT = 'КоммерческаяИнформация';
const OP_SALE = 'Заказ товара';
const OP_RETURN = 'Возврат товара';
/** the one unit the sale model knows nothing better than: pieces (OKEI 796) */
const UNIT = '<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>';

/** names of the document requisites cfx writes (ЗначениеРеквизита/Наименование) */
export const REQ = {
  saleId: 'cfx.saleId',
  terminal: 'cfx.terminal',
  time: 'cfx.time',
  shift: 'cfx.shift',
  receiptNo: 'cfx.receiptNo',
  cashier: 'cfx.cashier',
  payments: 'cfx.payments',
  /** a return the till journals with negative amounts: written positive, as 1C expects, and flipped back */
  signs: 'cfx.signs',
  /** per line: the full name when it is longer than Наименование's 255, a barcode that is no ШтрихкодТип, a line without name */
  name: 'cfx.name',
  barcode: 'cfx.barcode',
  noName: 'cfx.noName',
  /** 1C's own requisite for a cancelled order */
  cancelled: 'Отменен',
} as const;

const KINDS: readonly string[] = ['sale', 'return', 'cancel'] satisfies SaleKind[];
const PAYMENTS: readonly string[] = ['cash', 'card', 'other'] satisfies PaymentKind[];
const TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/;

const int = (v: unknown, field: string): number => {
  if (!Number.isSafeInteger(v)) throw new FormatError(`${field} ${String(v)} is not an integer`, { field });
  return v as number;
};
const money = (v: number, field: string) => formatFixed(int(v, field), 2, '.');
/** thousandths as the shortest exact decimal: 2000 -> 2, 250 -> 0.25 */
const qtyText = (v: number, field: string) => formatFixed(int(v, field), 3, '.').replace(/0+$/, '').replace(/\.$/, '');

/** the first `n` UTF-16 units, without cutting a surrogate pair in two */
const prefix = (s: string, n: number): string => {
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
};

/** CommerceML's Ид is at most 40 characters: longer ones keep their start and a hash of the whole */
export function documentId(sale: Sale): string {
  const id = `${sale.terminalId}_${sale.saleId}`;
  if (id.length <= 40) return id;
  return `${id.slice(0, 27)}~${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

const requisite = (name: string, values: string[]): string =>
  `<ЗначениеРеквизита>${el('Наименование', name)}${values.map((v) => {
    if (v.length > 1000) throw new FormatError(`${name} is longer than 1000 characters (CommerceML ЗначениеТип)`, { field: name });
    return el('Значение', v, name);
  }).join('')}</ЗначениеРеквизита>`;

/** a return journaled with every amount <= 0 (and some < 0): the document gets them positive */
function negativeReturn(sale: Sale): boolean {
  if (sale.kind !== 'return') return false;
  const nums = [sale.total, ...sale.payments.map((p) => p.amount), ...sale.lines.flatMap((l) => [l.qty, l.amount, ...(l.discount !== undefined ? [l.discount] : [])])];
  return nums.every((v) => v <= 0) && nums.some((v) => v < 0);
}

const flip = (v: number) => (v === 0 ? 0 : -v);

export function encodeSale(sale: Sale, _ctx: EncodeContext, o: ResolvedOptions): Uint8Array {
  const { body, formed } = saleDocument(sale, o);
  return Buffer.from(wrap(body, formed), 'utf8');
}

const wrap = (documents: string, formed: string) =>
  '<?xml version="1.0" encoding="UTF-8"?>\n' + `<${ROOT} xmlns="${CML_NS}" ВерсияСхемы="${SCHEMA_VERSION}" ДатаФормирования="${formed}">\n` + documents + `</${ROOT}>\n`;

/**
 * Several sales as one orders file, a `Документ` each (what 1C's exchange with a site imports as
 * orders). ДатаФормирования is the latest sale's local time, so the bytes depend on the sales only:
 * a batch written again after a crash is the same file.
 */
export function encodeOrders(sales: readonly Sale[], options: XmlFormatOptions = {}): Buffer {
  const o = resolveOptions(options);
  if (sales.length === 0) throw new FormatError('an orders file needs at least one sale', { field: 'Документ' });
  let body = '';
  let formed = '';
  for (const [k, sale] of sales.entries()) {
    let d: { body: string; formed: string };
    try {
      d = saleDocument(sale, o);
    } catch (e) {
      // which sale of the batch, for the person who has to fix it
      if (e instanceof FormatError) throw new FormatError(`sale ${k + 1} (${String(sale?.saleId)}): ${String(e.details.reason ?? e.message)}`, e.location);
      throw e;
    }
    body += d.body;
    if (d.formed > formed) formed = d.formed;
  }
  return Buffer.from(wrap(body, formed), 'utf8');
}

/** one sale's `Документ` and its local date-time */
function saleDocument(sale: Sale, o: ResolvedOptions): { body: string; formed: string } {
  if (typeof sale.saleId !== 'string' || sale.saleId === '') throw new FormatError('saleId is required', { field: 'saleId' });
  if (typeof sale.terminalId !== 'string') throw new FormatError('terminalId is required', { field: 'terminalId' });
  if (!KINDS.includes(sale.kind)) throw new FormatError(`kind "${String(sale.kind)}" is not sale, return or cancel`, { field: 'kind' });
  const t = TIME.exec(sale.time ?? '');
  if (!t) throw new FormatError(`time "${String(sale.time)}" is not an ISO 8601 date-time`, { field: 'time' });
  const [, date, time] = t as unknown as [string, string, string];
  const neg = negativeReturn(sale);
  const s = (v: number) => (neg ? flip(v) : v);

  let lines = '';
  for (const [k, l] of sale.lines.entries()) {
    const f = `lines[${k}]`;
    if (typeof l.code !== 'string' || l.code === '' || l.code.length > 80) throw new FormatError(`${f}.code "${String(l.code)}" must be 1 to 80 characters (CommerceML Ид)`, { field: `${f}.code` });
    const req: string[] = [];
    let name = l.name;
    if (name === undefined || name === '') {
      // Наименование is required: the code stands in, and a marker says there was no (or an empty) name
      req.push(name === undefined ? requisite(REQ.noName, ['true']) : requisite(REQ.name, ['']));
      name = l.code.slice(0, 255);
    } else if (name.length > 255) {
      req.push(requisite(REQ.name, [name]));
      name = prefix(name, 255);
    }
    let barcode = '';
    if (l.barcode !== undefined) {
      if (l.barcode.length >= 8 && l.barcode.length <= 14 && l.barcode.trim() === l.barcode) barcode = el('Штрихкод', l.barcode, `${f}.barcode`);
      else req.push(requisite(REQ.barcode, [l.barcode]));
    }
    lines +=
      `      <Товар>${el('Ид', l.code, `${f}.code`)}${barcode}${el('Наименование', name, `${f}.name`)}${UNIT}` +
      (req.length ? `<ЗначенияРеквизитов>${req.join('')}</ЗначенияРеквизитов>` : '') +
      `<ЦенаЗаЕдиницу>${money(l.price, `${f}.price`)}</ЦенаЗаЕдиницу><Количество>${qtyText(s(l.qty), `${f}.qty`)}</Количество><Сумма>${money(s(l.amount), `${f}.amount`)}</Сумма>` +
      (l.discount !== undefined ? `<Скидки><Скидка><Наименование>Скидка</Наименование><Сумма>${money(s(l.discount), `${f}.discount`)}</Сумма><УчтеноВСумме>true</УчтеноВСумме></Скидка></Скидки>` : '') +
      '</Товар>\n';
  }

  const reqs = [requisite(REQ.saleId, [sale.saleId]), requisite(REQ.terminal, [sale.terminalId]), requisite(REQ.time, [sale.time])];
  if (sale.shift !== undefined) reqs.push(requisite(REQ.shift, [String(int(sale.shift, 'shift'))]));
  if (sale.receiptNo !== undefined) reqs.push(requisite(REQ.receiptNo, [String(int(sale.receiptNo, 'receiptNo'))]));
  if (sale.cashier !== undefined) reqs.push(requisite(REQ.cashier, [sale.cashier]));
  if (sale.payments.length) {
    reqs.push(requisite(REQ.payments, sale.payments.map((p, k) => {
      if (!PAYMENTS.includes(p.kind)) throw new FormatError(`payments[${k}].kind "${String(p.kind)}" is not cash, card or other`, { field: `payments[${k}].kind` });
      return `${p.kind} ${money(s(p.amount), `payments[${k}].amount`)}`;
    })));
  }
  if (neg) reqs.push(requisite(REQ.signs, ['negative']));
  if (sale.kind === 'cancel') reqs.push(requisite(REQ.cancelled, ['true']));

  const body =
    '  <Документ>\n' +
    `    ${el('Ид', documentId(sale), 'saleId')}${el('Номер', sale.receiptNo !== undefined ? String(sale.receiptNo) : sale.saleId, 'saleId')}<Дата>${date}</Дата>\n` +
    `    <ХозОперация>${sale.kind === 'return' ? OP_RETURN : OP_SALE}</ХозОперация><Роль>Продавец</Роль><Валюта>${o.currency}</Валюта><Курс>1</Курс><Сумма>${money(s(sale.total), 'total')}</Сумма>\n` +
    `    <Контрагенты><Контрагент>${el('Ид', o.customerId)}${el('Наименование', o.customerName)}${el('ПолноеНаименование', o.customerName)}<Роль>Покупатель</Роль></Контрагент></Контрагенты>\n` +
    `    <Время>${time}</Время>\n` +
    (lines ? `    <Товары>\n${lines}    </Товары>\n` : '') +
    `    <ЗначенияРеквизитов>${reqs.join('')}</ЗначенияРеквизитов>\n` +
    '  </Документ>\n';
  return { body, formed: `${date}T${time}` };
}

/** Sales in document order: every `Документ` of the file is one sale. */
export async function* decodeSales(input: Readable, ctx: DecodeContext, o: ResolvedOptions): AsyncGenerator<Sale> {
  const file = ctx.fileName;
  const ready: Sale[] = [];
  let count = 0;
  let root = '';
  const reader: SafeXmlReader = new SafeXmlReader(file, limitsFor(o, ctx), {
    open: (e, depth) => {
      if (docs.active) return docs.open(e);
      if (depth === 1) {
        checkRoot(e, reader);
        root = `<${ROOT} xmlns="${CML_NS}"${Object.entries(e.attrs).map(([k, v]) => ` ${k}="${v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}"`).join('')}>`;
      }
      if (depth === 2 && e.cml && e.local === 'Документ') docs.start(e);
    },
    close: () => {
      if (docs.active) {
        const d = docs.close();
        if (d) {
          count++;
          let sale: Sale;
          try {
            sale = toSale(d, file, reader);
          } catch (e) {
            // one bad order among good ones (an empty Документ): set aside on its own when the caller takes parts
            if (!(e instanceof FormatError) || !ctx.reject) throw e;
            const id = textOf(d, 'Ид');
            ctx.reject({ label: `Документ ${count}${id !== undefined ? ` ${id}` : ''}`, error: e, content: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${root}\n${nodeXml(d)}\n</${ROOT}>\n`, 'utf8') });
            return;
          }
          ready.push(sale);
        }
      }
    },
    text: (t) => {
      if (docs.active) docs.text(t);
    },
  });
  const docs = new Collector(reader, limitsFor(o, ctx).maxTextLength);
  const it = input[Symbol.asyncIterator]();
  let more = true;
  try {
    while (more) {
      more = await pump(it, reader, ctx.signal);
      yield* ready.splice(0);
    }
  } finally {
    if (more) {
      input.destroy();
      await it.return?.();
    }
  }
  if (count === 0) throw new FormatError('the file holds no Документ', { file, line: 1, field: 'Документ' });
}

/** the raw text of a leaf (strings round-trip exactly); undefined when absent */
const raw = (n: XNode | undefined, name: string): string | undefined => kid(n, name)?.text;

function toSale(d: XNode, file: string, reader: SafeXmlReader): Sale {
  const err = (message: string, at: XNode, field: string) => reader.error(message, field, undefined, at.line, at.column);
  const req = new Map<string, { values: string[]; at: XNode }>();
  for (const r of kids(kid(d, 'ЗначенияРеквизитов'), 'ЗначениеРеквизита')) {
    const name = textOf(r, 'Наименование');
    if (name !== undefined) req.set(name, { values: kids(r, 'Значение').map((v) => v.text), at: r });
  }
  const one = (name: string) => req.get(name)?.values[0];
  const need = (name: string, field: string): [string, XNode] => {
    const n = kid(d, name);
    const v = textOf(n);
    if (!n || v === undefined) throw err(`the Документ has no ${name}`, n ?? d, field);
    return [v, n];
  };
  const num = (v: string, scale: number, at: XNode, field: string) => {
    const r = exactFixed(v, scale, '.');
    if (typeof r === 'string') throw err(`${field} "${v}" ${r}`, at, field);
    return r;
  };
  const whole = (name: string, field: string): number | undefined => {
    const r = req.get(name);
    if (!r) return undefined;
    const v = r.values[0]?.trim() ?? '';
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw err(`${name} "${v}" is not a whole number`, r.at, field);
    return Number(v);
  };
  const neg = one(REQ.signs)?.trim() === 'negative';
  const s = (v: number) => (neg ? flip(v) : v);

  const [op, opAt] = need('ХозОперация', 'ХозОперация');
  let kind: SaleKind;
  if (bool(one(REQ.cancelled))) kind = 'cancel';
  else if (op === OP_RETURN) kind = 'return';
  else if (op === OP_SALE || op === 'Отпуск товара' || op === 'Счет на оплату') kind = 'sale';
  else throw err(`ХозОперация "${op}" is not a sale or a return`, opAt, 'ХозОперация');

  const [id] = need('Ид', 'Ид');
  const [date, dateAt] = need('Дата', 'Дата');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw err(`Дата "${date}" is not a date (YYYY-MM-DD)`, dateAt, 'Дата');
  const [sum, sumAt] = need('Сумма', 'Сумма');
  const base = basename(file);
  const terminalId = one(REQ.terminal) ?? (base.includes('_') ? base.slice(0, base.indexOf('_')) : '');

  const lines: SaleLine[] = kids(kid(d, 'Товары'), 'Товар').map((t, k) => {
    const f = `lines[${k}]`;
    const lr = new Map<string, string>();
    for (const r of kids(kid(t, 'ЗначенияРеквизитов'), 'ЗначениеРеквизита')) {
      const name = textOf(r, 'Наименование');
      if (name !== undefined) lr.set(name, kid(r, 'Значение')?.text ?? '');
    }
    const code = raw(t, 'Ид');
    if (code === undefined || code.trim() === '') throw err(`${f}: a Товар without Ид`, t, 'Ид');
    const field = (name: string, label: string, scale: number, optional = false): number | undefined => {
      const n = kid(t, name);
      const v = textOf(n);
      if (v === undefined) {
        if (optional) return undefined;
        throw err(`${f}: a Товар without ${name}`, n ?? t, label);
      }
      return num(v, scale, n!, label);
    };
    const qty = s(field('Количество', 'Количество', 3)!);
    const price = field('ЦенаЗаЕдиницу', 'ЦенаЗаЕдиницу', 2)!;
    const amount = s(field('Сумма', 'Сумма', 2)!);
    const barcode = raw(t, 'Штрихкод') ?? lr.get(REQ.barcode);
    const name = lr.get(REQ.name) ?? (lr.has(REQ.noName) ? undefined : raw(t, 'Наименование'));
    const line: SaleLine = { code, ...(barcode !== undefined ? { barcode } : {}), ...(name !== undefined ? { name } : {}), qty, price, amount };
    const discounts = kids(kid(t, 'Скидки'), 'Скидка');
    if (discounts.length) {
      line.discount = s(discounts.reduce((acc, x) => {
        const v = textOf(x, 'Сумма');
        if (v === undefined) throw err(`${f}: a Скидка without Сумма`, x, 'Скидка');
        return acc + num(v, 2, kid(x, 'Сумма')!, 'Скидка');
      }, 0));
    }
    return line;
  });

  const payments: Payment[] = (req.get(REQ.payments)?.values ?? []).map((v) => {
    const m = /^\s*(cash|card|other)\s+(\S+)\s*$/.exec(v);
    const at = req.get(REQ.payments)!.at;
    if (!m) throw err(`${REQ.payments} "${v}" is not "<cash|card|other> <amount>"`, at, REQ.payments);
    return { kind: m[1] as PaymentKind, amount: s(num(m[2]!, 2, at, REQ.payments)) };
  });

  // keys in the order parseSaleInput gives them: the store hashes the JSON of a sale
  const shift = whole(REQ.shift, 'shift');
  const receiptNo = whole(REQ.receiptNo, 'receiptNo');
  const cashier = one(REQ.cashier);
  const sale: Sale = {
    saleId: one(REQ.saleId) ?? id,
    terminalId,
    ...(shift !== undefined ? { shift } : {}),
    ...(receiptNo !== undefined ? { receiptNo } : {}),
    ...(cashier !== undefined ? { cashier } : {}),
    time: one(REQ.time) ?? `${date}T${textOf(d, 'Время') ?? '00:00:00'}`,
    kind,
    lines,
    payments,
    total: s(num(sum, 2, sumAt, 'Сумма')),
  };
  return sale;
}
