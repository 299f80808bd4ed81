import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { isCfxError, type CfxError, type Format, type FormatLocation, type PriceDecoding, type PriceFileMode, type PriceRecord, type Product, type Sale } from '../api/index.js';
import { HeapWatch } from './heap.js';
import { SAMPLE_PRICES, SAMPLE_SALES, generatedProduct, type PriceSample } from './samples.js';

/** An input the decoder must refuse with a FormatError. */
export interface MalformedSample {
  /** shown in the test name */
  name?: string;
  bytes: Uint8Array | string;
  /** which decoder reads it (default `prices`) */
  kind?: 'prices' | 'sales';
  /** file name handed to the decoder (default `bad.<ext>`) */
  fileName?: string;
  /** format options for this decode (default `{}`) */
  options?: Record<string, unknown>;
  /** the line the error must name (FormatError.location.line) */
  line?: number;
  /** the field the error must name (FormatError.location.field) */
  field?: string;
}

/** A price file in one of the encodings the format declares, and the products it holds. */
export interface EncodingSample {
  /** one of `format.encodings` */
  encoding: string;
  bytes: Uint8Array;
  fileName?: string;
  /** format options for this decode (default `{}`: the format must detect it, or pass e.g. `{ encoding }`) */
  options?: Record<string, unknown>;
  /** the upserted products the file holds, in order */
  products: Product[];
}

export interface FormatConformanceOptions {
  /** a fresh format (e.g. `provider.create(options)`); called once per test */
  create(): Format | Promise<Format>;
  /** price files to round-trip (default: a full file with Cyrillic, quotes, separators, several barcodes, and a delta with a delete) */
  samplePrices?: PriceSample | PriceSample[];
  /** sales to round-trip through encodeSale → decodeSales (default: a sale with a discount and two payments, and a return) */
  sampleSale?: Sale | Sale[];
  /** at least one input each decoder must refuse with a FormatError naming where */
  malformed: MalformedSample[];
  /**
   * Samples for the declared encodings. A declared encoding (other than `auto`) without a sample is
   * checked by a round trip with `options: { encoding }`.
   */
  encodings?: EncodingSample[];
  /**
   * The bounded-memory check: `records` generated rows (default 200 000) are encoded and decoded as
   * one stream and the memory retained meanwhile may grow by at most `maxHeapGrowthBytes` (default
   * 16 MiB). `input` supplies the bytes when the format has no encodePrices. `false` skips it.
   */
  large?: false | { records?: number; maxHeapGrowthBytes?: number; input?: (records: number) => Readable; fileName?: string };
  /** format options handed in ctx.options (default `{}`) */
  options?: Record<string, unknown>;
  /** a reason to skip the whole suite, or false */
  skip?: string | false;
  /** per decode: fail instead of hanging (default 20 s) */
  timeoutMs?: number;
}

const list = <T>(v: T | T[] | readonly T[] | undefined, dflt: readonly T[]): T[] => (v === undefined ? [...dflt] : Array.isArray(v) ? [...v] : [v as T]);

function input(bytes: Uint8Array | string): Readable {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
  // in two pieces, split inside a character when possible: decoders must not assume whole reads
  const cut = Math.max(1, Math.floor(b.length / 2) | 1);
  return Readable.from(b.length > 1 ? [b.subarray(0, cut), b.subarray(cut)] : b.length ? [b] : []);
}

