// PriceRecords -> one CommerceML 2.08 `ПакетПредложений`, streamed.
//
// Why offers only, and not a Каталог + ПакетПредложений pair: the records are one pass of a
// stream. A catalog-first document would have to hold (or spool) every offer until the catalog
// is written, and its reader has to keep the catalog in a map by Ид (≈230 bytes a product) to join
// it; a `Предложение` carries everything a `Товар` does (in the 2.08 schema it extends Товар), so
// an offers-only package is written and read in constant memory. Groups go in the offer's
// `Группы`, the VAT rate in its `СтавкиНалогов`; what CommerceML has no place for rides in the
// offer's `ЗначенияРеквизитов` under `cfx.*` names (README.md, "Writing price files").
import { Readable } from 'node:stream';
import { encodeText, formatFixed } from '@cfx/core/text';
import { ErrorCodes, FormatError, type PriceFileMode, type PriceRecord, type Product } from '@cfx/core/api';
import type { ResolvedOptions } from './options.js';
import { CML_NS } from './xml-reader.js';
import { escAttr, escText } from './xml-writer.js';

export const PRICE_SCHEMA_VERSION = '2.08';
/** the bytes depend on the records only: publish names files by their sha256, and a re-publish after a crash must write the same file */
export const PRICE_FORMED_AT = '1970-01-01T00:00:00';
/** the Ид of the one price type and of the package's catalog */
export const PRICE_TYPE_ID = 'cfx-price';
export const CATALOG_ID = 'cfx-catalog';

/** offer requisites cfx writes (ЗначениеРеквизита/Наименование); the decoder reads them back */
export const PRICE_REQ = {
  /** `disable`: the code exists but must not be sold (a disable record) */
  op: 'cfx.op',
  /** the exact name when Наименование cannot carry it (empty, over 255 characters, edge whitespace) */
  name: 'cfx.name',
  /** every barcode, in order, when Штрихкод cannot carry them (several, or not an 8–14 character one) */
  barcodes: 'cfx.barcodes',
  article: 'cfx.article',
  receiptName: 'cfx.receiptName',
  /** `true` / `false`, when the OKEI code does not already say it (166 = kg = weighed) */
  weighed: 'cfx.weighed',
  enabled: 'cfx.enabled',
  /** prefix of Product.extras the schema has no place for: `cfx.extra.<key>` */
  extra: 'cfx.extra.',
} as const;

const ROOT = 'КоммерческаяИнформация';
const FLUSH = 64 * 1024;
const MAX_VALUE = 1000;
const KG = '166';

const money = (v: number, field: string, line?: number): string => {
  if (!Number.isSafeInteger(v)) throw new FormatError(`${field} ${String(v)} is not an integer number of minor units`, { field, ...(line !== undefined ? { line } : {}) });
  if (v < 0) throw new FormatError(`${field} ${v} is negative: CommerceML prices are not`, { field, ...(line !== undefined ? { line } : {}) });
  return formatFixed(v, 2, '.');
};
const qty = (v: number, field: string, line?: number): string => {
  if (!Number.isSafeInteger(v)) throw new FormatError(`${field} ${String(v)} is not an integer number of thousandths`, { field, ...(line !== undefined ? { line } : {}) });
  return formatFixed(v, 3, '.').replace(/0+$/, '').replace(/\.$/, '');
};

/** the first `n` UTF-16 units, without cutting a surrogate pair in two */
const prefix = (s: string, n: number): string => {
  if (s.length <= n) return s;
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
};

/** a long value in pieces of at most 1000 characters (CommerceML's ЗначениеТип); the reader joins them */
function pieces(v: string): string[] {
  const out: string[] = [];
  let rest = v;
  do {
    const p = prefix(rest, MAX_VALUE);
    out.push(p);
    rest = rest.slice(p.length);
  } while (rest.length);
  return out;
}

let CP1251: Set<number> | undefined;
/** code points windows-1251 holds (0x98 is unassigned) */
function cp1251Set(): Set<number> {
  if (!CP1251) {
    const bytes = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) bytes[i] = i;
    const text = new TextDecoder('windows-1251').decode(bytes);
    CP1251 = new Set([...text].filter((_, i) => i !== 0x98).map((c) => c.codePointAt(0)!));
  }
  return CP1251;
}

/** text for a cp1251 document: what windows-1251 cannot hold becomes a character reference, so nothing is lost */
function forCp1251(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(s)) return s;
  const set = cp1251Set();
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    out += cp < 0x80 || set.has(cp) ? ch : `&#x${cp.toString(16).toUpperCase()};`;
  }
  return out;
}

class Writer {
  constructor(private readonly cp1251: boolean) {}
  text(s: string, field: string): string {
    const t = escText(s, field);
    return this.cp1251 ? forCp1251(t) : t;
  }
  attr(s: string, field: string): string {
    const t = escAttr(s, field);
    return this.cp1251 ? forCp1251(t) : t;
  }
  el(name: string, s: string, field = name): string {
    return `<${name}>${this.text(s, field)}</${name}>`;
  }
  requisite(name: string, values: string[]): string {
    return `<ЗначениеРеквизита>${this.el('Наименование', name)}${values.map((v) => this.el('Значение', v, name)).join('')}</ЗначениеРеквизита>`;
  }
}

