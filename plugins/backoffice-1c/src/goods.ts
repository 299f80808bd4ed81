import { Readable } from 'node:stream';
import { FormatError } from '@cfx/core/api';
import type { PriceDecoding, PriceFileMode, PriceRecord, Product, SkippedInput } from '@cfx/core/api';
import { LineReader, lineLimit, type LineSink } from './lines.js';
import { formatFixed, formatQty, parseFixed, type DecimalMode } from './numbers.js';
import { resolveOptions, type AtolFormatOptions, type ResolvedOptions } from './options.js';
import { batchIterator, SkipCounter } from './records.js';
import { decodeText, encodeText } from './text.js';

/** line 1 of every goods file */
export const GOODS_SIGNATURE = '##@@&&';

/** line 2: `#` = new, not loaded yet; `@` = a register has loaded it */
export type GoodsState = '#' | '@';

export interface GoodsWarning {
  line: number;
  /** the command the warning is about, without `$$$` */
  command?: string;
  message: string;
}

export interface GoodsDecodeOptions extends AtolFormatOptions {
  /** for error messages */
  fileName?: string;
  signal?: AbortSignal;
  /** called for each warning as it is found (they are also collected in `warnings`) */
  onWarning?: (w: GoodsWarning) => void;
}

export interface GoodsDecoding extends PriceDecoding {
  /** line 2 of the file: a `@` file was already loaded by a register (it is decoded all the same) */
  state: GoodsState;
  /** every warning counted (a skipped command with its data lines is one); filled while `records` is read */
  skipped: SkippedInput;
  /** filled while `records` is read: complete once it is done */
  warnings: GoodsWarning[];
}

/**
 * Fields of an item line (1-based) the model has a place for; every other non-empty field is kept
 * in `product.extras` under the name below (or `field<n>`), and written back to its place.
 */
const F = { code: 1, barcodes: 2, name: 3, receiptName: 4, price: 5, stock: 6, flags: 8, group: 16, kind: 17, taxGroup: 23, article: 26 } as const;
const MAPPED = new Set<number>(Object.values(F));
const EXTRA_NAMES: Record<number, string> = { 7: 'reserved', 8: 'flags', 9: 'minPrice', 10: 'expiryDate', 13: 'paymentSubject', 14: 'unitsPerBarcode', 25: 'plu', 33: 'quantityStep' };
/** field number -> extras key */
export const extraName = (k: number): string => EXTRA_NAMES[k] ?? `field${k}`;
const EXTRA_FIELD = new Map<string, number>(Object.entries(EXTRA_NAMES).map(([k, v]) => [v, Number(k)]));
/** extras key -> field number (undefined: not an ATOL field) */
export function extraField(key: string): number | undefined {
  const k = EXTRA_FIELD.get(key);
  if (k !== undefined) return k;
  const m = /^field([1-9]\d{0,2})$/.exec(key);
  return m && !MAPPED.has(Number(m[1])) && !EXTRA_NAMES[Number(m[1])] && Number(m[1]) <= MAX_FIELDS ? Number(m[1]) : undefined;
}
/** Frontol 6 defines 68 item fields; beyond this a line is not an item line */
const MAX_FIELDS = 256;
const EXTRA_KEYS = Array.from({ length: MAX_FIELDS + 1 }, (_, k) => extraName(k));
/** fields 1C writes in an item line */
const ITEM_FIELDS = 33;

/** what the data lines under the current command are */
const enum Block {
  /** ADDQUANTITY, REPLACEQUANTITY(WITHOUTSALE), and lines after delete-only commands (1C quirk) */
  Items,
  /** DELETEWARESBYWARECODE: one code per line */
  DeleteCodes,
  /** DELETEBARCODESBYWARECODE: one code per line */
  DeleteBarcodes,
  /** ADDBARCODES: barcode;code per line **[U]** */
  AddBarcodes,
  /** a known command the model cannot carry, or an unknown one: its lines are skipped */
  Skip,
}

const ITEM_COMMANDS = new Set(['ADDQUANTITY', 'REPLACEQUANTITY', 'REPLACEQUANTITYWITHOUTSALE']);
/** commands without data lines of their own: lines after them are item lines (1C's full export) */
const DELETE_ONLY = new Set(['DELETEALLWARES', 'DELETEALLBARCODES', 'DELETEALLBACODES', 'DELETEALLASPECTREMAINS']);

