// CommerceML 2 price decoding: one XML document in, PriceRecords out, streamed.
//
// How import.xml (Каталог: names, barcodes, groups, taxes) and offers.xml (ПакетПредложений:
// prices, stock) are joined — see README.md "Joining import.xml and offers.xml":
// - one document holding ПакетПредложений alone (offers.xml as 1C writes it) streams straight
//   through: every offer carries its own Наименование, БазоваяЕдиница (and often Штрихкод);
// - one document holding the Каталог FIRST and then ПакетПредложений (what combineCommerceML
//   makes of import.xml + offers.xml) keeps the catalog's products in a compact map by Ид while it
//   reads them, then streams the offers, each joined with its product as it is read. Memory is
//   that map (about 230 bytes a product), never the document;
// - a Каталог alone has no prices (refused: FORMAT_UNSUPPORTED); a Каталог after the offers is
//   refused too (the offers were already handed out).
import type { Readable } from 'node:stream';
import { parseFixed, SkipCounter } from '@cfx/core/text';
import { ErrorCodes, FormatError, type DecodeContext, type PriceDecoding, type PriceFileMode, type PriceRecord, type Product } from '@cfx/core/api';
import type { ResolvedOptions } from './options.js';
import { PRICE_REQ } from './price-writer.js';
import { bool, Collector, kid, kids, textOf, type XNode } from './tree.js';
import { pump, SafeXmlReader, type XmlElement } from './xml-reader.js';

const ROOT = 'КоммерческаяИнформация';
const OFFER_SECTIONS = new Set(['ПакетПредложений', 'ИзмененияПакетаПредложений']);

/** what the join keeps of a catalog product (unpacked from the map's packed string) */
interface CatalogEntry {
  name: string | undefined;
  barcodes: string[];
  article: string | undefined;
  unit: string | undefined;
  okei: string | undefined;
  group: string | undefined;
  tax: string | undefined;
}

/** unit, OKEI code, group and tax of a product: few distinct ones, shared */
interface Shared {
  unit: string | undefined;
  okei: string | undefined;
  group: string | undefined;
  tax: string | undefined;
}

/** U+0001 cannot occur in XML 1.0 text: a safe separator inside a packed entry */
const SEP = '\u0001';

interface Unit {
  unit: string | undefined;
  okei: string | undefined;
}

const LIMIT_TEXT_IN_LINE = (o: ResolvedOptions, ctx: DecodeContext) => Math.min(o.maxTextLength, ctx.maxLineLength !== undefined && ctx.maxLineLength >= 1024 ? ctx.maxLineLength : Infinity);

export function limitsFor(o: ResolvedOptions, ctx: DecodeContext) {
  return { encoding: o.encoding, maxBytes: o.maxBytes, maxDepth: o.maxDepth, maxTextLength: LIMIT_TEXT_IN_LINE(o, ctx) };
}

class PriceReader {
  readonly reader: SafeXmlReader;
  private readonly items: Collector;
  /** element names from the root down, outside a collected item ('' for foreign elements) */
  private path: string[] = [];
  private collecting: string | undefined;

  /** records ready to hand out */
  out: PriceRecord[] = [];
  /** offers left out for want of a price: PriceDecoding.skipped */
  readonly skips = new SkipCounter();
  mode: PriceFileMode | undefined;

  private catalogSeen = false;
  private catalogLine = 0;
  private catalogDelta = false;
  /**
   * Ид -> `shared index SEP name SEP barcodes SEP article`: one flat string a product (about 230
   * bytes with its key and the map's slot) instead of an object of strings (about 450).
   */
  private readonly catalog = new Map<string, string>();
  private readonly shared: Shared[] = [];
  private readonly sharedIndex = new Map<string, number>();
  private readonly deleted = new Set<string>();
  private pendingDeletes: PriceRecord[] = [];

