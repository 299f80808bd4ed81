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
import { SkipCounter } from '@cfx/core/text';
import { ErrorCodes, FormatError, type DecodeContext, type PriceDecoding, type PriceFileMode, type PriceRecord, type Product } from '@cfx/core/api';
import type { ResolvedOptions } from './options.js';
import { exactFixed } from './numbers.js';
import { PRICE_REQ } from './price-writer.js';
import { bool, Collector, kid, kids, textOf, type XNode } from './tree.js';
import { checkRoot, pump, SafeXmlReader, type XmlElement } from './xml-reader.js';

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

/** one `Цена` of an offer, as read (checked when it is the one taken) */
interface PriceText {
  type: string | undefined;
  value: string | undefined;
  file: string;
  line: number;
  column: number;
}

/** what one `Предложение` says; in a package join, what all its parts said, later parts winning */
interface OfferData {
  id: string;
  file: string;
  line: number;
  column: number;
  deleted: boolean;
  disable: boolean;
  req: Map<string, string[]> | undefined;
  prices: PriceText[];
  stock: number | undefined;
  name: string | undefined;
  barcodes: string[];
  article: string | undefined;
  unit: Unit;
  group: string | undefined;
  tax: string | undefined;
}

interface TypeEntry {
  id: string;
  name: string | undefined;
}

/** how many offers an "all of them skipped" error names */
const NAMED = 3;

class PriceReader {
  reader!: SafeXmlReader;
  private items!: Collector;
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
  /** ТипыЦен / Склады of the current offers package */
  private priceTypes: TypeEntry[] = [];
  private warehouses: TypeEntry[] = [];
  /** ТипыЦен / Склады of a Классификатор (CommerceML 2.07+ declares them there too) and, in a join, of every package */
  private readonly declaredTypes: TypeEntry[] = [];
  private readonly declaredWarehouses: TypeEntry[] = [];
  /** per offers section: undefined = the first Цена of each offer */
  private priceTypeId: string | undefined;
  private warehouseId: string | undefined;
  private sectionReady = false;
  /** the configured price type is declared nowhere: it can only be an ИдТипаЦены (checked at the end) */
  private undeclaredType = false;
  private matchedType = false;
  /** ИдТипаЦены met in offers (the first few): what the error of an undeclared type lists */
  private readonly typesMet = new Set<string>();

  /** offers read, and records they gave: an input with offers that gives none is an error, never "0 records" */
  private offerCount = 0;
  private given = 0;
  private readonly skippedOffers: string[] = [];

  /** a package join: offers of every part merged by Ид, handed out once all parts are read */
  private readonly pending: Map<string, OfferData> | undefined;

  constructor(file: string, private readonly o: ResolvedOptions, private readonly ctx: DecodeContext, join = false) {
    this.pending = join ? new Map() : undefined;
    this.startPart(file);
  }

  /** the next document (a part of a package): its own reader, the state so far */
  startPart(file: string): void {
    this.reader = new SafeXmlReader(file, limitsFor(this.o, this.ctx), {
      open: (el, depth) => this.open(el, depth),
      close: () => this.close(),
      text: (t) => {
        if (this.items.active) this.items.text(t);
      },
    });
    this.items = new Collector(this.reader, LIMIT_TEXT_IN_LINE(this.o, this.ctx));
    this.path = [];
    this.collecting = undefined;
  }

  private err(message: string, at: { line: number; column?: number }, field?: string, code?: typeof ErrorCodes.FORMAT_UNSUPPORTED | typeof ErrorCodes.FORMAT_LIMIT): FormatError {
    return this.reader.error(message, field, code, at.line, at.column);
  }

  /** an error in the part an offer came from (a join reports after its part was read) */
  private errIn(file: string, message: string, at: { line: number; column?: number }, field: string): FormatError {
    return new FormatError(message, { file, line: at.line, ...(at.column !== undefined ? { column: at.column } : {}), field });
  }