async function bytesOf(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) {
    assert.ok(c instanceof Uint8Array, `the encoder emitted a ${typeof c} chunk: a Readable of bytes (Buffer/Uint8Array) is the contract`);
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks);
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no result within ${ms} ms (does the decoder hang?)`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function decodeAll(f: Format, bytes: Uint8Array | string | Readable, fileName: string, options: Record<string, unknown>): Promise<{ mode: PriceFileMode; records: PriceRecord[] }> {
  const dec: PriceDecoding = await f.decodePrices!(bytes instanceof Readable ? bytes : input(bytes), { fileName, options });
  const records: PriceRecord[] = [];
  for await (const r of dec.records) records.push(r);
  return { mode: dec.mode, records };
}

async function decodeSalesAll(f: Format, bytes: Uint8Array | string, fileName: string, options: Record<string, unknown>): Promise<Sale[]> {
  const out: Sale[] = [];
  for await (const s of f.decodeSales!(input(bytes), { fileName, options })) out.push(s);
  return out;
}

/**
 * `actual` restricted to the keys `expected` has (recursively; arrays element by element): a
 * decoder may add what it knows (line numbers, defaults) but must give back everything it was given.
 */
export function projectLike(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected)) return Array.isArray(actual) ? actual.map((a, i) => (i < expected.length ? projectLike(a, expected[i]) : a)) : actual;
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return actual;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(expected)) if ((expected as Record<string, unknown>)[k] !== undefined) out[k] = projectLike((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]);
    return out;
  }
  return actual;
}

const stripLine = (r: PriceRecord): PriceRecord => {
  const { line: _line, ...rest } = r as PriceRecord & { line?: number };
  return rest as PriceRecord;
};

/** records compared ignoring `line`; decoded products may carry more fields than were written */
function assertSameRecords(got: PriceRecord[], want: PriceRecord[], what: string): void {
  const g = got.filter((r) => r.op !== 'clear').map(stripLine);
  const w = want.filter((r) => r.op !== 'clear').map(stripLine);
  assert.deepEqual(projectLike(g, w), w, `${what}: decode(encode(records)) differs from the records`);
  assert.equal(g.length, w.length, `${what}: ${g.length} records decoded, ${w.length} written`);
}

function assertLines(records: PriceRecord[], what: string): void {
  let last = 0;
  for (const r of records) {
    if (r.line === undefined) continue;
    assert.ok(Number.isInteger(r.line) && r.line >= 1, `${what}: record line ${r.line} is not a line number`);
    assert.ok(r.line >= last, `${what}: record lines go backwards (${last} then ${r.line})`);
    last = r.line;
  }
}

function assertFullStartsWithClear(mode: PriceFileMode, records: PriceRecord[], what: string): void {
  if (mode !== 'full') return;
  const firstClear = records.findIndex((r) => r.op === 'clear');
  const firstOther = records.findIndex((r) => r.op !== 'clear');
  assert.ok(firstClear !== -1 && (firstOther === -1 || firstClear < firstOther), `${what}: a full file must yield { op: 'clear' } before its first product (the store replaces the catalog on it)`);
}

/** what a FormatError says about where; undefined when `e` is not a format error */
function formatErrorLocation(e: unknown): FormatLocation | undefined {
  if (!isCfxError(e) || !String((e as CfxError).code).startsWith('CFX_E_FORMAT_')) return undefined;
  const err = e as CfxError & { location?: FormatLocation };
  const d = err.details ?? {};
  return err.location ?? { ...(typeof d.line === 'number' ? { line: d.line } : {}), ...(typeof d.field === 'string' ? { field: d.field } : {}), ...(typeof d.file === 'string' ? { file: d.file } : {}) };
}

async function expectFormatError(p: Promise<unknown>, what: string): Promise<FormatLocation> {
  try {
    await p;
  } catch (e) {
    const loc = formatErrorLocation(e);
    assert.ok(loc, `${what}: expected a FormatError (code CFX_E_FORMAT_*), got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return loc;
  }
  assert.fail(`${what}: expected a FormatError, but the input was accepted`);
}

const DEFAULT_HEAP_GROWTH = 16 * 1024 * 1024;

/**
 * Encodes `records` generated rows (a full file) and decodes them as one stream, sampling the
 * memory the process retains (after a forced GC) ten times on the way. Generated rows are checked
 * at a few places. `input` supplies the bytes instead when the format cannot encode.
 */
export async function measureStreamingDecode(
  f: Format,
  o: { records: number; options?: Record<string, unknown>; input?: (records: number) => Readable; fileName?: string },
): Promise<{ products: number; growth: number; exact: boolean }> {
  const n = o.records;
  const options = o.options ?? {};
  const every = Math.max(1, Math.floor(n / 10));
  const watch = new HeapWatch();
  const bytes = o.input
    ? o.input(n)
    : f.encodePrices!(
        (function* () {
          yield { op: 'clear' } as PriceRecord;
          for (let i = 0; i < n; i++) yield { op: 'upsert', product: generatedProduct(i) } as PriceRecord;
        })(),
        'full',
        { options },
      );
  const dec = await f.decodePrices!(bytes, { fileName: o.fileName ?? `large.full.${f.extension}`, options });
  let count = 0;
  for await (const r of dec.records) {
    if (r.op !== 'upsert') continue;
    if (!o.input && (count === 0 || count === n - 1 || count === 12345)) {
      assert.deepEqual(projectLike(r.product, generatedProduct(count)), generatedProduct(count), `row ${count} of the large file`);
    }
    if (++count % every === 0) watch.sample();
  }
  watch.sample();
  return { products: count, growth: watch.growth, exact: watch.exact };
}

/**
 * The conformance suite for a format plugin (node:test). Every built-in format passes it; a
 * third-party one proves with it that the core can rely on it: lossless round trips, streaming
 * decoders in bounded memory, errors that say where the input is wrong.
 */