/** `$$$ name;` -> NAME */
const commandName = (raw: string) => raw.trim().replace(/;+$/, '').trim().toUpperCase();

function blockOf(name: string): Block {
  if (ITEM_COMMANDS.has(name) || DELETE_ONLY.has(name)) return Block.Items;
  if (name === 'DELETEWARESBYWARECODE') return Block.DeleteCodes;
  if (name === 'DELETEBARCODESBYWARECODE') return Block.DeleteBarcodes;
  if (name === 'ADDBARCODES') return Block.AddBarcodes;
  return Block.Skip;
}
/** known commands the model has no record for at all */
const UNCARRIED_COMMANDS: Record<string, string> = {
  ADDPRICES: 'prices of price lists; the model has one price per item',
};

/**
 * A flat copy: V8 makes a substring of 13+ characters a view of its parent, and a barcode kept
 * in `seen` would pin the whole 32 KiB text chunk it was cut from.
 */
const own = (s: string): string => (s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8'));

/** digits without a leading zero, up to 15: exact as a double (below 2^53) */
function digitsValue(b: string, max: number): number | undefined {
  const n = b.length;
  if (n === 0 || n > max) return undefined;
  let c = b.charCodeAt(0);
  if (c <= 48 || c > 57) return undefined;
  let v = c - 48;
  for (let k = 1; k < n; k++) {
    c = b.charCodeAt(k);
    if (c < 48 || c > 57) return undefined;
    v = v * 10 + (c - 48);
  }
  return v;
}

/**
 * code -> the barcodes its lines in this file have brought so far. Frontol writes one line per
 * barcode and its register adds each line's barcodes to the item, so a repeated code upserts the
 * union — which needs every code of the file remembered. Made for that to cost little on a
 * 100k-line file: a code of up to 9 digits (1C's are integers) goes into an open-addressing table
 * of typed arrays, with an item's one numeric barcode (EAN-13, 1C's weighed codes) as a number in
 * it, so the usual line adds no heap object for the garbage collector to copy (a JS Map made the
 * 1C bench ~30% slower); anything else goes into a Map as an own copy of the text (a slice would
 * pin the 32 KiB chunk it was cut from).
 *
 * A value: 0 no barcodes, > 0 the one numeric barcode, < 0 the `,`-joined barcodes in texts[-v].
 */
class BarcodesByCode {
  /** 0 empty, -1 deleted, else the code */
  private keys = new Int32Array(1 << 12);
  private vals = new Float64Array(1 << 12);
  /** slots taken (deleted ones included, until a grow) */
  private used = 0;
  private readonly other = new Map<string, number>();
  private readonly texts: string[] = [''];

  private slot(k: number): number {
    const mask = this.keys.length - 1;
    let h = Math.imul(k, 0x9e3779b1) >>> 0 & mask;
    let free = -1;
    for (;;) {
      const x = this.keys[h]!;
      if (x === k) return h;
      if (x === 0) return free >= 0 ? free : h;
      if (x === -1 && free < 0) free = h;
      h = (h + 1) & mask;
    }
  }

  private value(v: number | undefined): string[] | undefined {
    if (v === undefined) return undefined;
    if (v === 0) return [];
    return v > 0 ? [String(v)] : this.texts[-v]!.split(',');
  }

  has(code: string): boolean {
    return this.get(code) !== undefined;
  }

  get(code: string): string[] | undefined {
    const k = digitsValue(code, 9);
    if (k === undefined) return this.value(this.other.get(code));
    const h = this.slot(k);
    return this.keys[h] === k ? this.value(this.vals[h]) : undefined;
  }

  set(code: string, bc: readonly string[]): void {
    let v = bc.length === 1 ? (digitsValue(bc[0]!, 15) ?? 0) : 0;
    if (v === 0 && bc.length) {
      v = -this.texts.length;
      this.texts.push(own(bc.join(',')));
    }
    const k = digitsValue(code, 9);
    if (k === undefined) {
      this.other.set(own(code), v);
      return;
    }
    let h = this.slot(k);
    if (this.keys[h] !== k) {
      if (this.keys[h] === 0 && ++this.used * 2 > this.keys.length) {
        this.grow();
        h = this.slot(k);
      }
      this.keys[h] = k;
    }
    this.vals[h] = v;
  }

  delete(code: string): void {
    const k = digitsValue(code, 9);
    if (k === undefined) {
      this.other.delete(code);
      return;
    }
    const h = this.slot(k);
    if (this.keys[h] === k) this.keys[h] = -1;
  }

  clear(): void {
    this.keys.fill(0);
    this.used = 0;
    this.other.clear();
    this.texts.length = 1;
  }

  private grow(): void {
    const keys = this.keys, vals = this.vals;
    this.keys = new Int32Array(keys.length * 2);
    this.vals = new Float64Array(keys.length * 2);
    this.used = 0;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k <= 0) continue;
      const h = this.slot(k);
      this.keys[h] = k;
      this.vals[h] = vals[i]!;
      this.used++;
    }
  }
}

