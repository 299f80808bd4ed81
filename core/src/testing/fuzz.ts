// @cfx/core/testing/fuzz: decoders fed random and mutated bytes (fast-check). A decoder reads what
// crosses the wire, so whatever arrives it must end — records, or a FormatError — within a
// deadline, and an endless line must be refused at the limit, not buffered. Needs fast-check
// (a devDependency of whoever runs it); kept out of `@cfx/core/testing` so that one does not.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { ErrorCodes, FormatError, errorMessage, isCfxError } from '../api/errors.js';
import type { DecodeContext, Format } from '../api/format.js';

/** one decoder under fuzz, as a module's `fuzzTargets()` lists it (see fuzzDecoderIsolated) */
export interface DecoderFuzzTarget {
  /** e.g. `csv prices` */
  name: string;
  /** every record of one input: the decoder with its options and limits; abort on `signal` */
  decode(input: Readable, signal: AbortSignal): AsyncIterable<unknown> | Promise<AsyncIterable<unknown>>;
  /** real-looking inputs (fixtures, files the format's encoder writes) the mutations start from */
  seeds: Uint8Array[];
  /** format-specific words spliced in (keywords, markup); a general list is always used too */
  tokens?: string[];
  /**
   * the memory bound: `head`, then `unit` repeated without end, must be refused (CFX_E_FORMAT_LIMIT
   * or _INVALID) before more than `limit` bytes past the head are read, plus the stream's read-ahead
   */
  endless?: { head: Uint8Array; unit: Uint8Array; limit: number }[];
}

export interface FuzzOptions {
  /** cases per target (default 1000) */
  numRuns?: number;
  /** fast-check seed; default a fixed one (the same cases every run), CFX_FUZZ_SEED overrides */
  seed?: number;
  /** one case's deadline, ms (default 2000): a decoder that has not ended by then hangs */
  deadlineMs?: number;
}

export interface FuzzFailure {
  /** `hang`: no end within the deadline; `error`: an error other than a FormatError; `unbounded`: an endless input read past its limit */
  kind: 'hang' | 'error' | 'unbounded';
  message: string;
  /** the (shrunk) input, base64, and how it was cut into chunks */
  input?: { base64: string; preview: string; chunks: number[] };
}

export interface FuzzReport {
  target: string;
  cases: number;
  /** inputs decoded to the end / refused with a FormatError */
  decoded: number;
  refused: number;
  ms: number;
  seed: number;
  failures: FuzzFailure[];
  /** per `endless` case: bytes read past the head when it was refused */
  endless: { read: number; limit: number; code: string }[];
}

const DEFAULT_SEED = 0x5eedcf;
/**
 * what an endless input may be read past its limit: a decoder's own batching (the stream feeding it
 * reads ahead one unit only). The built-ins stop within one 1 KiB unit of the limit.
 */
const READ_AHEAD = 64 * 1024;