export function describeFormatConformance(name: string, opts: FormatConformanceOptions): void {
  const timeout = opts.timeoutMs ?? 20_000;
  const options = opts.options ?? {};
  const create = async () => opts.create();
  const priceName = (f: Format, mode: PriceFileMode, s?: PriceSample) => s?.fileName ?? `prices${mode === 'full' ? '.full' : ''}.${f.extension}`;

  describe(`format conformance: ${name}`, { skip: opts.skip || false }, () => {
    it('declares an id, a file extension and at least one direction', async () => {
      const f = await create();
      assert.ok(typeof f.id === 'string' && /^[a-z][a-z0-9+.-]*$/.test(f.id), `format id ${JSON.stringify(f.id)} must be a lower-case id`);
      assert.ok(typeof f.extension === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(f.extension) && !f.extension.startsWith('.'), `extension ${JSON.stringify(f.extension)} must be given without the dot`);
      assert.ok(f.decodePrices || f.encodePrices || f.encodeSale || f.decodeSales, 'the format implements none of decodePrices, encodePrices, encodeSale, decodeSales');
      if (f.encodings !== undefined) assert.ok(Array.isArray(f.encodings) && f.encodings.every((e) => typeof e === 'string'), 'encodings must be a list of names');
    });

    it('price files round-trip: decode(encode(records)) gives the records back, a full file starts with clear', async (t) => {
      const f = await create();
      if (!f.encodePrices || !f.decodePrices) return t.skip('the format does not both encode and decode prices');
      for (const s of list(opts.samplePrices, SAMPLE_PRICES)) {
        const what = `${s.mode} sample`;
        const bytes: Buffer = await within(timeout, what, bytesOf(f.encodePrices(s.records, s.mode, { options })));
        const back: { mode: PriceFileMode; records: PriceRecord[] } = await within(timeout, what, decodeAll(f, bytes, priceName(f, s.mode, s), options));
        assert.equal(back.mode, s.mode, `${what}: decoded as ${back.mode}`);
        assertFullStartsWithClear(back.mode, back.records, what);
        assertLines(back.records, what);
        assertSameRecords(back.records, s.records, what);
        // the encoder takes an async iterable as well as an array
        const again = await within(timeout, what, bytesOf(f.encodePrices((async function* () { yield* s.records; })(), s.mode, { options })));
        assert.ok(again.equals(bytes), `${what}: encoding an async iterable gives other bytes than encoding the array`);
      }
    });

    it('an empty price list round-trips to no products', async (t) => {
      const f = await create();
      if (!f.encodePrices || !f.decodePrices) return t.skip('the format does not both encode and decode prices');
      const bytes = await within(timeout, 'empty delta', bytesOf(f.encodePrices([], 'delta', { options })));
      const back = await within(timeout, 'empty delta', decodeAll(f, bytes, priceName(f, 'delta'), options));
      assert.deepEqual(back.records.filter((r) => r.op !== 'clear'), [], 'records out of an empty file');
    });

    it('empty input: no records, or a FormatError — never another error, never a hang', async (t) => {
      const f = await create();
      if (!f.decodePrices && !f.decodeSales) return t.skip('the format decodes nothing');
      if (f.decodePrices) {
        try {
          const r = await within(timeout, 'empty price input', decodeAll(f, new Uint8Array(0), `empty.${f.extension}`, options));
          assert.deepEqual(r.records.filter((x) => x.op !== 'clear'), [], 'products out of an empty input');
        } catch (e) {
          assert.ok(formatErrorLocation(e), `empty price input: expected no records or a FormatError, got ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (f.decodeSales) {
        try {
          const r = await within(timeout, 'empty sales input', decodeSalesAll(f, new Uint8Array(0), `empty.${f.extension}`, options));
          assert.deepEqual(r, [], 'sales out of an empty input');
        } catch (e) {
          assert.ok(formatErrorLocation(e), `empty sales input: expected no sales or a FormatError, got ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    });

    it('sales round-trip: one sale per file, decodeSales(encodeSale(sale)) gives the sale back', async (t) => {
      const f = await create();
      if (!f.encodeSale) return t.skip('the format does not encode sales');
      for (const sale of list<Sale>(opts.sampleSale, SAMPLE_SALES)) {
        const bytes: Uint8Array = f.encodeSale(sale, { options });
        assert.ok(bytes instanceof Uint8Array && bytes.length > 0, `encodeSale(${sale.saleId}) must return the file's bytes`);
        assert.ok(Buffer.from(f.encodeSale(sale, { options })).equals(Buffer.from(bytes)), `encodeSale(${sale.saleId}) is not deterministic: a resend must produce the same file`);
        if (!f.decodeSales) continue;
        const back: Sale[] = await within(timeout, `sale ${sale.saleId}`, decodeSalesAll(f, bytes, `${sale.terminalId}_${sale.saleId}.${f.extension}`, options));
        assert.equal(back.length, 1, `sale ${sale.saleId}: ${back.length} sales decoded from its file`);
        assert.deepEqual(projectLike(back[0], sale), sale, `sale ${sale.saleId}: decodeSales(encodeSale(sale)) differs`);
      }
    });

    it('malformed input is refused with a FormatError that says where (line and/or field)', async (t) => {
      const f = await create();
      if (!f.decodePrices && !f.decodeSales) return t.skip('the format decodes nothing');
      assert.ok(opts.malformed.length > 0, 'give at least one malformed sample (malformed: [{ bytes, line?, field? }])');
      for (const [i, m] of opts.malformed.entries()) {
        const kind = m.kind ?? 'prices';
        const what = `malformed #${i + 1}${m.name ? ` (${m.name})` : ''}`;
        const fileName = m.fileName ?? `bad.${f.extension}`;
        const o = m.options ?? options;
        if (kind === 'prices') assert.ok(f.decodePrices, `${what}: a prices sample, but the format has no decodePrices`);
        else assert.ok(f.decodeSales, `${what}: a sales sample, but the format has no decodeSales`);
        const loc = await expectFormatError(within<unknown>(timeout, what, kind === 'prices' ? decodeAll(f, m.bytes, fileName, o) : decodeSalesAll(f, m.bytes, fileName, o)), what);
        assert.ok(loc.line !== undefined || loc.field !== undefined, `${what}: the FormatError names neither a line nor a field`);
        if (m.line !== undefined) assert.equal(loc.line, m.line, `${what}: wrong line`);
        if (m.field !== undefined) assert.equal(loc.field, m.field, `${what}: wrong field`);
        if (loc.file !== undefined) assert.equal(loc.file, fileName, `${what}: the error names another file`);
      }
    });

    it('every declared encoding decodes', async (t) => {
      const f = await create();
      const declared = f.encodings ?? [];
      const samples = opts.encodings ?? [];
      for (const s of samples) assert.ok(declared.includes(s.encoding), `a sample for encoding "${s.encoding}", which the format does not declare (declared: ${declared.join(', ') || 'none'})`);
      if (!declared.length) return t.skip('the format declares no encodings');
      if (!f.decodePrices) return t.skip('the format does not decode prices');
      for (const enc of declared) {
        const mine = samples.filter((s) => s.encoding === enc);
        for (const s of mine) {
          const back = await within(timeout, `encoding ${enc}`, decodeAll(f, s.bytes, s.fileName ?? `prices.${f.extension}`, s.options ?? {}));
          const products = back.records.filter((r): r is Extract<PriceRecord, { op: 'upsert' }> => r.op === 'upsert').map((r) => r.product);
          assert.deepEqual(projectLike(products, s.products), s.products, `encoding ${enc}: the sample decodes to other products`);
          assert.equal(products.length, s.products.length, `encoding ${enc}: ${products.length} products decoded, ${s.products.length} expected`);
        }
        if (mine.length || enc === 'auto') continue;
        // no sample: round-trip the full sample with the encoding chosen in the options
        if (!f.encodePrices) assert.fail(`encoding "${enc}" is declared but has no sample (encodings: [{ encoding: "${enc}", bytes, products }])`);
        const s = list(opts.samplePrices, SAMPLE_PRICES)[0]!;
        const o = { ...options, encoding: enc };
        const bytes: Buffer = await within(timeout, `encoding ${enc}`, bytesOf(f.encodePrices(s.records, s.mode, { options: o })));
        const back: { mode: PriceFileMode; records: PriceRecord[] } = await within(timeout, `encoding ${enc}`, decodeAll(f, bytes, priceName(f, s.mode, s), o));
        assertSameRecords(back.records, s.records, `encoding ${enc}`);
      }
    });

    const large = opts.large === false ? undefined : (opts.large ?? {});
    it('streams a large price file in bounded memory (retained heap growth, not time)', { skip: large ? false : 'large: false' }, async (t) => {
      const f = await create();
      if (!f.decodePrices || (!f.encodePrices && !large!.input)) return t.skip('needs decodePrices and either encodePrices or large.input');
      const n = large!.records ?? 200_000;
      const limit = large!.maxHeapGrowthBytes ?? DEFAULT_HEAP_GROWTH;
      const r = await measureStreamingDecode(f, { records: n, options, ...(large!.input ? { input: large!.input } : {}), ...(large!.fileName ? { fileName: large!.fileName } : {}) });
      assert.equal(r.products, n, `products decoded out of the ${n}-row file`);
      const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
      t.diagnostic(`${n} rows: retained memory grew by ${mib(r.growth)} (limit ${mib(limit)}${r.exact ? '' : ', no forced GC: an upper bound'})`);
      assert.ok(r.growth <= limit, `decoding ${n} rows retained ${mib(r.growth)} more memory (limit ${mib(limit)}): the decoder (or encoder) holds the file instead of streaming it`);
    });
  });
}