  private offersSeen = false;
  private offersLine = 0;
  private offersDelta = false;
  private offersDone = false;
  private priceTypes: { id: string; name: string | undefined }[] = [];
  private warehouses: { id: string; name: string | undefined }[] = [];
  /** per offers section: undefined = the first Цена of each offer */
  private priceTypeId: string | undefined;
  private warehouseId: string | undefined;
  private sectionReady = false;

  constructor(file: string, private readonly o: ResolvedOptions, ctx: DecodeContext) {
    this.reader = new SafeXmlReader(file, limitsFor(o, ctx), {
      open: (el, depth) => this.open(el, depth),
      close: () => this.close(),
      text: (t) => {
        if (this.items.active) this.items.text(t);
      },
    });
    this.items = new Collector(this.reader, LIMIT_TEXT_IN_LINE(o, ctx));
  }

  private err(message: string, at: { line: number; column?: number }, field?: string, code?: typeof ErrorCodes.FORMAT_UNSUPPORTED | typeof ErrorCodes.FORMAT_LIMIT): FormatError {
    return this.reader.error(message, field, code, at.line, at.column);
  }

  private open(el: XmlElement, depth: number): void {
    if (this.items.active) return this.items.open(el);
    const name = el.cml ? el.local : '';
    if (depth === 1) {
      if (name !== ROOT) throw this.err(`not a CommerceML document: the root element is <${el.local}>, not <${ROOT}>`, el, ROOT);
      this.path.push(name);
      return;
    }
    const parent = this.path.length === depth - 1 ? this.path.join('/') : undefined;
    this.path.push(name);
    if (parent === undefined) return;
    if (depth === 2) {
      if (name === 'Каталог') {
        if (this.offersSeen) throw this.err('a Каталог after the offers (ПакетПредложений): put the catalog first', el, 'Каталог', ErrorCodes.FORMAT_UNSUPPORTED);
        this.catalogSeen = true;
        this.catalogLine ||= el.line;
        if (bool(el.attrs['СодержитТолькоИзменения'])) this.catalogDelta = true;
      } else if (OFFER_SECTIONS.has(name)) {
        this.offersSeen = true;
        this.offersLine ||= el.line;
        if (name === 'ИзмененияПакетаПредложений' || bool(el.attrs['СодержитТолькоИзменения'])) this.offersDelta = true;
        this.priceTypes = [];
        this.warehouses = [];
        this.sectionReady = false;
      }
      return;
    }
    const p = `${parent}/${name}`;
    if (COLLECT.has(p)) {
      this.path.pop(); // the item's own close goes to the collector
      this.collecting = p;
      this.items.start(el);
    }
  }

  private close(): void {
    if (this.items.active) {
      const item = this.items.close();
      if (item) this.item(this.collecting!, item);
      return;
    }
    this.path.pop();
  }

  private item(path: string, n: XNode): void {
    switch (path) {
      case CATALOG_ITEM:
        return this.catalogItem(n);
      case CATALOG_FLAG:
        if (bool(textOf(n))) this.catalogDelta = true;
        return;
      case OFFERS_FLAG_1:
      case OFFERS_FLAG_2:
        if (bool(textOf(n))) this.offersDelta = true;
        return;
      case PRICE_TYPE:
        this.priceTypes.push({ id: textOf(n, 'Ид') ?? '', name: textOf(n, 'Наименование') });
        return;
      case WAREHOUSE:
        this.warehouses.push({ id: textOf(n, 'Ид') ?? '', name: textOf(n, 'Наименование') });
        return;
      default:
        return this.offer(n);
    }
  }

  private share(x: Shared): number {
    const key = [x.unit, x.okei, x.group, x.tax].map((v) => (v === undefined ? '' : `=${v}`)).join(SEP);
    let k = this.sharedIndex.get(key);
    if (k === undefined) {
      k = this.shared.length;
      this.shared.push({ unit: own(x.unit), okei: own(x.okei), group: own(x.group), tax: own(x.tax) });
      this.sharedIndex.set(own(key)!, k);
    }
    return k;
  }