/** words that break parsers: signs, huge and odd numbers, quotes, separators, BOMs, control bytes, markup */
const GENERAL_TOKENS = [
  '', ' ', '0', '-0', '-1', '+1', '1.', '.5', '0,5', '1 234,50', '1\u00a0234,50', '99999999999999999999999', '9007199254740993', '1e309', '-1e-7', 'NaN', 'Infinity', '0x1F', '١٢٣',
  '\r', '\n', '\r\n', '\n\r', '\t', ';', ',', '"', '""', '"a""b"', "'", '\\', '\u0000', '\u001f', '\u007f', '\u00a0', '\ufeff', '\ufffd', '\u2028', '\ud800',
  '<', '>', '&', '&amp;', '&#0;', '&#x110000;', '&unknown;', '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>', '<!DOCTYPE a [<!ENTITY b "c">]>', '</', '/>', 'xmlns="urn:x"',
  '##@@&&', '#', '@', '$$$', '$$$ADD', '$$$REPLACEQUANTITY', '$$$DELETEWARESBYWARECODE', '%', '\u0410\u0411', '\u0456\u0457\u0454',
];

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** where a seed splits into words: the separators of CSV, ATOL and XML (kept as words of their own) */
const SEPARATORS = /([;,\t\r\n<>"=/ ])/;

/** the words of the seeds and the general list */
function dictionary(target: DecoderFuzzTarget): Uint8Array[] {
  const words = new Set<string>([...GENERAL_TOKENS, ...(target.tokens ?? [])]);
  for (const seed of target.seeds) {
    const text = Buffer.from(seed).toString('latin1');
    for (const w of text.split(SEPARATORS)) if (w.length > 0 && w.length <= 64) words.add(w);
    if (words.size > 4000) break;
  }
  // seed words go back as the bytes they were (latin1 keeps every byte: cp1251 stays cp1251)
  return [...words].map((w) => (GENERAL_TOKENS.includes(w) || target.tokens?.includes(w) ? utf8(w) : Buffer.from(w, 'latin1')));
}

type Mutation =
  | { op: 'set'; at: number; byte: number }
  | { op: 'insert'; at: number; word: number }
  /** one word (between separators) replaced: a value changes, the structure around it stays */
  | { op: 'replace'; at: number; word: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'repeat'; at: number; length: number; times: number }
  | { op: 'truncate'; at: number }
  | { op: 'swapLines'; a: number; b: number };

function mutate(seed: Uint8Array, ms: Mutation[], words: Uint8Array[]): Uint8Array {
  let b = Buffer.from(seed);
  const pos = (at: number) => (b.length === 0 ? 0 : at % (b.length + 1));
  for (const m of ms) {
    const at = 'at' in m ? pos(m.at) : 0;
    switch (m.op) {
      case 'set':
        if (b.length > 0) b[at % b.length] = m.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), words[m.word % words.length]!, b.subarray(at)]);
        break;
      case 'replace': {
        const parts = b.toString('latin1').split(SEPARATORS);
        const i = at % parts.length;
        parts[i] = Buffer.from(words[m.word % words.length]!).toString('latin1');
        b = Buffer.from(parts.join(''), 'latin1');
        break;
      }
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'repeat': {
        const piece = b.subarray(at, at + m.length);
        b = Buffer.concat([b.subarray(0, at), ...Array.from({ length: m.times }, () => piece), b.subarray(at)]);
        break;
      }
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'swapLines': {
        const lines = b.toString('latin1').split('\n');
        const i = m.a % lines.length, j = m.b % lines.length;
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        b = Buffer.from(lines.join('\n'), 'latin1');
        break;
      }
    }
  }
  return b;
}

/** one case: the bytes and the sizes they arrive in (cycled; a decoder must not care where chunks end) */
export interface FuzzInput {
  bytes: Uint8Array;
  chunks: number[];
}

/** inputs: a seed mutated a few times (most), a soup of words, or random bytes */
export function decoderInputs(target: DecoderFuzzTarget): fc.Arbitrary<FuzzInput> {
  const words = dictionary(target);
  const nat = fc.nat({ max: 1 << 20 });
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constant('set' as const), at: nat, byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ op: fc.constant('insert' as const), at: nat, word: fc.nat() }),
    fc.record({ op: fc.constant('replace' as const), at: nat, word: fc.nat() }),
    fc.record({ op: fc.constant('replace' as const), at: nat, word: fc.nat() }),
    fc.record({ op: fc.constant('delete' as const), at: nat, length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ op: fc.constant('repeat' as const), at: nat, length: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 2, max: 20 }) }),
    fc.record({ op: fc.constant('truncate' as const), at: nat }),
    fc.record({ op: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  );
  const seeds = target.seeds.length > 0 ? target.seeds : [new Uint8Array()];
  const mutated = fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 5 })).map(([i, ms]) => mutate(seeds[i]!, ms, words));
  const soup = fc.array(fc.nat({ max: words.length - 1 }), { maxLength: 200 }).map((ix) => Buffer.concat(ix.map((i) => words[i]!)));
  const random = fc.uint8Array({ maxLength: 2048 });
  const bytes = fc.oneof({ arbitrary: mutated, weight: 6 }, { arbitrary: soup, weight: 3 }, { arbitrary: random, weight: 1 });
  return fc.record({ bytes, chunks: fc.array(fc.integer({ min: 1, max: 97 }), { maxLength: 6 }) });
}