/** `a` with the items of `b` it lacks appended, in order */
function union(a: readonly string[], b: readonly string[]): string[] {
  if (a.length === 0) return b as string[];
  const out = [...a];
  for (const x of b) if (!out.includes(x)) out.push(x);
  return out;
}

/**
 * The goods-file state machine. Fed line by line; pushes PriceRecords to `out`. Throws FormatError
 * for a bad line (the caller hands out the records before it, then the error).
 */
class GoodsParser {
  phase: 'signature' | 'state' | 'body' = 'signature';
  state: GoodsState = '#';
  /** known once the first line that is not a delete-all command is seen (or at the end) */
  mode: PriceFileMode | undefined;
  out: PriceRecord[] = [];
  private block = Block.Items;
  /** items may exist that this file has not just cleared (a DELETEALLBARCODES then cannot be carried) */
  private dirty = true;
  /** a DELETEALLBARCODES seen before the mode is known: moot if a DELETEALLWARES follows */
  private pendingBarcodes: [GoodsWarning, string] | undefined;
  private readonly file: string | undefined;
  private readonly decimal: DecimalMode;
  private readonly thousands: boolean;
  /** every warning is input passed over: PriceDecoding.skipped */
  readonly skips = new SkipCounter();
  /** code -> the barcodes its lines in this file brought so far: a repeated code adds barcodes */
  private readonly seen = new BarcodesByCode();
  /** ADDBARCODES for a code whose item line is still to come: merged into that line */
  private readonly addLater = new Map<string, { barcodes: string[]; line: number }>();
  /** DELETEBARCODESBYWARECODE for a code whose item line is still to come: that line brings its only barcodes */
  private readonly clearLater = new Map<string, number>();

  constructor(
    o: ResolvedOptions,
    file: string | undefined,
    private readonly warn: (w: GoodsWarning) => void,
  ) {
    this.file = file;
    this.decimal = o.decimal;
    this.thousands = o.thousands;
  }

  /** `reason`: the warning as a short phrase without the line, so equal causes fold into one */
  private pass(w: GoodsWarning, reason: string): void {
    this.skips.skip(w.line, reason);
    this.warn(w);
  }