  private open(el: XmlElement, depth: number): void {
    if (this.items.active) return this.items.open(el);
    const name = el.cml ? el.local : '';
    if (depth === 1) {
      checkRoot(el, this.reader);
      this.path.push(name);
      return;
    }
    const parent = this.path.length === depth - 1 ? this.path.join('/') : undefined;
    this.path.push(name);
    if (parent === undefined) return;
    if (depth === 2) {
      if (name === 'Каталог') {
        if (this.offersSeen && !this.pending) throw this.err('a Каталог after the offers (ПакетПредложений): put the catalog first', el, 'Каталог', ErrorCodes.FORMAT_UNSUPPORTED);
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
      case PRICE_TYPE_2:
        return this.declare(this.priceTypes, this.pending ? this.declaredTypes : undefined, n);
      case CLASSIFIER_PRICE_TYPE:
        return this.declare(this.declaredTypes, undefined, n);
      case WAREHOUSE:
      case WAREHOUSE_2:
        return this.declare(this.warehouses, this.pending ? this.declaredWarehouses : undefined, n);
      case CLASSIFIER_WAREHOUSE:
        return this.declare(this.declaredWarehouses, undefined, n);
      default:
        return this.offer(n);
    }
  }

  private declare(list: TypeEntry[], also: TypeEntry[] | undefined, n: XNode): void {
    const e = { id: own(textOf(n, 'Ид') ?? '')!, name: own(textOf(n, 'Наименование')) };
    for (const l of also ? [list, also] : [list]) if (!l.some((x) => x.id === e.id)) l.push(e);
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
    this.given += this.pendingDeletes.length;
    this.out.push(...this.pendingDeletes);
    this.pendingDeletes = [];
  }

  /** `want` (an Ид or a name, any case) among `list`; a list that is empty takes it as an Ид */
  private pick(want: string | undefined, list: TypeEntry[], what: string, field: string, line: number): string | undefined {
    if (want === undefined) return undefined;
    if (list.length === 0) return want;
    const w = want.toLowerCase();
    const hit = list.find((t) => t.id === want) ?? list.find((t) => t.name?.toLowerCase() === w);
    if (!hit) throw this.err(`${what} "${want}" is not among ${list.map((t) => `"${t.name ?? t.id}" (${t.id})`).join(', ')}`, { line }, field);
    return hit.id;
  }

  private prepareSection(): void {
    if (this.sectionReady) return;
    this.sectionReady = true;
    const warehouses = this.warehouses.length ? this.warehouses : this.declaredWarehouses;
    this.warehouseId = this.pick(this.o.warehouse, warehouses, 'warehouse', 'Склады', this.offersLine);
    if (this.pending) return; // the price type is chosen once every part is read
    this.choosePriceType(this.priceTypes.length ? this.priceTypes : this.declaredTypes);
  }

  private choosePriceType(types: TypeEntry[]): void {
    this.priceTypeId = this.pick(this.o.priceType, types, 'price type', 'ТипыЦен', this.offersLine) ?? types[0]?.id;
    this.undeclaredType = this.o.priceType !== undefined && types.length === 0;
  }

  private offer(n: XNode): void {
    this.prepareSection();
    const d = this.offerData(n);
    if (this.pending) return this.merge(d);
    this.resolveMode();
    this.take(d);
  }

  private offerData(n: XNode): OfferData {
    const id = textOf(n, 'Ид');
    if (id === undefined) throw this.err('a Предложение without Ид', n, 'Ид');
    const file = this.reader.file;
    const req = cfxRequisites(n);
    const prices: PriceText[] = kids(kid(n, 'Цены'), 'Цена').map((c) => {
      const at = kid(c, 'ЦенаЗаЕдиницу') ?? c;
      return { type: textOf(c, 'ИдТипаЦены'), value: textOf(c, 'ЦенаЗаЕдиницу'), file, line: at.line, column: at.column };
    });
    return {
      id,
      file,
      line: n.line,
      column: n.column,
      deleted: isDeleted(n),
      disable: req?.get(PRICE_REQ.op)?.[0] === 'disable',
      req,
      prices,
      stock: this.stockOf(n),
      name: textOf(n, 'Наименование'),
      barcodes: barcodesOf(n),
      article: textOf(n, 'Артикул'),
      unit: unitOf(n),
      group: textOf(kid(n, 'Группы'), 'Ид'),
      tax: taxOf(n),
    };
  }

  /** a join: what this part says of the offer over what earlier parts said */
  private merge(d: OfferData): void {
    const was = this.pending!.get(d.id);
    const keep = <T>(v: T | undefined, old: T | undefined) => (v !== undefined ? v : old);
    const prices = was ? [...was.prices.filter((p) => !d.prices.some((q) => q.type === p.type)), ...d.prices] : d.prices;
    const m: OfferData = {
      id: was?.id ?? own(d.id)!,
      file: was?.file ?? d.file,
      line: was?.line ?? d.line,
      column: was?.column ?? d.column,
      deleted: d.deleted || (was?.deleted ?? false),
      disable: d.disable || (was?.disable ?? false),
      req: keep(d.req, was?.req),
      prices: prices.map((p) => ({ ...p, type: own(p.type), value: own(p.value) })),
      stock: keep(d.stock, was?.stock),
      name: own(keep(d.name, was?.name)),
      barcodes: d.barcodes.length ? d.barcodes.map((b) => own(b)!) : (was?.barcodes ?? []),
      article: own(keep(d.article, was?.article)),
      unit: { unit: own(keep(d.unit.unit, was?.unit.unit)), okei: own(keep(d.unit.okei, was?.unit.okei)) },
      group: own(keep(d.group, was?.group)),
      tax: own(keep(d.tax, was?.tax)),
    };
    this.pending!.set(m.id, m);
    if (this.pending!.size > this.o.maxItems) throw this.errIn(d.file, `the package holds more than ${this.o.maxItems} offers (maxItems)`, d, 'Предложение');
  }

  /** one offer -> its record (or a skip) */
  private take(d: OfferData): void {
    this.offerCount++;
    if (d.deleted) {
      this.given++;
      this.out.push({ op: 'delete', code: d.id, line: d.line });
      return;
    }
    const hash = d.id.indexOf('#');
    const base = hash >= 0 ? d.id.slice(0, hash) : d.id;
    if (this.deleted.has(d.id) || this.deleted.has(base)) return;
    if (d.disable) {
      this.given++;
      this.out.push({ op: 'disable', code: d.id, line: d.line });
      return;
    }
    const price = this.priceOf(d);
    if (price === undefined) {
      // no price of this type: not on sale, but an operator should see how many were left out
      this.skips.skip(d.line, this.priceTypeId === undefined ? 'offer without a price' : `offer without a price of type ${this.priceTypeId}`);
      if (this.skippedOffers.length < NAMED) this.skippedOffers.push(`"${d.id}"${d.name !== undefined ? ` (${d.name})` : ''}`);
      return;
    }
    const c = this.entry(d.id) ?? (hash >= 0 ? this.entry(base) : undefined);
    let p: Product;
    if (c) {
      // the offer of a characteristic (product#characteristic) names it better than its product does
      const pname = (hash >= 0 ? (d.name ?? c.name) : (c.name ?? d.name)) ?? '';
      const barcodes = d.barcodes.length ? d.barcodes : c.barcodes;
      p = { code: d.id, barcodes, name: pname, price };
      setDefined(p, 'article', d.article ?? c.article);
      setUnit(p, { unit: c.unit ?? d.unit.unit, okei: c.okei ?? d.unit.okei });
      setDefined(p, 'groupCode', c.group);
      setDefined(p, 'taxGroup', c.tax);
    } else {
      if (d.name === undefined) {
        const msg = this.catalogSeen
          ? `offer "${d.id}" has no Наименование and its product is not in the catalog`
          : `offer "${d.id}" has no Наименование (decode it together with its catalog: see combineCommerceML)`;
        throw this.errIn(d.file, msg, d, 'Наименование');
      }
      p = { code: d.id, barcodes: d.barcodes, name: d.name, price };
      setDefined(p, 'article', d.article);
      setUnit(p, d.unit);
      // an offers-only package (what cfx writes) carries them in the offer itself
      setDefined(p, 'groupCode', d.group);
      setDefined(p, 'taxGroup', d.tax);
    }
    if (d.stock !== undefined) p.stock = d.stock;
    if (d.req) applyRequisites(p, d.req);
    this.given++;
    this.out.push({ op: 'upsert', product: p, line: d.line });
  }

  private priceOf(d: OfferData): number | undefined {
    const want = this.priceTypeId;
    for (const x of d.prices) if (x.type !== undefined && this.typesMet.size < 10) this.typesMet.add(x.type);
    const c = want === undefined ? d.prices[0] : d.prices.find((x) => x.type === want);
    if (!c) return undefined;
    if (want !== undefined) this.matchedType = true;
    if (c.value === undefined) throw this.errIn(c.file, `the price of offer "${d.id}" has no ЦенаЗаЕдиницу`, c, 'ЦенаЗаЕдиницу');
    const r = exactFixed(c.value, 2);
    if (typeof r === 'string') throw this.errIn(c.file, `ЦенаЗаЕдиницу "${c.value}" ${r}`, c, 'ЦенаЗаЕдиницу');
    if (r < 0) throw this.errIn(c.file, `ЦенаЗаЕдиницу "${c.value}" is negative`, c, 'ЦенаЗаЕдиницу');
    return r;
  }

  private qty(v: string, at: XNode, field: string): number {
    const r = exactFixed(v, 3);
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
    // in a join, a part that says nothing of stock (the names, the prices) must not zero it
    if (pick.length === 0) return wh === undefined || (this.pending && rows.length === 0) ? undefined : 0;
    return pick.reduce((s, r) => s + this.qty(r.qty, r.at, 'КоличествоНаСкладе'), 0);
  }

  /** the end of a document; in a join, of every part: what it held decides what else goes out */
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
    if (this.pending) this.choosePriceType(this.declaredTypes);
  }