function* pieces(input: FuzzInput): Generator<Buffer> {
  const { bytes, chunks } = input;
  if (chunks.length === 0) {
    yield Buffer.from(bytes);
    return;
  }
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const n = chunks[k % chunks.length]!;
    yield Buffer.from(bytes.subarray(at, at + n));
    at += n;
  }
}

export type CaseOutcome = { kind: 'decoded'; records: number } | { kind: 'refused'; code: string } | { kind: 'hang' } | { kind: 'error'; error: unknown };

/**
 * A decoder's refusal of its input: CFX_E_FORMAT_INVALID or _LIMIT, or a FormatError saying the
 * dialect cannot express the input (CFX_E_FORMAT_UNSUPPORTED: a DOCTYPE, an unknown encoding —
 * docs/plugins.md), or CFX_E_FORMAT_INCOMPLETE (a report whose receipt is still open: the file
 * waits on the server); the core quarantines or keeps the file for each. Anything else is a plugin failure.
 */
const isFormatRefusal = (e: unknown): boolean =>
  isCfxError(e) &&
  (e.code === ErrorCodes.FORMAT_INVALID || e.code === ErrorCodes.FORMAT_LIMIT || (e instanceof FormatError && (e.code === ErrorCodes.FORMAT_UNSUPPORTED || e.code === ErrorCodes.FORMAT_INCOMPLETE)));

/** Decodes one input to its end under a deadline; what happened. */
export function decodeCase(target: DecoderFuzzTarget, input: FuzzInput, deadlineMs: number): Promise<CaseOutcome> {
  // a record costs bytes: more records than bytes is a decoder going round in circles
  return decodeStream(target, Readable.from(pieces(input), { objectMode: false }), deadlineMs, input.bytes.length + 16);
}