  readonly sink: LineSink = (s, start, end, line) => {
    if (this.phase === 'body') {
      if (end === start) return;
      if (s.charCodeAt(start) === 36 && s.startsWith('$$$', start)) return this.command(s.slice(start + 3, end), line);
      if (this.block === Block.Items) {
        if (this.mode === undefined) this.decide('delta');
        const r = this.item(s, start, end, line);
        if (r) {
          if (r.op === 'upsert') this.barcodesOf(r.product);
          this.out.push(r);
          this.dirty = true;
        }
      } else if (this.block === Block.DeleteCodes) {
        this.decide('delta');
        const code = this.field(s, start, end, 1, line, 'code', 'the code to delete');
        this.seen.delete(code);
        this.clearLater.delete(code);
        this.out.push({ op: 'delete', code, line });
      } else if (this.block === Block.DeleteBarcodes) {
        const code = this.field(s, start, end, 1, line, 'code', 'the code whose barcodes go');
        // the item's next line in this file starts afresh; without one the store's item keeps them (see finish)
        if (this.seen.has(code)) this.seen.set(code, []);
        this.addLater.delete(code);
        this.clearLater.set(code, line);
      } else if (this.block === Block.AddBarcodes) {
        const barcodes = splitList(this.field(s, start, end, 1, line, 'barcode', 'the barcode'));
        const code = this.field(s, start, end, 2, line, 'code', 'the code the barcode is for');
        const a = this.addLater.get(code);
        if (a) a.barcodes = union(a.barcodes, barcodes.map(own));
        else this.addLater.set(code, { barcodes: barcodes.map(own), line });
      }
      return;
    }
    const text = s.slice(start, end).trim();
    if (this.phase === 'signature') {
      if (text !== GOODS_SIGNATURE) throw new FormatError(`not an ATOL goods file: line 1 is "${text.slice(0, 40)}", not ${GOODS_SIGNATURE}`, { file: this.file, line });
      this.phase = 'state';
    } else {
      if (text !== '#' && text !== '@') throw new FormatError(`line 2 must be "#" (new) or "@" (loaded), not "${text.slice(0, 40)}"`, { file: this.file, line });
      this.state = text;
      this.phase = 'body';
    }
  };

  /** the end of the input */
  finish(): void {
    if (this.phase === 'signature') throw new FormatError(`not an ATOL goods file: it is empty, line 1 must be ${GOODS_SIGNATURE}`, { file: this.file, line: 1 });
    if (this.phase === 'state') throw new FormatError('the file ends after line 1: line 2 must be "#" or "@"', { file: this.file, line: 2 });
    this.decide('delta');
    // barcode commands no item line of this file took up: the model has no barcode-only record
    for (const [code, line] of this.clearLater) {
      // a full file cleared every item: one it does not bring back has no barcodes to remove
      if (this.mode === 'full' && !this.seen.has(code)) continue;
      this.pass({ line, command: 'DELETEBARCODESBYWARECODE', message: `$$$DELETEBARCODESBYWARECODE: the barcodes of "${code}" cannot be removed without a line of that item after it in the file (the price model has no barcode-only update); they stay` }, '$$$DELETEBARCODESBYWARECODE of an item without a line after it (its barcodes stay)');
    }
    for (const [code, a] of this.addLater) {
      this.pass({ line: a.line, command: 'ADDBARCODES', message: `$$$ADDBARCODES: ${a.barcodes.join(', ')} cannot be added to "${code}" without a line of that item after it in the file (the price model has no barcode-only update)` }, '$$$ADDBARCODES for an item without a line after it (not added)');
    }
    this.skips.skipped.lines.sort((a, b) => a - b);
  }

  /**
   * The item's barcodes after this line: what earlier lines of the code (and ADDBARCODES before
   * it) brought, then this line's — a register adds a line's barcodes to the item.
   */
  private barcodesOf(p: Product): void {
    const code = p.code;
    const before = this.seen.get(code);
    if (before === undefined && this.addLater.size === 0) {
      // the usual line: a code not seen before in this file
      this.seen.set(code, p.barcodes);
      if (this.clearLater.size) this.clearLater.delete(code);
      return;
    }
    let bc = before ?? [];
    const add = this.addLater.get(code);
    if (add) {
      bc = union(bc, add.barcodes);
      this.addLater.delete(code);
    }
    bc = union(bc, p.barcodes);
    this.clearLater.delete(code);
    p.barcodes = bc;
    this.seen.set(code, bc);
  }

  /** field `k` (1-based) of a data line, trimmed; empty is an error */
  private field(s: string, start: number, end: number, k: number, line: number, name: string, what: string): string {
    let p = start;
    for (let i = 1; i < k; i++) {
      const e = s.indexOf(';', p);
      if (e < 0 || e >= end) throw this.error(`${what} is missing`, line, k, name);
      p = e + 1;
    }
    const e = s.indexOf(';', p);
    const v = s.slice(p, e < 0 || e > end ? end : e).trim();
    if (v === '') throw this.error(`${what} is empty`, line, k, name);
    return v;
  }

