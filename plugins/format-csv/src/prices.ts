import { Readable } from 'node:stream';
import { batchIterator, SkipCounter } from '@cfx/core/text';
import { ErrorCodes, FormatError } from '@cfx/core/api';
import type { DecodeContext, EncodeContext, PriceDecoding, PriceFileMode, PriceRecord, Product } from '@cfx/core/api';
import { lineLimit, PRICE_COLUMNS, type PriceColumn, type ResolvedOptions } from './options.js';
import { csvField, fixedField, formatFixed, parseBool, RowReader, type RowSink } from './rows.js';
import { decodeText, encodeText } from './text.js';

const REQUIRED: PriceColumn[] = ['code', 'barcodes', 'name', 'price'];
const CANONICAL = new Map<string, PriceColumn>(PRICE_COLUMNS.map((c) => [c.toLowerCase(), c]));
CANONICAL.set('groupcode', 'group');
const OPTIONAL_TEXT = [
  ['receiptName', 'receiptName'],
  ['unit', 'unit'],
  ['group', 'groupCode'],
  ['taxGroup', 'taxGroup'],
  ['article', 'article'],
] as const;

type ToRecord = (f: string[], line: number) => PriceRecord;

/** header row -> a row converter with every column position resolved once */
function compileHeader(header: string[], line: number, file: string, o: ResolvedOptions, skips: SkipCounter): ToRecord {
  const at: Partial<Record<PriceColumn, number>> = {};
  const extras: [number, string][] = [];
  /** columns without a header name: a trailing separator, normally empty in every row */
  const unnamed: number[] = [];
  const seen = new Set<string>();
  header.forEach((h, k) => {
    const name = h.trim();
    if (name === '') {
      unnamed.push(k);
      return;
    }
    const col = o.columns.get(name.toLowerCase()) ?? CANONICAL.get(name.toLowerCase());
    const key = col ?? name.toLowerCase();
    if (seen.has(key)) throw new FormatError(`column "${col ?? name}" appears twice in the header`, { file, line, field: col ?? name });
    seen.add(key);
    if (col) at[col] = k;
    else extras.push([k, name]);
  });
  for (const c of REQUIRED) if (at[c] === undefined) throw new FormatError(`the header has no "${c}" column`, { file, line, field: c });
  const n = header.length, dec = o.decimal, thousands = o.thousands;
  const iCode = at.code!, iBarcodes = at.barcodes!, iName = at.name!, iPrice = at.price!;
  const iDeleted = at.deleted ?? -1, iWeighed = at.weighed ?? -1, iStock = at.stock ?? -1;
  const texts = OPTIONAL_TEXT.filter(([c]) => at[c] !== undefined).map(([c, prop]) => [at[c]!, prop] as const);

  return (f, line) => {
    if (f.length !== n) throw new FormatError(`expected ${n} fields, found ${f.length}`, { file, line });
    const code = f[iCode]!.trim();
    if (code === '') throw new FormatError('code is required', { file, line, field: 'code' });
    if (iDeleted >= 0 && f[iDeleted] !== '') {
      const d = parseBool(f[iDeleted]!);
      if (d === undefined) throw new FormatError(`deleted "${f[iDeleted]}" is not 1/0/true/false/yes/no`, { file, line, field: 'deleted' });
      if (d) return { op: 'delete', code, line };
    }
    for (const k of unnamed) {
      if (f[k] !== '') {
        skips.skip(line, `a value in column ${k + 1}, which has no name in the header`);
        break;
      }
    }
    const price = fixedField(f[iPrice]!, 2, dec, 'price', file, line, thousands);
    if (price < 0) throw new FormatError(`price "${f[iPrice]}" is negative`, { file, line, field: 'price' });
    const product: Product = { code, barcodes: splitBarcodes(f[iBarcodes]!), name: f[iName]!, price };
    for (const [k, prop] of texts) if (f[k] !== '') product[prop] = f[k];
    if (iWeighed >= 0 && f[iWeighed] !== '') {
      const w = parseBool(f[iWeighed]!);
      if (w === undefined) throw new FormatError(`weighed "${f[iWeighed]}" is not 1/0/true/false/yes/no`, { file, line, field: 'weighed' });
      product.weighed = w;
    }
    if (iStock >= 0 && f[iStock] !== '') product.stock = fixedField(f[iStock]!, 3, dec, 'stock', file, line, thousands);
    if (extras.length) {
      let x: Record<string, string> | undefined;
      for (const [k, name] of extras) if (f[k] !== '') (x ??= {})[name] = f[k]!;
      if (x) product.extras = x;
    }
    return { op: 'upsert', product, line };
  };
}

function splitBarcodes(s: string): string[] {
  if (s === '') return [];
  if (s.indexOf(',') < 0) return [s.trim()];
  return s.split(',').map((b) => b.trim()).filter((b) => b !== '');
}

const FULL_MARK = /^#full$/i;