/** a CommerceML Ид (ИдентификаторГлобальныйТип, up to 80 characters) that reads back as the same code */
function checkCode(code: unknown, line: number | undefined): string {
  if (typeof code !== 'string' || code === '' || code.length > 80 || code.trim() !== code) {
    throw new FormatError(`product code ${JSON.stringify(code)} cannot be a CommerceML Ид (1 to 80 characters, no leading or trailing spaces)`, { field: 'code', ...(line !== undefined ? { line } : {}) }, { code: ErrorCodes.FORMAT_UNSUPPORTED });
  }
  return code;
}

const BARCODE = /^[^\s,]{8,14}$/;

function offer(w: Writer, p: Product, line: number | undefined, o: ResolvedOptions): string {
  const code = checkCode(p.code, line);
  if (typeof p.name !== 'string') throw new FormatError(`product ${code} has no name`, { field: 'name', ...(line !== undefined ? { line } : {}) });
  const req: string[] = [];
  const barcodes = p.barcodes ?? [];
  let barcode = '';
  if (barcodes.length === 1 && BARCODE.test(barcodes[0]!)) barcode = w.el('Штрихкод', barcodes[0]!, 'barcodes');
  else if (barcodes.length) {
    // 2.08 has one Штрихкод of 8–14 characters: the first one that fits is written for other readers
    const fit = barcodes.find((b) => BARCODE.test(b));
    if (fit !== undefined) barcode = w.el('Штрихкод', fit, 'barcodes');
    req.push(w.requisite(PRICE_REQ.barcodes, barcodes.map((b) => {
      if (typeof b !== 'string' || b.length > MAX_VALUE) throw new FormatError(`barcode ${JSON.stringify(b)} of product ${code} cannot be written`, { field: 'barcodes', ...(line !== undefined ? { line } : {}) });
      return b;
    })));
  }
  let article = '';
  if (p.article !== undefined) {
    if (p.article !== '' && p.article.trim() === p.article && p.article.length <= 255) article = w.el('Артикул', p.article, 'article');
    else req.push(w.requisite(PRICE_REQ.article, pieces(p.article)));
  }
  let name = p.name;
  if (name === '' || name.trim() !== name || name.length > 255) {
    req.push(w.requisite(PRICE_REQ.name, pieces(name)));
    name = prefix(name, 255).trim() || code.slice(0, 255);
  }
  const extras = { ...(p.extras ?? {}) };
  const okei = extras.okei !== undefined && /^\d{3,4}$/.test(extras.okei) ? extras.okei : undefined;
  if (okei !== undefined) delete extras.okei;
  let unit = '';
  if (p.unit !== undefined || okei !== undefined) {
    const u = p.unit ?? '';
    if (u !== '' && (u.trim() !== u || u.length > 255)) throw new FormatError(`unit ${JSON.stringify(u)} of product ${code} cannot be written`, { field: 'unit', ...(line !== undefined ? { line } : {}) });
    unit = `<БазоваяЕдиница${okei !== undefined ? ` Код="${okei}"` : ''}>${w.text(u, 'unit')}</БазоваяЕдиница>`;
    if (p.unit === undefined && okei !== undefined) unit = `<БазоваяЕдиница Код="${okei}"/>`;
  }
  const group = p.groupCode !== undefined ? `<Группы>${w.el('Ид', checkText(p.groupCode, 'groupCode', code, line), 'groupCode')}</Группы>` : '';
  const tax = p.taxGroup !== undefined ? `<СтавкиНалогов><СтавкаНалога><Наименование>НДС</Наименование>${w.el('Ставка', checkText(p.taxGroup, 'taxGroup', code, line), 'taxGroup')}</СтавкаНалога></СтавкиНалогов>` : '';
  if (p.receiptName !== undefined) req.push(w.requisite(PRICE_REQ.receiptName, pieces(p.receiptName)));
  if (p.weighed !== undefined && p.weighed !== (okei === KG)) req.push(w.requisite(PRICE_REQ.weighed, [String(p.weighed)]));
  if (p.enabled !== undefined) req.push(w.requisite(PRICE_REQ.enabled, [String(p.enabled)]));
  for (const [k, v] of Object.entries(extras)) req.push(w.requisite(`${PRICE_REQ.extra}${k}`, pieces(String(v))));
  const price = `<Цены><Цена><ИдТипаЦены>${w.text(o.priceType ?? PRICE_TYPE_ID, 'priceType')}</ИдТипаЦены><ЦенаЗаЕдиницу>${money(p.price, 'price', line)}</ЦенаЗаЕдиницу><Валюта>${o.currency}</Валюта></Цена></Цены>`;
  let stock = '';
  if (p.stock !== undefined) {
    const q = qty(p.stock, 'stock', line);
    stock = `<Количество>${q}</Количество>`;
    if (o.warehouse !== undefined) stock += `<Склад ИдСклада="${w.attr(o.warehouse, 'warehouse')}" КоличествоНаСкладе="${q}"/>`;
  }
  return (
    `      <Предложение>${w.el('Ид', code, 'code')}${barcode}${article}${w.el('Наименование', name, 'name')}${unit}${group}${tax}` +
    (req.length ? `<ЗначенияРеквизитов>${req.join('')}</ЗначенияРеквизитов>` : '') +
    `${price}${stock}</Предложение>\n`
  );
}