  private entry(id: string): CatalogEntry | undefined {
    const packed = this.catalog.get(id);
    if (packed === undefined) return undefined;
    const [k, name, barcodes, article] = packed.split(SEP) as [string, string, string, string];
    const x = this.shared[Number(k)]!;
    return { ...x, name: name || undefined, barcodes: barcodes ? barcodes.split(',') : [], article: article || undefined };
  }

  private catalogItem(n: XNode): void {
    const id = textOf(n, 'Ид');
    if (id === undefined) throw this.err('a Товар without Ид', n, 'Ид');
    if (isDeleted(n)) {
      this.catalog.delete(id);
      this.deleted.add(own(id)!);
      this.pendingDeletes.push({ op: 'delete', code: id, line: n.line });
      return;
    }
    const u = unitOf(n);
    const bc = barcodesOf(n);
    const k = this.sharedIndex.size > 100_000 ? -1 : this.share({ unit: u.unit, okei: u.okei, group: textOf(kid(n, 'Группы'), 'Ид'), tax: taxOf(n) });
    if (k < 0) throw this.err('more than 100000 distinct unit/group/tax combinations in the catalog', n, 'Товар', ErrorCodes.FORMAT_LIMIT);
    this.catalog.set(own(id)!, own(`${k}${SEP}${textOf(n, 'Наименование') ?? ''}${SEP}${bc.join(',')}${SEP}${textOf(n, 'Артикул') ?? ''}`)!);
    if (this.catalog.size > this.o.maxItems) throw this.err(`the catalog holds more than ${this.o.maxItems} products (maxItems)`, n, 'Товар', ErrorCodes.FORMAT_LIMIT);
  }

  /** full or delta is known once the offers start (or the document ends): then the first records go out */
  private resolveMode(): void {
    if (this.mode !== undefined) return;
    this.mode = this.catalogDelta || this.offersDelta ? 'delta' : 'full';
    if (this.mode === 'full') this.out.push({ op: 'clear', line: this.catalogLine || this.offersLine || 1 });
    this.out.push(...this.pendingDeletes);
    this.pendingDeletes = [];
  }

  private prepareSection(): void {
    if (this.sectionReady) return;
    this.sectionReady = true;
    const pick = (want: string | undefined, list: { id: string; name: string | undefined }[], what: string, field: string): string | undefined => {
      if (want === undefined) return undefined;
      if (list.length === 0) return want;
      const w = want.toLowerCase();
      const hit = list.find((t) => t.id === want) ?? list.find((t) => t.name?.toLowerCase() === w);
      if (!hit) throw this.err(`${what} "${want}" is not among ${list.map((t) => `"${t.name ?? t.id}" (${t.id})`).join(', ')}`, { line: this.offersLine }, field);
      return hit.id;
    };
    this.priceTypeId = pick(this.o.priceType, this.priceTypes, 'price type', 'ТипыЦен') ?? this.priceTypes[0]?.id;
    this.warehouseId = pick(this.o.warehouse, this.warehouses, 'warehouse', 'Склады');
  }