async function decodeStream(target: DecoderFuzzTarget, stream: Readable, deadlineMs: number, maxRecords: number): Promise<CaseOutcome> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<CaseOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'hang' }), deadlineMs);
  });
  const work = (async (): Promise<CaseOutcome> => {
    let records = 0;
    for await (const _ of await target.decode(stream, ac.signal)) {
      if (++records > maxRecords) throw new Error(`${records} records, more than the input could hold`);
    }
    return { kind: 'decoded', records };
  })().catch((e: unknown): CaseOutcome => (isFormatRefusal(e) ? { kind: 'refused', code: (e as { code: string }).code } : { kind: 'error', error: e }));
  try {
    const out = await Promise.race([work, hang]);
    if (out.kind === 'hang') {
      ac.abort();
      stream.destroy();
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

const describeInput = (input: FuzzInput): FuzzFailure['input'] => ({
  base64: Buffer.from(input.bytes).toString('base64'),
  preview: JSON.stringify(Buffer.from(input.bytes).toString('latin1').slice(0, 300)),
  chunks: input.chunks,
});

/** `head` then `unit` without end: bytes read past the head when the decoder gave up */
export async function endlessCase(target: DecoderFuzzTarget, e: NonNullable<DecoderFuzzTarget['endless']>[number], deadlineMs: number): Promise<{ read: number; outcome: CaseOutcome }> {
  let read = 0;
  // stop feeding far past any sane limit: a decoder still reading then is buffering without bound
  const stopAt = e.limit * 4 + READ_AHEAD * 4;
  function* endless(): Generator<Buffer> {
    yield Buffer.from(e.head);
    while (read < stopAt) {
      read += e.unit.length;
      yield Buffer.from(e.unit);
    }
  }
  const outcome = await decodeStream(target, Readable.from(endless(), { objectMode: false, highWaterMark: e.unit.length }), deadlineMs, Infinity);
  return { read, outcome };
}

const outcomeMessage = (o: CaseOutcome, deadlineMs: number): string =>
  o.kind === 'hang' ? `no end within ${deadlineMs} ms` : o.kind === 'error' ? `threw something else than a FormatError: ${isCfxError(o.error) ? `[${o.error.code}] ` : ''}${errorMessage(o.error)}` : o.kind;

/**
 * Fuzzes one decoder in this thread: `numRuns` inputs (fast-check, shrunk on failure to a small
 * input), then each `endless` input. `onCase` sees every input before it is decoded.
 */
export async function fuzzDecoder(target: DecoderFuzzTarget, opts: FuzzOptions & { onCase?: (input: FuzzInput) => void } = {}): Promise<FuzzReport> {
  const numRuns = opts.numRuns ?? 1000;
  const deadlineMs = opts.deadlineMs ?? 2000;
  const seed = opts.seed ?? (process.env.CFX_FUZZ_SEED ? Number(process.env.CFX_FUZZ_SEED) : DEFAULT_SEED);
  const report: FuzzReport = { target: target.name, cases: 0, decoded: 0, refused: 0, ms: 0, seed, failures: [], endless: [] };
  const started = performance.now();
  // counted until the first failure (fast-check then shrinks, running the property again)
  let failed = false;
  const details = await fc.check(
    fc.asyncProperty(decoderInputs(target), async (input) => {
      opts.onCase?.(input);
      const o = await decodeCase(target, input, deadlineMs);
      const ok = o.kind === 'decoded' || o.kind === 'refused';
      if (!failed) {
        report.cases++;
        if (o.kind === 'decoded') report.decoded++;
        else if (o.kind === 'refused') report.refused++;
      }
      failed ||= !ok;
      return ok;
    }),
    { numRuns, seed, endOnFailure: false },
  );
  if (details.failed && details.counterexample) {
    const input = details.counterexample[0];
    // the shrunk input, decoded once more for its message
    const o = await decodeCase(target, input, deadlineMs);
    const what = o.kind === 'hang' || o.kind === 'error' ? outcomeMessage(o, deadlineMs) : `failed in the run, ${o.kind} when replayed (a deadline missed under load?)`;
    report.failures.push({ kind: o.kind === 'hang' ? 'hang' : 'error', message: `${what} (seed ${seed}, path ${details.counterexamplePath})`, input: describeInput(input) });
  } else if (details.failed) {
    report.failures.push({ kind: 'error', message: `fast-check: ${errorMessage(details.errorInstance)}` });
  }
  for (const e of target.endless ?? []) {
    const { read, outcome } = await endlessCase(target, e, deadlineMs * 5);
    if (outcome.kind === 'refused') {
      report.endless.push({ read, limit: e.limit, code: outcome.code });
      if (read > e.limit + e.unit.length + READ_AHEAD) report.failures.push({ kind: 'unbounded', message: `an endless input was refused only after ${read} bytes (limit ${e.limit})` });
    } else {
      report.failures.push({ kind: outcome.kind === 'hang' ? 'hang' : 'unbounded', message: `an endless input after ${read} bytes: ${outcome.kind === 'decoded' ? 'decoded without a limit' : outcomeMessage(outcome, deadlineMs * 5)}` });
    }
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

/**
 * Fuzzes the target named `target` of the module `module` (a URL whose `fuzzTargets()` lists
 * targets) in a worker thread, watched from here: a decoder stuck in a loop that never yields
 * (which no timer in its own thread can interrupt) is stopped and reported as a hang with the
 * input it was given.
 */
export function fuzzDecoderIsolated(module: string | URL, target: string, opts: FuzzOptions = {}): Promise<FuzzReport> {
  const deadlineMs = opts.deadlineMs ?? 2000;
  // the worker's own deadline catches a hang that awaits; this one a thread that never yields
  const watchdogMs = deadlineMs * 10 + 5000;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData: { module: String(module), target, opts } });
    let lastInput: FuzzInput | undefined;
    let lastBeat = Date.now();
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      fn();
    };
    const watch = setInterval(() => {
      if (Date.now() - lastBeat < watchdogMs) return;
      void worker.terminate();
      finish(() =>
        resolve({
          target,
          cases: 0,
          decoded: 0,
          refused: 0,
          ms: 0,
          seed: opts.seed ?? DEFAULT_SEED,
          failures: [{ kind: 'hang', message: `the decoder blocked its thread for over ${watchdogMs} ms`, ...(lastInput ? { input: describeInput(lastInput) } : {}) }],
          endless: [],
        }),
      );
    }, 250);
    worker.on('message', (m: { type: 'case'; input: FuzzInput } | { type: 'beat' } | { type: 'report'; report: FuzzReport }) => {
      lastBeat = Date.now();
      if (m.type === 'case') lastInput = m.input;
      else if (m.type === 'report') finish(() => resolve(m.report));
    });
    worker.on('error', (e) => finish(() => reject(new Error(`fuzz worker for ${target}: ${errorMessage(e)}${lastInput ? `; last input ${JSON.stringify(describeInput(lastInput))}` : ''}`))));
    worker.on('exit', (code) => finish(() => reject(new Error(`fuzz worker for ${target} exited (${code}) without a report`))));
  });
}

