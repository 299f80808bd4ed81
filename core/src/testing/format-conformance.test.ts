// The format kit run against a small reference format (JSON lines), so the kit itself is tested
// without depending on a plugin package; the built-in csv runs it in test/src/plugins-sdk.test.ts.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { FormatError, type Format, type PriceRecord, type Sale } from '../api/index.js';
import { describeFormatConformance, measureStreamingDecode, projectLike } from './format-conformance.js';
import { HeapWatch } from './heap.js';

async function* lines(input: Readable): AsyncGenerator<{ text: string; line: number }> {
  let buf = '';
  let line = 0;
  const dec = new TextDecoder('utf-8', { fatal: true });
  for await (const c of input) {
    buf += dec.decode(c as Uint8Array, { stream: true });
    let from = 0;
    for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n', from)) {
      yield { text: buf.slice(from, i), line: ++line };
      from = i + 1;
    }
    buf = buf.slice(from);
  }
  buf += dec.decode();
  if (buf) yield { text: buf, line: ++line };
}

function parse(text: string, line: number, file: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new FormatError(`not JSON: ${(e as Error).message}`, { file, line });
  }
}

/** `jsonl`: line 1 `{"mode":"full"|"delta"}`, then one PriceRecord per line; a sale file is one Sale per line */
const jsonl = (): Format => ({
  id: 'jsonl',
  extension: 'jsonl',
  encodings: ['utf-8'],
  async decodePrices(input, ctx) {
    const it = lines(input)[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) return { mode: 'delta', records: (async function* () {})() };
    const head = parse(first.value.text, 1, ctx.fileName);
    if (head.mode !== 'full' && head.mode !== 'delta') throw new FormatError('the first line must be {"mode":"full"|"delta"}', { file: ctx.fileName, line: 1, field: 'mode' });
    return {
      mode: head.mode,
      records: (async function* () {
        for (let r = await it.next(); !r.done; r = await it.next()) {
          const o = parse(r.value.text, r.value.line, ctx.fileName);
          if (o.op === 'upsert' && typeof (o.product as { price?: unknown })?.price !== 'number') throw new FormatError('price must be a number', { file: ctx.fileName, line: r.value.line, field: 'price' });
          yield { ...o, line: r.value.line } as PriceRecord;
        }
      })(),
    };
  },
  encodePrices(records, mode) {
    return Readable.from(
      (async function* () {
        let out = JSON.stringify({ mode }) + '\n';
        for await (const r of records) {
          out += JSON.stringify(r) + '\n';
          if (out.length >= 65536) {
            yield Buffer.from(out);
            out = '';
          }
        }
        yield Buffer.from(out);
      })(),
    );
  },
  encodeSale: (sale) => Buffer.from(JSON.stringify(sale) + '\n'),
  async *decodeSales(input, ctx) {
    for await (const l of lines(input)) if (l.text) yield parse(l.text, l.line, ctx.fileName) as unknown as Sale;
  },
});

describeFormatConformance('jsonl (reference)', {
  create: jsonl,
  malformed: [
    { name: 'bad header', bytes: '{"mode":"sideways"}\n', line: 1, field: 'mode' },
    { name: 'bad JSON on line 3', bytes: '{"mode":"delta"}\n{"op":"delete","code":"1"}\n{oops\n', line: 3 },
    { name: 'a price that is not a number', bytes: '{"mode":"delta"}\n{"op":"upsert","product":{"code":"1","barcodes":[],"name":"x","price":"1,50"}}\n', line: 2, field: 'price' },
    { name: 'a sale that is not JSON', kind: 'sales', bytes: 'nope', line: 1 },
  ],
  encodings: [{ encoding: 'utf-8', bytes: Buffer.from('{"mode":"delta"}\n{"op":"upsert","product":{"code":"1","barcodes":[],"name":"Чай","price":3000}}\n'), products: [{ code: '1', barcodes: [], name: 'Чай', price: 3000 }] }],
  large: { records: 30_000, maxHeapGrowthBytes: 4 * 1024 * 1024 },
});

it('projectLike keeps only the expected keys, recursively', () => {
  assert.deepEqual(projectLike({ a: 1, b: 2, c: [{ x: 1, y: 2 }] }, { a: 0, c: [{ x: 0 }] }), { a: 1, c: [{ x: 1 }] });
  assert.deepEqual(projectLike([1, 2, 3], [0]), [1, 2, 3], 'extra array items stay (and then differ)');
  assert.equal(projectLike(undefined, { a: 1 }), undefined);
});

it('HeapWatch sees memory that is held on to', () => {
  const w = new HeapWatch();
  const held: string[] = [];
  for (let i = 0; i < 100_000; i++) held.push(`row ${i} ${'x'.repeat(40)}`);
  w.sample();
  assert.ok(w.growth > 4 * 1024 * 1024, `growth ${w.growth}`);
  assert.equal(held.length, 100_000);
});

it('the memory check tells a streaming decoder from one that reads the whole file first', async () => {
  const streaming = await measureStreamingDecode(jsonl(), { records: 15_000 });
  const base = jsonl();
  const buffering: Format = {
    ...base,
    async decodePrices(input, ctx) {
      const chunks: Buffer[] = [];
      for await (const c of input) chunks.push(c as Buffer);
      const all = Buffer.concat(chunks);
      const records: PriceRecord[] = [];
      const dec = await base.decodePrices!(Readable.from([all]), ctx);
      for await (const r of dec.records) records.push(r);
      return { mode: dec.mode, records: (async function* () { yield* records; })() };
    },
  };
  const holding = await measureStreamingDecode(buffering, { records: 15_000 });
  assert.equal(streaming.products, 15_000);
  assert.equal(holding.products, 15_000);
  assert.ok(streaming.growth < 4 * 1024 * 1024, `streaming: ${streaming.growth}`);
  assert.ok(holding.growth > 3 * streaming.growth && holding.growth > 4 * 1024 * 1024, `buffering: ${holding.growth} vs streaming ${streaming.growth}`);
});