  private offer(n: XNode): void {
    this.prepareSection();
    this.resolveMode();
    const id = textOf(n, 'Ид');
    if (id === undefined) throw this.err('a Предложение without Ид', n, 'Ид');
    if (isDeleted(n)) {
      this.out.push({ op: 'delete', code: id, line: n.line });
      return;
    }
    const hash = id.indexOf('#');
    const base = hash >= 0 ? id.slice(0, hash) : id;
    if (this.deleted.has(id) || this.deleted.has(base)) return;
    const req = cfxRequisites(n);
    if (req?.get(PRICE_REQ.op)?.[0] === 'disable') {
      this.out.push({ op: 'disable', code: id, line: n.line });
      return;
    }
    const price = this.priceOf(n);
    if (price === undefined) {
      // no price of this type: not on sale, but an operator should see how many were left out
      this.skips.skip(n.line, this.priceTypeId === undefined ? 'offer without a price' : `offer without a price of type ${this.priceTypeId}`);
      return;
    }
    const stock = this.stockOf(n);
    const name = textOf(n, 'Наименование');
    const bc = barcodesOf(n);
    const article = textOf(n, 'Артикул');
    const u = unitOf(n);
    const c = this.entry(id) ?? (hash >= 0 ? this.entry(base) : undefined);
    let p: Product;
    if (c) {
      // the offer of a characteristic (product#characteristic) names it better than its product does
      const pname = (hash >= 0 ? (name ?? c.name) : (c.name ?? name)) ?? '';
      const barcodes = bc.length ? bc : c.barcodes;
      p = { code: id, barcodes, name: pname, price };
      setDefined(p, 'article', article ?? c.article);
      setUnit(p, { unit: c.unit ?? u.unit, okei: c.okei ?? u.okei });
      setDefined(p, 'groupCode', c.group);
      setDefined(p, 'taxGroup', c.tax);
    } else {
      if (name === undefined) {
        throw this.err(this.catalogSeen ? `offer "${id}" has no Наименование and its product is not in the catalog` : `offer "${id}" has no Наименование (decode it together with its catalog: see combineCommerceML)`, n, 'Наименование');
      }
      p = { code: id, barcodes: bc, name, price };
      setDefined(p, 'article', article);
      setUnit(p, u);
      // an offers-only package (what cfx writes) carries them in the offer itself
      setDefined(p, 'groupCode', textOf(kid(n, 'Группы'), 'Ид'));
      setDefined(p, 'taxGroup', taxOf(n));
    }
    if (stock !== undefined) p.stock = stock;
    if (req) applyRequisites(p, req);
    this.out.push({ op: 'upsert', product: p, line: n.line });
  }

  private priceOf(n: XNode): number | undefined {
    const prices = kids(kid(n, 'Цены'), 'Цена');
    const want = this.priceTypeId;
    const c = want === undefined ? prices[0] : prices.find((x) => textOf(x, 'ИдТипаЦены') === want);
    if (!c) return undefined;
    const v = textOf(c, 'ЦенаЗаЕдиницу');
    const at = kid(c, 'ЦенаЗаЕдиницу') ?? c;
    if (v === undefined) throw this.err(`the price of offer "${textOf(n, 'Ид')}" has no ЦенаЗаЕдиницу`, at, 'ЦенаЗаЕдиницу');
    const r = parseFixed(v, 2, 'auto');
    if (typeof r === 'string') throw this.err(`ЦенаЗаЕдиницу "${v}" ${r}`, at, 'ЦенаЗаЕдиницу');
    if (r < 0) throw this.err(`ЦенаЗаЕдиницу "${v}" is negative`, at, 'ЦенаЗаЕдиницу');
    return r;
  }

  private qty(v: string, at: XNode, field: string): number {
    const r = parseFixed(v, 3, 'auto');
    if (typeof r === 'string') throw this.err(`${field} "${v}" ${r}`, at, field);
    return r;
  }

  /**
   * Stock in thousandths: the offer's Количество; without it (or with `warehouse`), the warehouse
   * quantities — 2.04–2.08 `<Склад ИдСклада КоличествоНаСкладе/>`, 2.10 `Остатки/Остаток/Склад`.
   */
  private stockOf(n: XNode): number | undefined {
    const wh = this.warehouseId;
    const total = kid(n, 'Количество');
    if (wh === undefined && total && textOf(total) !== undefined) return this.qty(textOf(total)!, total, 'Количество');
    const rows: { id: string | undefined; qty: string; at: XNode }[] = [];
    for (const s of kids(n, 'Склад')) {
      const q = s.attrs['КоличествоНаСкладе'];
      if (q !== undefined && q.trim() !== '') rows.push({ id: s.attrs['ИдСклада']?.trim(), qty: q.trim(), at: s });
    }
    for (const r of kids(kid(n, 'Остатки'), 'Остаток')) {
      for (const s of kids(r, 'Склад')) {
        const q = textOf(s, 'Количество');
        if (q !== undefined) rows.push({ id: textOf(s, 'Ид'), qty: q, at: kid(s, 'Количество')! });
      }
      const q = textOf(r, 'Количество');
      if (q !== undefined && wh === undefined) return this.qty(q, kid(r, 'Количество')!, 'Количество');
    }
    const pick = wh === undefined ? rows : rows.filter((r) => r.id === wh);
    if (pick.length === 0) return wh === undefined ? undefined : 0;
    return pick.reduce((s, r) => s + this.qty(r.qty, r.at, 'КоличествоНаСкладе'), 0);
  }