/** A target's decode() for a format's price decoder: the records, `skipped` read at the end like the core does. */
export function priceDecoder(format: Format, ctx: Omit<DecodeContext, 'signal'>): DecoderFuzzTarget['decode'] {
  return async function* (input, signal) {
    const d = await format.decodePrices!(input, { ...ctx, signal });
    yield* d.records;
    void d.skipped?.count;
  };
}

/** A target's decode() for a format's sales decoder. */
export function salesDecoder(format: Format, ctx: Omit<DecodeContext, 'signal'>): DecoderFuzzTarget['decode'] {
  return (input, signal) => format.decodeSales!(input, { ...ctx, signal });
}

/** A failure as a test message: what, and the input to replay (`Buffer.from(base64, 'base64')`). */
export function renderFuzzFailures(r: FuzzReport): string {
  return r.failures.map((f) => `${r.target}: ${f.kind}: ${f.message}${f.input ? `\n  input (${f.input.chunks.length ? `chunks ${f.input.chunks.join(',')}` : 'one chunk'}): ${f.input.preview}\n  base64: ${f.input.base64}` : ''}`).join('\n');
}

/**
 * node:test suite: every target of `module` (a URL exporting `fuzzTargets()`) fuzzed in its own
 * worker; a test fails with the (shrunk) input to replay.
 */
export function describeDecoderFuzz(module: URL, opts: FuzzOptions = {}): void {
  describe(`decoders fuzzed with random and mutated inputs (fast-check, ${opts.numRuns ?? 1000} cases each)`, async () => {
    const mod = (await import(String(module))) as { fuzzTargets(): DecoderFuzzTarget[] | Promise<DecoderFuzzTarget[]> };
    for (const t of await mod.fuzzTargets()) {
      it(`${t.name}: records or a FormatError, within the deadline; an endless line refused at the limit`, { timeout: 180_000 }, async () => {
        const r = await fuzzDecoderIsolated(module, t.name, opts);
        assert.equal(r.failures.length, 0, renderFuzzFailures(r));
        assert.ok(r.cases >= (opts.numRuns ?? 1000), `${r.cases} cases`);
      });
    }
  });
}
