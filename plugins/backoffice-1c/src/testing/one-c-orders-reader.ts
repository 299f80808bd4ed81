/**
 * TEST-ONLY model of 1C's import of an orders file of its exchange with a site (CommerceML 2.08
 * `Документ`s), written from the schema's rules 1C relies on and shares no code with format-xml
 * (it reads the text itself), so it checks the writer from the outside. Not exported.
 *
 *  - UTF-8 (the declaration says so), root КоммерческаяИнформация in urn:1C.ru:commerceml_2 with
 *    ВерсияСхемы 2.03–2.10, at least one Документ
 *  - per Документ: Ид (≤ 40), Номер, Дата (YYYY-MM-DD), ХозОперация "Заказ товара" or
 *    "Возврат товара", Сумма (a decimal, ≤ 2 places), Товары/Товар with Ид, Наименование,
 *    ЦенаЗаЕдиницу, Количество, Сумма
 *  - the document's Сумма is the sum of its lines' Сумма: 1C recomputes and refuses a mismatch
 *  - a document with the requisite Отменен = true is not taken
 */
export class OneCOrdersError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OneCOrdersError';
  }
}

export interface OneCOrderLine {
  id: string;
  name: string;
  /** minor units */
  price: number;
  /** thousandths */
  qty: number;
  /** minor units */
  sum: number;
}

export interface OneCOrder {
  id: string;
  number: string;
  date: string;
  operation: 'Заказ товара' | 'Возврат товара';
  /** minor units */
  sum: number;
  lines: OneCOrderLine[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescape = (s: string) => s.replace(/&(amp|lt|gt|quot|apos|#x[0-9a-fA-F]+|#\d+);/g, (_, e: string) => (e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e]!));

function one(xml: string, name: string, where: string): string {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  if (!m) throw new OneCOrdersError(`${where}: no ${name}`);
  return unescape(m[1]!);
}

function units(s: string, scale: number, what: string): number {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s.trim());
  if (!m || (m[3] ?? '').length > scale) throw new OneCOrdersError(`${what} "${s}" is not a decimal with at most ${scale} places`);
  const v = Number(m[2]) * 10 ** scale + Number(((m[3] ?? '') + '000').slice(0, scale));
  return m[1] ? -v : v;
}

export function read1COrders(bytes: Uint8Array): OneCOrder[] {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  if (!/^<\?xml version="1\.0" encoding="UTF-8"\?>/.test(text)) throw new OneCOrdersError('not a UTF-8 XML document');
  const root = /<КоммерческаяИнформация ([^>]*)>/.exec(text);
  if (!root) throw new OneCOrdersError('no КоммерческаяИнформация');
  if (!/xmlns="urn:1C\.ru:commerceml_2"/.test(root[1]!)) throw new OneCOrdersError('not in the CommerceML 2 namespace');
  const v = /ВерсияСхемы="([^"]*)"/.exec(root[1]!)?.[1];
  if (!v || !/^2\.(0[3-9]|10)$/.test(v)) throw new OneCOrdersError(`ВерсияСхемы ${v}`);
  const docs = [...text.matchAll(/<Документ>([\s\S]*?)<\/Документ>/g)].map((m) => m[1]!);
  if (docs.length === 0) throw new OneCOrdersError('no Документ');
  const out: OneCOrder[] = [];
  for (const [k, d] of docs.entries()) {
    const where = `Документ ${k + 1}`;
    if (/<Наименование>Отменен<\/Наименование><Значение>true<\/Значение>/.test(d)) continue;
    const id = one(d, 'Ид', where);
    if (id.length > 40) throw new OneCOrdersError(`${where}: Ид longer than 40`);
    const date = one(d, 'Дата', where);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new OneCOrdersError(`${where}: Дата "${date}"`);
    const operation = one(d, 'ХозОперация', where);
    if (operation !== 'Заказ товара' && operation !== 'Возврат товара') throw new OneCOrdersError(`${where}: ХозОперация "${operation}"`);
    const head = d.slice(0, d.indexOf('<Товары>') >= 0 ? d.indexOf('<Товары>') : d.length);
    const sum = units(one(head, 'Сумма', where), 2, `${where} Сумма`);
    const lines = [...d.matchAll(/<Товар>([\s\S]*?)<\/Товар>/g)].map((m, i) => {
      const w = `${where} Товар ${i + 1}`;
      const t = m[1]!.replace(/<ЗначенияРеквизитов>[\s\S]*?<\/ЗначенияРеквизитов>/, '').replace(/<Скидки>[\s\S]*?<\/Скидки>/, '');
      return { id: one(t, 'Ид', w), name: one(t, 'Наименование', w), price: units(one(t, 'ЦенаЗаЕдиницу', w), 2, `${w} ЦенаЗаЕдиницу`), qty: units(one(t, 'Количество', w), 3, `${w} Количество`), sum: units(one(t, 'Сумма', w), 2, `${w} Сумма`) };
    });
    if (lines.length === 0) throw new OneCOrdersError(`${where}: no Товар`);
    const total = lines.reduce((a, l) => a + l.sum, 0);
    if (total !== sum) throw new OneCOrdersError(`${where}: Сумма ${sum} is not the sum of its lines ${total}`);
    out.push({ id, number: one(d, 'Номер', where), date, operation, sum, lines });
  }
  return out;
}