  /** the document is complete: what it held decides what else goes out */
  finish(): void {
    if (this.offersDone) return;
    this.offersDone = true;
    if (!this.offersSeen) {
      if (this.catalogSeen) {
        throw this.err('a Каталог without offers has no prices: decode import.xml together with offers.xml (catalog first, one document: see combineCommerceML)', { line: this.catalogLine }, 'ПакетПредложений', ErrorCodes.FORMAT_UNSUPPORTED);
      }
      throw this.err('the document holds no ПакетПредложений (offers with prices)', { line: 1 }, 'ПакетПредложений');
    }
    this.resolveMode();
  }
}

const CATALOG_ITEM = `${ROOT}/Каталог/Товары/Товар`;
const CATALOG_FLAG = `${ROOT}/Каталог/СодержитТолькоИзменения`;
const OFFERS_FLAG_1 = `${ROOT}/ПакетПредложений/СодержитТолькоИзменения`;
const OFFERS_FLAG_2 = `${ROOT}/ИзмененияПакетаПредложений/СодержитТолькоИзменения`;
const PRICE_TYPE = `${ROOT}/ПакетПредложений/ТипыЦен/ТипЦены`;
const WAREHOUSE = `${ROOT}/ПакетПредложений/Склады/Склад`;
const COLLECT = new Set([
  CATALOG_ITEM,
  CATALOG_FLAG,
  OFFERS_FLAG_1,
  OFFERS_FLAG_2,
  PRICE_TYPE,
  WAREHOUSE,
  `${ROOT}/ПакетПредложений/Предложения/Предложение`,
  `${ROOT}/ИзмененияПакетаПредложений/Предложения/Предложение`,
]);

/**
 * A flat copy that does not keep the parser's input alive: V8 makes a substring a view of its
 * parent, so a name sliced from a 32 KiB chunk would pin the whole chunk in the join map.
 */
function own(s: string | undefined): string | undefined {
  return s === undefined ? undefined : Buffer.from(s, 'utf8').toString('utf8');
}

function setDefined<K extends keyof Product>(p: Product, k: K, v: Product[K] | undefined): void {
  if (v !== undefined) p[k] = v;
}

/** unit = the short name (`шт`); the OKEI code (1C writes "796 " with a space) goes to extras.okei; 166 (kg) = weighed */
function setUnit(p: Product, u: Unit): void {
  if (u.unit !== undefined) p.unit = u.unit;
  if (u.okei !== undefined) {
    p.extras = { okei: u.okei };
    if (u.okei === '166') p.weighed = true;
  }
}

function unitOf(n: XNode): Unit {
  const b = kid(n, 'БазоваяЕдиница');
  if (!b) return { unit: undefined, okei: undefined };
  const okei = b.attrs['Код']?.trim() || undefined;
  const unit = b.text.trim() || b.attrs['НаименованиеКраткое']?.trim() || b.attrs['НаименованиеПолное']?.trim() || undefined;
  return { unit, okei };
}