  /** a join: the merged offers, in the order they were first met */
  *joined(): Generator<PriceRecord[]> {
    for (const d of this.pending!.values()) {
      this.take(d);
      if (this.out.length >= 1024) yield this.out.splice(0);
    }
    yield this.out.splice(0);
  }

  /** after the last record: an input that had offers but gives nothing (and why) is refused, never "0 records" */
  check(): void {
    if (this.undeclaredType && !this.matchedType && this.typesMet.size > 0) {
      throw this.err(
        `price type "${this.o.priceType}" is not declared (no ТипыЦен in the package) and no price has ИдТипаЦены "${this.o.priceType}"; the prices are of type ${[...this.typesMet].map((t) => `"${t}"`).join(', ')}: set priceType to one of these Ид`,
        { line: this.offersLine || 1 },
        'ИдТипаЦены',
      );
    }
    if (this.offerCount > 0 && this.given === 0) {
      const what = this.priceTypeId === undefined ? 'a price' : `a price of type ${this.priceTypeId}`;
      throw this.err(
        `none of the ${this.offerCount} offers has ${what}, so there is nothing to apply: ${this.skippedOffers.join(', ')}${this.offerCount > this.skippedOffers.length ? ', …' : ''} (an offers file of 1C's split export holds names only: its prices are in prices*.xml)`,
        { line: this.skips.skipped.lines[0] ?? (this.offersLine || 1) },
        'Цены',
      );
    }
  }
}