/** a value the decoder reads trimmed: it must not need the trimming */
function checkText(v: string, field: string, code: string, line: number | undefined): string {
  if (typeof v !== 'string' || v === '' || v.trim() !== v || v.length > 255) {
    throw new FormatError(`${field} ${JSON.stringify(v)} of product ${code} cannot be written (1 to 255 characters, no leading or trailing spaces)`, { field, ...(line !== undefined ? { line } : {}) }, { code: ErrorCodes.FORMAT_UNSUPPORTED });
  }
  return v;
}

/** a record with only a code: Наименование is required, so the code stands in */
function bare(w: Writer, code: string, attrs: string, req: string): string {
  return `      <Предложение${attrs}>${w.el('Ид', code, 'code')}${w.el('Наименование', code.slice(0, 255), 'code')}${req}</Предложение>\n`;
}

export function encodePrices(records: AsyncIterable<PriceRecord> | Iterable<PriceRecord>, mode: PriceFileMode, o: ResolvedOptions, signal?: AbortSignal): Readable {
  const cp1251 = o.encoding === 'cp1251';
  const w = new Writer(cp1251);
  const bytes = (s: string) => (cp1251 ? encodeText(s, 'cp1251') : Buffer.from(s, 'utf8'));
  async function* chunks(): AsyncGenerator<Buffer> {
    const priceTypeName = o.priceType ?? 'Розничная';
    let out =
      `<?xml version="1.0" encoding="${cp1251 ? 'windows-1251' : 'UTF-8'}"?>\n` +
      `<${ROOT} xmlns="${CML_NS}" ВерсияСхемы="${PRICE_SCHEMA_VERSION}" ДатаФормирования="${PRICE_FORMED_AT}">\n` +
      `  <ПакетПредложений СодержитТолькоИзменения="${mode === 'delta'}">\n` +
      `    <Ид>${CATALOG_ID}#</Ид><Наименование>Пакет предложений (cfx)</Наименование><ИдКаталога>${CATALOG_ID}</ИдКаталога><ИдКлассификатора>${CATALOG_ID}</ИдКлассификатора>\n` +
      '    <Владелец><Ид>cfx</Ид><Наименование>cfx</Наименование><ОфициальноеНаименование>cfx</ОфициальноеНаименование></Владелец>\n' +
      `    <ТипыЦен><ТипЦены>${w.el('Ид', o.priceType ?? PRICE_TYPE_ID, 'priceType')}${w.el('Наименование', priceTypeName, 'priceType')}<Валюта>${o.currency}</Валюта></ТипЦены></ТипыЦен>\n` +
      (o.warehouse !== undefined ? `    <Склады><Склад>${w.el('Ид', o.warehouse, 'warehouse')}${w.el('Наименование', o.warehouse, 'warehouse')}</Склад></Склады>\n` : '') +
      '    <Предложения>\n';
    let first = true;
    for await (const r of records) {
      if (r.op === 'clear') {
        // a full package replaces the catalog already: a clear is what it means, but only before the first item
        if (mode !== 'full' || !first) {
          throw new FormatError(mode === 'full' ? 'a clear after the first item cannot be written: a CommerceML package replaces the catalog once, at its start' : 'a delta (СодержитТолькоИзменения) cannot carry a clear', { field: 'clear', ...(r.line !== undefined ? { line: r.line } : {}) }, { code: ErrorCodes.FORMAT_UNSUPPORTED });
        }
        continue;
      }
      first = false;
      if (r.op === 'upsert') out += offer(w, r.product, r.line, o);
      else if (r.op === 'delete') out += bare(w, checkCode(r.code, r.line), ' Статус="Удален"', '');
      else if (r.op === 'disable') out += bare(w, checkCode(r.code, r.line), '', `<ЗначенияРеквизитов>${w.requisite(PRICE_REQ.op, ['disable'])}</ЗначенияРеквизитов>`);
      else throw new FormatError(`unknown price record op ${JSON.stringify((r as { op: unknown }).op)}`, { field: 'op' });
      if (out.length >= FLUSH) {
        signal?.throwIfAborted();
        yield bytes(out);
        out = '';
      }
    }
    out += '    </Предложения>\n  </ПакетПредложений>\n' + `</${ROOT}>\n`;
    yield bytes(out);
  }
  return Readable.from(chunks(), { objectMode: false });
}