/** every Штрихкод element; one may hold several, comma-separated */
function barcodesOf(n: XNode): string[] {
  const out: string[] = [];
  for (const k of kids(n, 'Штрихкод')) {
    for (const b of k.text.split(',')) {
      const t = b.trim();
      if (t !== '' && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

/** the VAT rate (`20`, `Без налога`): the НДС one, else the first */
function taxOf(n: XNode): string | undefined {
  const rates = kids(kid(n, 'СтавкиНалогов'), 'СтавкаНалога');
  const r = rates.find((x) => textOf(x, 'Наименование')?.toUpperCase() === 'НДС') ?? rates[0];
  return textOf(r, 'Ставка');
}

/** the offer's `cfx.*` requisites (name -> values), undefined when it has none: 1C's files have none */
function cfxRequisites(n: XNode): Map<string, string[]> | undefined {
  let out: Map<string, string[]> | undefined;
  for (const r of kids(kid(n, 'ЗначенияРеквизитов'), 'ЗначениеРеквизита')) {
    const name = textOf(r, 'Наименование');
    if (name === undefined || !name.startsWith('cfx.')) continue;
    (out ??= new Map()).set(name, kids(r, 'Значение').map((v) => v.text));
  }
  return out;
}

/** what cfx's writer put where CommerceML has no place for it (price-writer.ts) */
function applyRequisites(p: Product, req: Map<string, string[]>): void {
  const joined = (k: string) => (req.has(k) ? req.get(k)!.join('') : undefined);
  const name = joined(PRICE_REQ.name);
  if (name !== undefined) p.name = name;
  const barcodes = req.get(PRICE_REQ.barcodes);
  if (barcodes) p.barcodes = [...barcodes];
  const article = joined(PRICE_REQ.article);
  if (article !== undefined) p.article = article;
  const receiptName = joined(PRICE_REQ.receiptName);
  if (receiptName !== undefined) p.receiptName = receiptName;
  const weighed = req.get(PRICE_REQ.weighed)?.[0];
  if (weighed !== undefined) p.weighed = bool(weighed);
  const enabled = req.get(PRICE_REQ.enabled)?.[0];
  if (enabled !== undefined) p.enabled = bool(enabled);
  for (const [k, v] of req) {
    if (k.startsWith(PRICE_REQ.extra) && k.length > PRICE_REQ.extra.length) p.extras = { ...p.extras, [k.slice(PRICE_REQ.extra.length)]: v.join('') };
  }
}

/** `Статус="Удален"` (2.04–2.08) or `<ПометкаУдаления>true` (2.09+) */
function isDeleted(n: XNode): boolean {
  return n.attrs['Статус']?.trim() === 'Удален' || bool(textOf(n, 'ПометкаУдаления'));
}

export async function decodePrices(input: Readable, ctx: DecodeContext, o: ResolvedOptions): Promise<PriceDecoding> {
  const pr = new PriceReader(ctx.fileName, o, ctx);
  const it = input[Symbol.asyncIterator]();
  const stop = async () => {
    try {
      await it.return?.();
    } catch {
      /* the stream is being given up anyway */
    }
  };
  let more = true;
  let failed: unknown;
  try {
    while (pr.mode === undefined && more) {
      more = await pump(it, pr.reader, ctx.signal);
      if (!more) pr.finish();
    }
  } catch (e) {
    if (pr.mode === undefined) {
      input.destroy();
      await stop();
      throw e;
    }
    // the records before the bad place go out first (as from the iterator), then the error
    failed = e;
  }
  return { mode: pr.mode!, records: records(pr, it, more, ctx.signal, stop, failed), skipped: pr.skips.skipped };
}

async function* records(pr: PriceReader, it: AsyncIterator<unknown>, more: boolean, signal: AbortSignal | undefined, stop: () => Promise<void>, failed: unknown): AsyncGenerator<PriceRecord> {
  try {
    for (;;) {
      const batch = pr.out;
      pr.out = [];
      for (const r of batch) yield r;
      if (failed !== undefined) throw failed;
      if (!more) return;
      try {
        more = await pump(it, pr.reader, signal);
        if (!more) pr.finish();
      } catch (e) {
        // records before the bad place still go out, then the error
        failed = e;
      }
    }
  } finally {
    if (more || failed !== undefined) await stop();
  }
}