const CATALOG_ITEM = `${ROOT}/Каталог/Товары/Товар`;
const CATALOG_FLAG = `${ROOT}/Каталог/СодержитТолькоИзменения`;
const OFFERS_FLAG_1 = `${ROOT}/ПакетПредложений/СодержитТолькоИзменения`;
const OFFERS_FLAG_2 = `${ROOT}/ИзмененияПакетаПредложений/СодержитТолькоИзменения`;
const PRICE_TYPE = `${ROOT}/ПакетПредложений/ТипыЦен/ТипЦены`;
const PRICE_TYPE_2 = `${ROOT}/ИзмененияПакетаПредложений/ТипыЦен/ТипЦены`;
const CLASSIFIER_PRICE_TYPE = `${ROOT}/Классификатор/ТипыЦен/ТипЦены`;
const WAREHOUSE = `${ROOT}/ПакетПредложений/Склады/Склад`;
const WAREHOUSE_2 = `${ROOT}/ИзмененияПакетаПредложений/Склады/Склад`;
const CLASSIFIER_WAREHOUSE = `${ROOT}/Классификатор/Склады/Склад`;
const COLLECT = new Set([
  CATALOG_ITEM,
  CATALOG_FLAG,
  OFFERS_FLAG_1,
  OFFERS_FLAG_2,
  PRICE_TYPE,
  PRICE_TYPE_2,
  CLASSIFIER_PRICE_TYPE,
  WAREHOUSE,
  WAREHOUSE_2,
  CLASSIFIER_WAREHOUSE,
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
      if (!more) return pr.check();
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

/** a document of a package, in the order to read: catalogs first, the prices after the names */
export interface PricePart {
  fileName: string;
  input: Readable;
}

/**
 * A package of several documents (1C УТ 11's split export: import with the catalog, offers with
 * the names, prices, rests) joined by offer Ид: every part is read first (its offers merged in a
 * map, later parts winning field by field), then the offers go out in the order first met. Memory
 * is the catalog map plus the merged offers (a few hundred bytes an offer): meant for the office,
 * which hands the terminals one joined package instead.
 */
export async function decodePriceParts(parts: PricePart[], ctx: DecodeContext, o: ResolvedOptions): Promise<PriceDecoding> {
  if (parts.length === 0) throw new FormatError('no CommerceML document to join', { file: ctx.fileName, field: ROOT }, { code: ErrorCodes.FORMAT_INVALID });
  let pr: PriceReader | undefined;
  for (const [k, part] of parts.entries()) {
    if (pr) pr.startPart(part.fileName);
    else pr = new PriceReader(part.fileName, o, ctx, true);
    const it = part.input[Symbol.asyncIterator]();
    let more = true;
    try {
      while (more) more = await pump(it, pr.reader, ctx.signal);
    } finally {
      if (more) {
        part.input.destroy();
        for (const rest of parts.slice(k + 1)) rest.input.destroy();
        await it.return?.();
      }
    }
  }
  pr!.finish();
  const reader = pr!;
  async function* all(): AsyncGenerator<PriceRecord> {
    for (const batch of reader.joined()) {
      ctx.signal?.throwIfAborted();
      yield* batch;
    }
    reader.check();
  }
  return { mode: reader.mode!, records: all(), skipped: reader.skips.skipped };
}