export async function decodePrices(input: Readable, ctx: DecodeContext, o: ResolvedOptions): Promise<PriceDecoding> {
  const file = ctx.fileName;
  const reader = new RowReader(o.separator, lineLimit(o, ctx.maxLineLength), file);
  const texts = decodeText(input, o.encoding, ctx.signal, { file, line: () => reader.nextLine() });
  const skips = new SkipCounter();
  let mode: PriceFileMode = /\.full\.csv$/i.test(file) ? 'full' : 'delta';
  let toRecord: ToRecord | undefined;
  let firstRow = true;
  let batch: PriceRecord[] = [];
  let failed: unknown;

  const sink: RowSink = (f, line) => {
    if (toRecord) batch.push(toRecord(f, line));
    else if (firstRow && line === 1 && FULL_MARK.test(f[0]!.trim()) && f.every((x, k) => k === 0 || x === '')) mode = 'full';
    else toRecord = compileHeader(f, line, file, o, skips);
    firstRow = false;
  };
  // rows before a bad one are still handed out; the error follows them
  const feed = (text: string, final: boolean) => {
    try {
      reader.push(text, final, sink);
    } catch (e) {
      failed = e;
    }
  };

  try {
    while (!toRecord && failed === undefined) {
      const r = await texts.next();
      if (r.done) {
        feed('', true);
        if (!toRecord && failed === undefined) throw new FormatError('the file has no header row', { file, line: 1 });
        break;
      }
      feed(r.value, false);
    }
    if (!toRecord) throw failed;
  } catch (e) {
    await texts.return(undefined);
    throw e;
  }

  if (mode === 'full') batch.unshift({ op: 'clear', line: 1 });
  return { mode, records: batchIterator<PriceRecord>(() => batch.splice(0), () => failed, texts, feed), skipped: skips.skipped };
}

/** Streams price records out as CSV text in the decoder's dialect, in ~64 KiB pieces. */
export function encodePrices(records: AsyncIterable<PriceRecord> | Iterable<PriceRecord>, mode: PriceFileMode, ctx: EncodeContext, o: ResolvedOptions): Readable {
  const sep = o.separator, point = o.decimal === ',' ? ',' : '.', encoding = o.encoding;
  const names = new Map<PriceColumn, string>([...o.columns].map(([from, to]) => [to, from]));
  const header = PRICE_COLUMNS.map((c) => names.get(c) ?? c);
  const width = PRICE_COLUMNS.length;

  const row = (r: PriceRecord, extras: string[]): string => {
    if (r.op === 'clear') {
      if (mode === 'full') return '';
      throw new FormatError('a delta price file cannot carry a clear', { line: r.line });
    }
    if (r.op === 'disable') throw new FormatError('the csv price dialect has no way to write a disable', { line: r.line }, { code: ErrorCodes.FORMAT_UNSUPPORTED });
    const f: string[] = new Array(width + extras.length).fill('');
    if (r.op === 'delete') {
      f[0] = r.code;
      f[width - 1] = '1';
    } else {
      const p = r.product;
      for (const [field, v] of [['price', p.price], ['stock', p.stock ?? 0]] as const) {
        if (!Number.isSafeInteger(v)) throw new FormatError(`${field} ${v} of "${p.code}" is not an integer`, { field, line: r.line });
      }
      const unknown = Object.keys(p.extras ?? {}).find((k) => !extras.includes(k));
      if (unknown !== undefined) throw new FormatError(`extra column "${unknown}" of "${p.code}" is not in the header`, { field: unknown, line: r.line });
      f[0] = p.code;
      f[1] = p.barcodes.join(',');
      f[2] = p.name;
      f[3] = formatFixed(p.price, 2, point);
      f[4] = p.receiptName ?? '';
      f[5] = p.unit ?? '';
      f[6] = p.weighed === undefined ? '' : p.weighed ? '1' : '0';
      f[7] = p.groupCode ?? '';
      f[8] = p.taxGroup ?? '';
      f[9] = p.article ?? '';
      f[10] = p.stock === undefined ? '' : formatFixed(p.stock, 3, point);
      extras.forEach((k, i) => (f[width + i] = p.extras?.[k] ?? ''));
    }
    return f.map((v) => csvField(v, sep)).join(sep) + '\r\n';
  };

  async function* chunks(): AsyncGenerator<Buffer> {
    let out = mode === 'full' ? '#full\r\n' : '';
    // extra columns come from the first product; deletes ahead of it wait (up to a bound) so it is seen
    let extras: string[] | undefined;
    const held: PriceRecord[] = [];
    const start = (first: PriceRecord | undefined) => {
      extras = first?.op === 'upsert' ? Object.keys(first.product.extras ?? {}) : [];
      out += [...header, ...extras].map((h) => csvField(h, sep)).join(sep) + '\r\n';
      for (const h of held) out += row(h, extras);
    };
    for await (const r of records) {
      if (extras === undefined) {
        if (r.op !== 'upsert' && held.length < 1024) {
          held.push(r);
          continue;
        }
        start(r);
      }
      out += row(r, extras!);
      if (out.length >= 65536) {
        ctx.signal?.throwIfAborted();
        yield encodeText(out, encoding);
        out = '';
      }
    }
    if (extras === undefined) start(undefined);
    if (out) yield encodeText(out, encoding);
  }
  return Readable.from(chunks(), { objectMode: false });
}