  private decide(mode: PriceFileMode): void {
    if (this.mode !== undefined) return;
    this.mode = mode;
    if (this.pendingBarcodes && mode === 'delta') this.pass(...this.pendingBarcodes);
    this.pendingBarcodes = undefined;
  }

  private command(raw: string, line: number): void {
    const name = commandName(raw);
    this.block = blockOf(name);
    switch (name) {
      case 'DELETEALLWARES':
        this.decide('full');
        this.out.push({ op: 'clear', line });
        this.dirty = false;
        // the items are gone: their barcodes and pending barcode commands with them
        this.seen.clear();
        this.addLater.clear();
        this.clearLater.clear();
        return;
      case 'DELETEALLBARCODES':
      case 'DELETEALLBACODES':
        if (this.dirty) {
          const w: GoodsWarning = { line, command: name, message: `$$$${name}: barcodes of items not in this file cannot be removed (the price model has no such record); items in this file get the barcodes of their lines` };
          const reason = `$$$${name} (barcodes of items not in the file stay)`;
          if (this.mode === undefined) this.pendingBarcodes = [w, reason];
          else this.pass(w, reason);
        }
        return;
    }
    if (this.block !== Block.Skip) return;
    const uncarried = UNCARRIED_COMMANDS[name];
    // one skip per command: its data lines go with it
    if (uncarried) this.pass({ line, command: name, message: `$$$${name}: ${uncarried}; its lines are skipped` }, `$$$${name} (${uncarried.split(';')[0]})`);
    else this.pass({ line, command: name, message: `unknown command $$$${name}: its lines are skipped` }, `unknown command $$$${name}`);
  }

  private error(msg: string, line: number, column: number, field: string): FormatError {
    return new FormatError(`field ${column} (${field}): ${msg}`, { file: this.file, line, field, column });
  }

  private number(raw: string, scale: number, column: number, field: string, line: number): number {
    const v = parseFixed(raw, scale, this.decimal, this.thousands);
    if (typeof v === 'string') throw this.error(`"${raw.trim()}" ${v}`, line, column, field);
    return v;
  }

  /**
   * One item line -> upsert / disable; undefined for a group line. One pass over the line: each
   * field's end is found (an empty field costs one charCodeAt, 1C's lines are mostly empty
   * fields) and the field goes straight where it belongs; unknown non-empty fields to extras.
   */
  private item(s: string, start: number, end: number, line: number): PriceRecord | undefined {
    let codeS = start, codeE = start, bcS = 0, bcE = 0, nameS = 0, nameE = 0, recS = 0, recE = 0, priceS = 0, priceE = 0;
    let stockS = 0, stockE = 0, flagsS = 0, flagsE = 0, groupS = 0, groupE = 0, kindS = 0, kindE = 0, taxS = 0, taxE = 0, artS = 0, artE = 0;
    let extras: Record<string, string> | undefined;
    for (let k = 1, p = start; ; k++) {
      let e: number;
      if (p < end && s.charCodeAt(p) === 59) e = p;
      else {
        e = s.indexOf(';', p);
        if (e < 0 || e > end) e = end;
      }
      if (e > p) {
        switch (k) {
          case F.code: codeS = p; codeE = e; break;
          case F.barcodes: bcS = p; bcE = e; break;
          case F.name: nameS = p; nameE = e; break;
          case F.receiptName: recS = p; recE = e; break;
          case F.price: priceS = p; priceE = e; break;
          case F.stock: stockS = p; stockE = e; break;
          case F.group: groupS = p; groupE = e; break;
          case F.kind: kindS = p; kindE = e; break;
          case F.taxGroup: taxS = p; taxE = e; break;
          case F.article: artS = p; artE = e; break;
          case F.flags:
            flagsS = p;
            flagsE = e;
            (extras ??= {}).flags = s.slice(p, e); // kept whole too: the other flags have no field in the model
            break;
          default:
            if (k > MAX_FIELDS) throw new FormatError(`more than ${MAX_FIELDS} fields`, { file: this.file, line });
            (extras ??= {})[EXTRA_KEYS[k]!] = s.slice(p, e);
        }
      }
      if (e >= end) break;
      p = e + 1;
    }
    const code = s.slice(codeS, codeE).trim();
    if (code === '') throw this.error('the code is empty', line, F.code, 'code');
    if (kindE > kindS && !(kindE - kindS === 1 && s.charCodeAt(kindS) === 49) /* 1 */) {
      if (kindE - kindS === 1 && s.charCodeAt(kindS) === 48) return undefined; // a group: items refer to it by groupCode
      throw this.error(`"${s.slice(kindS, kindE)}" is neither 1 (item) nor 0 (group)`, line, F.kind, 'kind');
    }
    const price = priceE > priceS ? this.number(s.slice(priceS, priceE), 2, F.price, 'price', line) : 0;
    if (price < 0) throw this.error(`price "${s.slice(priceS, priceE)}" is negative`, line, F.price, 'price');
    const name = s.slice(nameS, nameE);
    if (price === 0 && name.trim() === '') return { op: 'disable', code, line };

    const product: Product = { code, barcodes: bcE > bcS ? splitList(s.slice(bcS, bcE)) : [], name, price };
    // 1C usually writes the name twice: share the string instead of cutting it again
    if (recE > recS) product.receiptName = recE - recS === name.length && s.startsWith(name, recS) ? name : s.slice(recS, recE);
    if (stockE > stockS) product.stock = this.number(s.slice(stockS, stockE), 3, F.stock, 'stock', line);
    if (flagsE > flagsS) {
      const c0 = s.charCodeAt(flagsS), n = flagsE - flagsS;
      if ((c0 === 48 || c0 === 49) && (n === 1 || s.charCodeAt(flagsS + 1) === 44)) {
        // the usual `0,1,1,...`: no split needed; the 2nd flag is "sale allowed"
        product.weighed = c0 === 49;
        if (n >= 3 && s.charCodeAt(flagsS + 2) === 48 && (n === 3 || s.charCodeAt(flagsS + 3) === 44)) product.enabled = false;
      } else {
        const list = s.slice(flagsS, flagsE).split(',').map((x) => x.trim());
        if (list[0] !== '0' && list[0] !== '1') throw this.error(`the first flag (weighed) "${list[0]}" is not 0 or 1`, line, F.flags, 'flags');
        product.weighed = list[0] === '1';
        if (list[1] === '0') product.enabled = false;
      }
    }
    if (groupE > groupS) product.groupCode = s.slice(groupS, groupE).trim();
    if (taxE > taxS) product.taxGroup = s.slice(taxS, taxE).trim();
    if (artE > artS) product.article = s.slice(artS, artE);
    if (extras) product.extras = extras;
    return { op: 'upsert', product, line };
  }
}

function splitList(s: string): string[] {
  if (s.indexOf(',') < 0) {
    const t = s.trim();
    return t === '' ? [] : [t];
  }
  return s.split(',').map((b) => b.trim()).filter((b) => b !== '');
}

/**
 * Streams a goods file (office -> register direction, as 1C writes it) into PriceRecords. The mode
 * is known when this resolves; records are parsed as they are read. A bad line: the records before
 * it, then a FormatError naming file, line and field.
 */
export async function decodeGoods(input: Readable, options: GoodsDecodeOptions = {}): Promise<GoodsDecoding> {
  const { fileName, signal, onWarning, ...rest } = options;
  return decodeGoodsWith(input, resolveOptions(rest), { fileName, signal, maxLineLength: undefined }, onWarning);
}

export async function decodeGoodsWith(
  input: Readable,
  o: ResolvedOptions,
  ctx: { fileName: string | undefined; signal: AbortSignal | undefined; maxLineLength: number | undefined },
  onWarning?: (w: GoodsWarning) => void,
): Promise<GoodsDecoding> {
  const file = ctx.fileName;
  const warnings: GoodsWarning[] = [];
  const parser = new GoodsParser(o, file, (w) => {
    warnings.push(w);
    onWarning?.(w);
  });
  const reader = new LineReader(lineLimit(o.maxLineLength, ctx.maxLineLength), file);
  const texts = decodeText(input, o.encoding, ctx.signal, { file, line: () => reader.nextLine() });
  let failed: unknown;
  const feed = (text: string, final: boolean) => {
    if (failed !== undefined) return;
    try {
      reader.push(text, final, parser.sink);
      if (final) parser.finish();
    } catch (e) {
      failed = e;
    }
  };
  try {
    while (parser.mode === undefined && failed === undefined) {
      const r = await texts.next();
      if (r.done) {
        feed('', true);
        break;
      }
      feed(r.value, false);
    }
    // the header itself is broken: nothing to hand out
    if (failed !== undefined && parser.phase !== 'body') throw failed;
  } catch (e) {
    await texts.return(undefined);
    throw e;
  }
  return { mode: parser.mode ?? 'delta', state: parser.state, warnings, skipped: parser.skips.skipped, records: batchIterator(() => parser.out.splice(0), () => failed, texts, feed) };
}

export interface GoodsHeader {
  state: GoodsState;
  /** byte offset of the state character: a register acknowledges by writing `@` (0x40) there */
  stateOffset: number;
  /** `full` when the first command is DELETEALLWARES; undefined when `buf` ends before any command or item */
  mode: PriceFileMode | undefined;
}

export function readGoodsHeader(buf: Uint8Array, fileName?: string): GoodsHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  const lineAt = (from: number): [string, number] => {
    let nl = b.indexOf(10, from);
    if (nl < 0) nl = b.length;
    return [b.toString('latin1', from, nl > from && b[nl - 1] === 13 ? nl - 1 : nl), nl + 1];
  };
  const [sig, next] = lineAt(p);
  if (sig.trim() !== GOODS_SIGNATURE) throw new FormatError(`not an ATOL goods file: line 1 is not ${GOODS_SIGNATURE}`, { file: fileName, line: 1 });
  p = next;
  while (p < b.length && (b[p] === 32 || b[p] === 9)) p++;
  const stateOffset = p;
  const [st, after] = lineAt(p);
  const state = st.trim();
  if (state !== '#' && state !== '@') throw new FormatError(`line 2 must be "#" (new) or "@" (loaded)${p >= b.length ? ', the file ends before it' : ''}`, { file: fileName, line: 2 });
  // the decoder's rule: full when DELETEALLWARES comes before any record
  let mode: PriceFileMode | undefined;
  let block = Block.Items;
  for (let q = after; q < b.length && mode === undefined; ) {
    const nl = b.indexOf(10, q);
    if (nl < 0) break; // the last line may be cut off
    const [text, n] = lineAt(q);
    q = n;
    const t = text.trim();
    if (t === '') continue;
    if (t.startsWith('$$$')) {
      const cmd = commandName(t.slice(3));
      if (cmd === 'DELETEALLWARES') mode = 'full';
      else block = blockOf(cmd);
    } else if (block === Block.Items || block === Block.DeleteCodes) mode = 'delta';
  }
  return { state, stateOffset, mode };
}

/** 1C replaces `;` and `#` inside names with a space; line breaks cannot be written either */
const cleanText = (s: string) => s.replace(/[;#\r\n]/g, ' ');

function checkToken(v: string, what: string, code: string, line: number | undefined, extra = ''): string {
  if (v.trim() === '' || /[;\r\n]/.test(v) || (extra && v.includes(extra))) {
    throw new FormatError(`${what} ${JSON.stringify(v)} of "${code}" cannot be written in a goods file`, { line, field: what });
  }
  return v;
}

/** 1C's defaults: not weighed, sale and return allowed, price editable when the price is 0 */
function flagsOf(p: Product): string {
  const given = p.extras?.flags;
  const flags = given !== undefined && given !== '' ? given.split(',') : ['0', '1', '1', '0', '0', '0', p.price === 0 ? '1' : '0', '1'];
  if (p.weighed !== undefined) flags[0] = p.weighed ? '1' : '0';
  if (p.enabled === false) {
    while (flags.length < 2) flags.push('1');
    flags[1] = '0';
  }
  return flags.join(',');
}

/** one item line, in 1C's layout (33 fields) */
function itemLine(r: PriceRecord & { op: 'upsert' | 'disable' }, o: ResolvedOptions): string {
  if (r.op === 'disable') {
    const f = new Array<string>(ITEM_FIELDS).fill('');
    f[0] = checkToken(r.code, 'code', r.code, r.line);
    f[4] = formatFixed(0, 2, o.point);
    f[F.kind - 1] = '1';
    return f.join(';');
  }
  const p = r.product;
  for (const [field, v] of [['price', p.price], ['stock', p.stock ?? 0]] as const) {
    if (!Number.isSafeInteger(v)) throw new FormatError(`${field} ${v} of "${p.code}" is not an integer`, { field, line: r.line });
  }
  if (p.price < 0) throw new FormatError(`price ${p.price} of "${p.code}" is negative`, { field: 'price', line: r.line });
  // an item line with no name and price 0 reads back as "code no longer used"
  if (p.price === 0 && cleanText(p.name).trim() === '') throw new FormatError(`"${p.code}" has neither a name nor a price: a goods file would read it as disabled`, { field: 'name', line: r.line });
  let width = ITEM_FIELDS;
  const extras: [number, string][] = [];
  for (const [k, v] of Object.entries(p.extras ?? {})) {
    const n = extraField(k);
    if (n === undefined || n === F.flags || v === '') continue;
    extras.push([n, v]);
    if (n > width) width = n;
  }
  const f = new Array<string>(width).fill('');
  for (const [n, v] of extras) f[n - 1] = cleanText(v);
  f[F.code - 1] = checkToken(p.code, 'code', p.code, r.line);
  f[F.barcodes - 1] = p.barcodes.map((b) => checkToken(b, 'barcode', p.code, r.line, ',')).join(',');
  f[F.name - 1] = cleanText(p.name);
  f[F.receiptName - 1] = cleanText(p.receiptName ?? p.name);
  f[F.price - 1] = formatFixed(p.price, 2, o.point);
  f[F.stock - 1] = p.stock === undefined ? '' : formatQty(p.stock, o.point);
  f[F.flags - 1] = flagsOf(p);
  f[F.group - 1] = p.groupCode === undefined ? '' : checkToken(p.groupCode, 'groupCode', p.code, r.line);
  f[F.kind - 1] = '1';
  f[F.taxGroup - 1] = p.taxGroup === undefined ? '' : checkToken(p.taxGroup, 'taxGroup', p.code, r.line);
  f[F.article - 1] = p.article === undefined ? '' : cleanText(p.article);
  return f.join(';');
}

/**
 * Writes a goods file (office -> register): `##@@&&`, `#`, `$$$DELETEALLWARES` for a full file,
 * then `$$$REPLACEQUANTITY` blocks of item lines in 1C's layout and `$$$DELETEWARESBYWARECODE`
 * blocks for deletes, in record order. A disable is 1C's "code no longer used" line (empty name,
 * price 0). cp1251, CRLF, comma decimals unless configured. Streams in ~64 KiB pieces.
 */
export function encodeGoods(records: AsyncIterable<PriceRecord> | Iterable<PriceRecord>, mode: PriceFileMode, o: ResolvedOptions, signal?: AbortSignal): Readable {
  const eol = o.eol;
  async function* chunks(): AsyncGenerator<Buffer> {
    let out = GOODS_SIGNATURE + eol + '#' + eol;
    if (mode === 'full') out += '$$$DELETEALLWARES' + eol;
    let block: 'none' | 'items' | 'delete' = 'none';
    let first = true;
    for await (const r of records) {
      if (r.op === 'clear') {
        if (mode !== 'full') throw new FormatError('a delta goods file cannot carry a clear', { line: r.line });
        if (!first) {
          out += '$$$DELETEALLWARES' + eol;
          block = 'none';
        }
      } else if (r.op === 'delete') {
        if (block !== 'delete') out += '$$$DELETEWARESBYWARECODE' + eol;
        block = 'delete';
        out += checkToken(r.code, 'code', r.code, r.line) + eol;
      } else {
        if (block !== 'items') out += '$$$REPLACEQUANTITY' + eol;
        block = 'items';
        out += itemLine(r, o) + eol;
      }
      first = false;
      if (out.length >= 65536) {
        signal?.throwIfAborted();
        yield encodeText(out, o.writeEncoding);
        out = '';
      }
    }
    if (out) yield encodeText(out, o.writeEncoding);
  }
  return Readable.from(chunks(), { objectMode: false });
}

