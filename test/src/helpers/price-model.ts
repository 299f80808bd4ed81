// The model-based test of issue 13 ("the till sells at the office's latest prices"): fast-check
// generates sequences of office writes, 1C publishes, terminal pulls, crashes and offline periods;
// the model is the catalog the office intends; after every drained pull the terminal's catalog
// must equal it. The machinery here is transport-neutral: price-history.test.ts runs it against
// core's memory:// and against a real vsftpd.
//
// How the model stays honest (the terminal may only be blamed for what the office made knowable):
// - The office's intent is its writes applied in order. A file the office overwrites while it is
//   still on the server unpulled is *replaced* by the overwrite: the office's own earlier delta is
//   lost for the office too (a fixed-name office works that way), so the model keeps the not yet
//   pulled files as `pending` and folds them over the last drained catalog only when asked.
// - The office never writes a name that the documented order (digit runs compared as numbers) could
//   put before a file of its own still waiting on the server: if it did, no terminal could know the
//   write order. So pending files are always in write order and name order at once.
//   csv files and 1C publishes are not mixed while either waits (two producers in one inbox have
//   no common order; publish's names are the job's to choose).
// - After a crash the model cannot know which waiting files the dead terminal had already applied,
//   so until the terminal has drained again the office overwrites a waiting name only with a full
//   file (a full file gives the same catalog whether or not the one it replaced was applied).
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { PricePull, TransportError, silentLogger, type App, type FileOutcome, type Format, type Logger, type PluginHost, type PriceRecord, type Transport } from '@cfx/core';
import { createAtolFormat, createOneCBackOffice } from '@cfx/backoffice-1c';
// internals a whole-system test reaches into: the store a restarted process reopens, the publish
// job (the office side of `cfx publish`), and the fault hook the jobs call at their step boundaries
import { Store } from '../../../core/dist/store/index.js';
import { Publish } from '../../../core/dist/jobs/office-publish/publish.js';
import { setFaultHook } from '../../../core/dist/faults/index.js';

type CfxConfig = App['config'];

// ---------------------------------------------------------------------------------------------
// the office's catalog and files

export interface ModelProduct {
  name: string;
  /** integer minor units */
  price: number;
  barcodes: string[];
}
export type Catalog = Map<string, ModelProduct>;

export type Row = { op: 'upsert'; code: string; p: ModelProduct } | { op: 'delete'; code: string };

/** a csv price file as the office writes it; `mode` comes from the name (`*.full.csv`) or `#full` */
export interface CsvSpec {
  rows: Row[];
  fullLine: boolean;
  decimal: ',' | '.';
  /** `short`: `12` for 12.00, `12,5` for 12.50 (both legal), else always two decimals */
  money: 'two' | 'short';
  encoding: 'utf-8' | 'cp1251';
  /** quote every text field (RFC 4180), or none (1C writes `Сир "Звенигора"` unquoted) */
  quote: boolean;
  eol: '\n' | '\r\n';
}

/** a 1C goods export (ATOL goods file): full (`$$$DELETEALLWARES`) or changes only */
export interface GoodsSpec {
  full: boolean;
  rows: Row[];
}

/** few codes, so files update and delete each other's products */
export const CODES = Array.from({ length: 8 }, (_, i) => String(101 + i));
/** each code has its own barcodes, so the barcode index can be checked exactly */
export const barcodePool = (code: string): string[] => [1, 2, 3].map((k) => `2${code}000${k}`);
const ALL_BARCODES = CODES.flatMap(barcodePool);

/** name fragments: Ukrainian, inner quotes and commas (1C's data); no `;`/`#` (ATOL cannot hold them) */
const NAME_PARTS = ['Сир', 'Кава мелена', 'Хліб житній', 'Tea', 'Молоко 2,5%', 'Сік "Сандора"', 'Вода', 'Квиток дорослий', 'йогурт', 'Tom\'s'];
// `auto` decoding takes the first non-ASCII bytes as UTF-8 when they are valid UTF-8; a fragment
// whose cp1251 bytes happened to be valid UTF-8 would make the test, not the terminal, wrong
for (const part of NAME_PARTS) {
  if (/[^\x00-\x7f]/.test(part)) assert.ok(!isUtf8(iconv.encode(`${part};`, 'win1251')), `name fragment ${part} reads as UTF-8 in cp1251`);
}

const productArb: fc.Arbitrary<ModelProduct> = fc.record({
  name: fc.array(fc.constantFrom(...NAME_PARTS), { minLength: 1, maxLength: 2 }).map((a) => a.join(' ')),
  price: fc.oneof(fc.integer({ min: 0, max: 999_999 }), fc.constantFrom(0, 100, 1250, 35000)),
  barcodes: fc.constant<string[]>([]), // per code, below
});

const upsertArb: fc.Arbitrary<Row> = fc
  .tuple(fc.constantFrom(...CODES), productArb, fc.nat())
  .chain(([code, p]) => fc.shuffledSubarray(barcodePool(code), { maxLength: 3 }).map((barcodes): Row => ({ op: 'upsert', code, p: { ...p, barcodes } })));
const deleteArb: fc.Arbitrary<Row> = fc.constantFrom(...CODES).map((code): Row => ({ op: 'delete', code }));

/**
 * rows of a file: at least one upsert (a full file without products is refused by design, and a
 * delta written under a `.full.csv` name becomes a full file), deletes only where the mode allows
 */
const rowsArb = (deletes: boolean): fc.Arbitrary<Row[]> =>
  fc
    .tuple(upsertArb, fc.array(deletes ? fc.oneof({ weight: 3, arbitrary: upsertArb }, { weight: 1, arbitrary: deleteArb }) : upsertArb, { maxLength: 5 }), fc.nat())
    .map(([first, rest, at]) => {
      const rows = [...rest];
      rows.splice(at % (rows.length + 1), 0, first);
      return rows;
    });

export const csvSpecArb: fc.Arbitrary<CsvSpec> = fc.record({
  fullLine: fc.boolean(),
  decimal: fc.constantFrom(',' as const, '.' as const),
  money: fc.constantFrom('two' as const, 'short' as const),
  encoding: fc.constantFrom('utf-8' as const, 'cp1251' as const),
  quote: fc.boolean(),
  eol: fc.constantFrom('\n' as const, '\r\n' as const),
}).chain((s) => rowsArb(!s.fullLine).map((rows) => ({ ...s, rows })));

export const goodsSpecArb: fc.Arbitrary<GoodsSpec> = fc.boolean().chain((full) => rowsArb(!full).map((rows) => ({ full, rows })));

function money(minor: number, s: CsvSpec): string {
  const units = Math.floor(minor / 100);
  const cents = minor % 100;
  if (s.money === 'short') {
    if (cents === 0) return String(units);
    if (cents % 10 === 0) return `${units}${s.decimal}${cents / 10}`;
  }
  return `${units}${s.decimal}${String(cents).padStart(2, '0')}`;
}

const quoted = (v: string, s: CsvSpec) => (s.quote ? `"${v.replace(/"/g, '""')}"` : v);

export function encodeCsv(s: CsvSpec): Buffer {
  const withDeleted = s.rows.some((r) => r.op === 'delete');
  const lines: string[] = [];
  if (s.fullLine) lines.push('#full');
  lines.push(withDeleted ? 'code;barcodes;name;price;deleted' : 'code;barcodes;name;price');
  for (const r of s.rows) {
    if (r.op === 'delete') lines.push(`${r.code};;;;1`);
    else lines.push([r.code, r.p.barcodes.join(','), quoted(r.p.name, s), money(r.p.price, s), ...(withDeleted ? ['0'] : [])].join(';'));
  }
  const text = lines.join(s.eol) + s.eol;
  return s.encoding === 'cp1251' ? iconv.encode(text, 'win1251') : Buffer.from(text, 'utf8');
}

/** the ATOL goods file 1C would write (through the plugin's own encoder: cp1251, CRLF, 1C's layout) */
export async function encodeGoodsFile(g: GoodsSpec): Promise<Buffer> {
  const atol = createAtolFormat();
  const records: PriceRecord[] = [];
  if (g.full) records.push({ op: 'clear' });
  for (const r of g.rows) records.push(r.op === 'delete' ? { op: 'delete', code: r.code } : { op: 'upsert', product: { code: r.code, name: r.p.name, price: r.p.price, barcodes: r.p.barcodes } });
  const chunks: Buffer[] = [];
  for await (const c of atol.encodePrices!(records, g.full ? 'full' : 'delta', { options: {} })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The office's rows applied to a catalog. A csv file: a repeated code's last line wins. An ATOL goods
 * file (`atol`): Frontol's register adds each line's barcodes to the item, so a repeated code gets
 * the union of its lines' barcodes in this file (a delete in between starts it over).
 */
export function applyRows(base: Catalog, full: boolean, rows: readonly Row[], atol = false): Catalog {
  const out: Catalog = full ? new Map() : new Map(base);
  const seen = new Map<string, string[]>();
  for (const r of rows) {
    if (r.op === 'delete') {
      out.delete(r.code);
      if (seen.has(r.code)) seen.set(r.code, []);
      continue;
    }
    let barcodes = [...r.p.barcodes];
    if (atol) {
      const before = seen.get(r.code);
      if (before) barcodes = [...before, ...barcodes.filter((b) => !before.includes(b))];
      seen.set(r.code, barcodes);
    }
    out.set(r.code, { name: r.p.name, price: r.p.price, barcodes });
  }
  return out;
}

/** the documented order of price files: digit runs compare as numbers, the rest by code unit */
export function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      continue;
    }
    return x < y ? -1 : 1;
  }
  return ta.length - tb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * `a` is taken before `b` under any reading of the order rule: the issue fixes only that digit runs
 * compare as numbers, so the office avoids names whose order hinges on how the rest compares
 * (`prices.csv` vs `prices_9.csv`: `.` < `_` by code unit, `_` < `.` in ICU collation)
 */
export function surelyBefore(a: string, b: string): boolean {
  return naturalCompare(a, b) < 0 && a.localeCompare(b, 'en', { numeric: true }) < 0;
}

export const isFullName = (name: string) => /\.full\.csv$/i.test(name);

// ---------------------------------------------------------------------------------------------
// the model

interface PendingFile {
  /** the remote name (csv), or `goods#<n>` for a publish (its name is the publish job's) */
  name: string;
  kind: 'csv' | 'goods';
  full: boolean;
  rows: Row[];
  flagged: boolean;
}

export interface ModelSetup {
  /**
   * contents the office writes again and again ("repeated content": the same bytes as an earlier
   * file). A pool chosen per sequence, not "the n-th earlier file": removing a command while
   * shrinking then does not change what the others write, so failures shrink well
   */
  csvPool: CsvSpec[];
  goodsPool: GoodsSpec[];
  /** how the office names csv files: one style, or both (then only where their order is clear) */
  naming: 'fixed' | 'numbered' | 'mixed';
  /** the office marks each csv file complete with a flag (`.done` after the name, or `.flg` for the extension) */
  flags: 'none' | 'done' | 'flg';
  /** the first number of numbered names (near a digit-count boundary, so 9→10 and 99→100 happen) */
  firstNumber: number;
}

export class Model {
  /** the catalog as of the last drained pull */
  drained: Catalog = new Map();
  /** files written since, in write order (= documented order: see the preconditions) */
  pending: PendingFile[] = [];
  /** the bytes of every csv file and goods export written (to tell a repeat in the story) */
  readonly written = new Set<string>();
  nextNumber: number;
  publishes = 0;
  /** the terminal died and has not drained since: what it applied of `pending` is unknown */
  crashed = false;
  /** what happened in this run, for the failure message */
  readonly trace: string[] = [];

  constructor(readonly setup: ModelSetup) {
    this.nextNumber = setup.firstNumber;
  }

  /** the office's intended catalog: the drained one with every waiting file applied in order */
  intended(): Catalog {
    let c = this.drained;
    for (const f of this.pending) c = applyRows(c, f.full, f.rows, f.kind === 'goods');
    return c;
  }

  /** may the office write this csv name now? (see the header comment) */
  canWriteCsv(name: string, full: boolean): boolean {
    if (this.pending.some((p) => p.kind === 'goods')) return false;
    for (const p of this.pending) if (p.name !== name && !surelyBefore(p.name, name)) return false;
    if (this.crashed && !full && this.pending.some((p) => p.name === name)) return false;
    return true;
  }

  canPublish(): boolean {
    return !this.pending.some((p) => p.kind === 'csv');
  }

  log(s: string): void {
    this.trace.push(s);
  }
}

// ---------------------------------------------------------------------------------------------
// the system under test: one terminal (its data dir, a PricePull, a store) and the office

/** thrown by the fault hook: the process "dies" at that step */
export class ModelCrash extends Error {
  constructor(readonly point: string) {
    super(`terminal crashed at ${point}`);
  }
}

export const CRASH_POINTS = ['prices.pull:staged', 'prices.pull:applied', 'prices.pull:archived', 'prices.pull:flag-deleted', 'prices.pull:deleted'] as const;

/**
 * what the runs did, shrinking included (printed as diagnostics: a crash command whose point is
 * never reached tests nothing, and today's job has no fault points yet)
 */
export const stats = { runs: 0, commands: new Map<string, number>(), crashesFired: 0, crashesNotReached: 0, filesApplied: 0, drains: 0 };
export function resetStats(): void {
  Object.assign(stats, { runs: 0, commands: new Map<string, number>(), crashesFired: 0, crashesNotReached: 0, filesApplied: 0, drains: 0 });
}
const count = (k: string) => stats.commands.set(k, (stats.commands.get(k) ?? 0) + 1);

export interface Fixture {
  /** the host the transports and formats come from (plugins loaded, guard and all) */
  host: PluginHost;
  /** a terminal config to derive from: data dir and inbox are set per run */
  config: CfxConfig;
  /** the server URL (memory://<volume> or ftp://…) for a new run */
  serverUrl(): string;
  /** a remote base dir for a new run (its inbox is `<base>/box-1`) */
  remoteBase(): string;
  /** after a run: forget its server state (memory volumes) */
  dispose?(serverUrl: string): void;
  logger?: Logger;
}

const TERMINAL = 'box-1';

export class Sut {
  private store: Store | undefined;
  private pull: PricePull | undefined;
  private transport: Transport | undefined;
  private office: Transport | undefined;
  private publish: Publish | undefined;
  private officeStore: Store | undefined;
  private dead = false;
  readonly dir: string;
  readonly config: CfxConfig;
  readonly officeConfig: CfxConfig;
  readonly inbox: string;
  private format: Format | undefined;
  private readonly logger: Logger;

  constructor(
    private readonly fx: Fixture,
    readonly setup: ModelSetup,
    private readonly serverUrl: string,
    remoteBase: string,
  ) {
    // tmpfs where there is one: every apply is fsynced (synchronous=FULL, staged files) and
    // hundreds of sequences would spend their time there; no verdict depends on the disk
    const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    this.dir = mkdtempSync(join(root, 'cfx-model-'));
    this.logger = fx.logger ?? silentLogger();
    const prices = { ...fx.config.prices, dir: `${remoteBase}/{terminal}`, stableMs: 0 };
    this.config = { ...fx.config, role: 'terminal', terminal: TERMINAL, dataDir: join(this.dir, 'terminal'), server: serverUrl, prices } as CfxConfig;
    this.officeConfig = { ...fx.config, role: 'office', terminals: [TERMINAL], dataDir: join(this.dir, 'office'), server: serverUrl, prices } as CfxConfig;
    this.inbox = `${remoteBase}/${TERMINAL}`;
  }

  private newTransport(): Promise<Transport> {
    return this.fx.host.transport({ url: new URL(this.serverUrl), options: this.config.serverOptions, timeoutMs: this.config.timeoutMs, logger: this.logger });
  }

  /** the terminal process starts: opens its store and connection (a restart after a crash too) */
  async start(): Promise<void> {
    this.dead = false;
    this.store = Store.open(this.config.dataDir);
    const inner = await this.newTransport();
    // a dead process makes no more calls, even if the crash was caught somewhere inside the job
    const alive = <T>(f: () => T): T => {
      if (this.dead) throw new ModelCrash('(dead)');
      return f();
    };
    this.transport = {
      list: (d, o) => alive(() => inner.list(d, o)),
      read: (p, o) => alive(() => inner.read(p, o)),
      write: (p, b, o) => alive(() => inner.write(p, b, o)),
      rename: (a, b, o) => alive(() => inner.rename(a, b, o)),
      delete: (p, o) => alive(() => inner.delete(p, o)),
      mkdir: (p, o) => alive(() => inner.mkdir(p, o)),
      close: () => inner.close(),
    };
    this.format ??= await this.fx.host.format(this.config.prices.format, this.config.prices.options);
    this.pull = new PricePull({ config: this.config, store: this.store, transport: this.transport, format: this.format, logger: this.logger });
  }

  /** the process dies: nothing of it survives but its data dir (and what it did on the server) */
  async kill(): Promise<void> {
    this.dead = true;
    this.pull = undefined;
    this.store?.close();
    this.store = undefined;
    await this.transport?.close().catch(() => undefined);
    this.transport = undefined;
  }

  get running(): boolean {
    return this.pull !== undefined;
  }

  /**
   * Cycles until nothing waits (a new unflagged file needs two listings; `prices.stable` is 0, so
   * no clock decides anything). With `crashAt`, the fault hook throws at the nth time the job
   * reaches that point: the result is then 'crashed' and the process is dead.
   */
  async drain(crashAt?: { point: string; nth: number }): Promise<{ result: 'drained'; files: FileOutcome[] } | { result: 'crashed'; point: string; files: FileOutcome[] }> {
    const files: FileOutcome[] = [];
    let seen = 0;
    if (crashAt) {
      setFaultHook({
        at: (point) => {
          if (this.dead) throw new ModelCrash(point);
          if (point !== crashAt.point) return;
          if (seen++ === crashAt.nth) {
            this.dead = true;
            throw new ModelCrash(point);
          }
        },
      });
    }
    try {
      for (let i = 0; i < 12; i++) {
        const r = await this.pull!.cycle();
        files.push(...r.files);
        if (r.waiting.length === 0) return { result: 'drained', files };
        if (i === 11) throw new Error(`the inbox did not drain in 12 cycles: still waiting ${JSON.stringify(r.waiting)}`);
      }
      throw new Error('unreachable');
    } catch (e) {
      if (!this.dead) throw e;
      await this.kill();
      return { result: 'crashed', point: e instanceof ModelCrash ? e.point : `${crashAt?.point} (surfaced as: ${(e as Error).message})`, files };
    } finally {
      if (crashAt) setFaultHook(undefined);
    }
  }

  catalog(): Catalog {
    const out: Catalog = new Map();
    for (const p of this.store!.listProducts({ limit: 1_000_000 })) out.set(p.code, { name: p.name, price: p.price, barcodes: p.barcodes });
    return out;
  }

  /** code owning a barcode in the terminal's lookup index */
  barcodeOwners(): Map<string, string | undefined> {
    return new Map(ALL_BARCODES.map((b) => [b, this.store!.findByBarcode(b)?.code]));
  }

  private async officeTransport(): Promise<Transport> {
    this.office ??= await this.newTransport();
    return this.office;
  }

  /** files (not dirs) left in the inbox */
  async remoteFiles(): Promise<string[]> {
    const t = await this.officeTransport();
    try {
      return (await t.list(this.inbox)).filter((e) => e.type === 'file').map((e) => e.name).sort();
    } catch (e) {
      if (e instanceof TransportError && e.kind === 'NotFound') return [];
      throw e;
    }
  }

  /** the office writes a price file the careful way: old flag away, temp name + rename, then its flag */
  async officeWrite(name: string, bytes: Buffer): Promise<void> {
    const t = await this.officeTransport();
    await t.mkdir(this.inbox);
    const flag = flagName(name, this.setup.flags);
    if (flag) await ignoreNotFound(t.delete(posix.join(this.inbox, flag)));
    const tmp = posix.join(this.inbox, `.${name}.part`);
    await t.write(tmp, bytes);
    await t.rename(tmp, posix.join(this.inbox, name));
    if (flag) await t.write(posix.join(this.inbox, flag), Buffer.alloc(0));
  }

  /** 1C writes its goods file and flag into the exchange folder; the office's publish job runs */
  async oneCPublish(goods: Buffer): Promise<string[]> {
    const exchange = join(this.dir, '1c', TERMINAL);
    mkdirSync(exchange, { recursive: true });
    writeFileSync(join(exchange, 'atolimp.txt'), goods);
    writeFileSync(join(exchange, 'atolimp.flg'), '');
    if (!this.publish) {
      this.officeStore = Store.open(this.officeConfig.dataDir);
      const office = await this.officeTransport();
      this.publish = new Publish({
        config: this.officeConfig,
        store: this.officeStore,
        transport: async () => office,
        format: (id, options) => this.fx.host.format(id, options),
        backoffice: createOneCBackOffice({ exchangeDir: join(this.dir, '1c', '{terminal}') }, { logger: this.logger }),
        logger: this.logger,
      });
    }
    const r = await this.publish.cycle();
    const names: string[] = [];
    for (const o of r.outcomes) {
      if (o.result !== 'published') throw new Error(`publish did not publish: ${JSON.stringify(o)}`);
      names.push(o.name);
    }
    if (names.length !== 1) throw new Error(`publish published ${names.length} files, expected 1`);
    return names;
  }

  async close(): Promise<void> {
    await this.kill();
    this.officeStore?.close();
    await this.office?.close().catch(() => undefined);
    this.fx.dispose?.(this.serverUrl);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function flagName(name: string, style: ModelSetup['flags']): string | undefined {
  if (style === 'done') return `${name}.done`;
  if (style === 'flg') return name.replace(/\.[^.]*$/, '') + '.flg';
  return undefined;
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof TransportError && e.kind === 'NotFound')) throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// checking

const showProduct = (p: ModelProduct | undefined) => (p ? `${JSON.stringify(p.name)} ${(p.price / 100).toFixed(2)} [${p.barcodes.join(',')}]` : '—');

export const showRows = (rows: readonly Row[]) => rows.map((r) => (r.op === 'delete' ? `-${r.code}` : `${r.code}=${showProduct(r.p)}`)).join('; ');

/** the terminal's catalog (products, and the barcode index) must be the office's intended one */
function checkCatalog(m: Model, sut: Sut, files: FileOutcome[]): void {
  const want = m.intended();
  const got = sut.catalog();
  const diffs: string[] = [];
  for (const code of [...new Set([...want.keys(), ...got.keys()])].sort()) {
    const w = want.get(code);
    const g = got.get(code);
    if (JSON.stringify(w) !== JSON.stringify(g)) diffs.push(`  ${code}: office intends ${showProduct(w)}, terminal has ${showProduct(g)}`);
  }
  const owners = sut.barcodeOwners();
  for (const [b, owner] of owners) {
    const w = [...want].find(([, p]) => p.barcodes.includes(b))?.[0];
    if (w !== owner) diffs.push(`  barcode ${b}: office intends ${w ?? '—'}, the terminal's lookup finds ${owner ?? '—'}`);
  }
  if (diffs.length) {
    const last = files.map((f) => `${f.name}: ${f.result}${f.result === 'applied' ? ` (${f.mode}, ${f.records} records)` : ''}`).join(', ');
    throw new Error(`the terminal's catalog is not the office's intended one after a drained pull:\n${diffs.join('\n')}\nthe last pull took: ${last || 'nothing'}\nwhat happened:\n${m.trace.map((t) => `  ${t}`).join('\n')}`);
  }
}

async function drainedChecks(m: Model, sut: Sut, files: FileOutcome[]): Promise<void> {
  const quarantined = files.filter((f) => f.result === 'quarantined');
  if (quarantined.length) throw new Error(`the terminal quarantined files the office wrote correctly: ${JSON.stringify(quarantined.map((f) => (f as { reason: unknown }).reason))}\nwhat happened:\n${m.trace.map((t) => `  ${t}`).join('\n')}`);
  checkCatalog(m, sut, files);
  const left = await sut.remoteFiles();
  if (left.length) throw new Error(`after a drained pull the inbox still holds ${JSON.stringify(left)}\nwhat happened:\n${m.trace.map((t) => `  ${t}`).join('\n')}`);
  m.drained = m.intended();
  m.pending = [];
  m.crashed = false;
}

// ---------------------------------------------------------------------------------------------
// commands

type Cmd = fc.AsyncCommand<Model, Sut, false>;

/** what a csv write command was generated with; the name is resolved against the model */
export interface CsvWrite {
  /** the name style when the sequence's office mixes both */
  naming: 'fixed' | 'numbered';
  /** the name says full (`prices.full.csv`, `prices_10.full.csv`) */
  fullName: boolean;
  /** content from the sequence's pool (index), or a fresh one */
  content: { pool: number } | { fresh: CsvSpec };
  /** numbered: skip to the next 9, 99, 999 … so the following write crosses a digit-count boundary */
  toBoundary: boolean;
}

export interface Publish1C {
  content: { pool: number } | { fresh: GoodsSpec };
}

const fromPool = <T>(pool: readonly T[], c: { pool: number } | { fresh: T }): T => ('fresh' in c ? c.fresh : pool[c.pool % pool.length]!);

function resolveCsv(m: Readonly<Model>, w: CsvWrite): { name: string; bytes: Buffer; spec: CsvSpec; repeated: boolean; number: number | undefined } {
  const spec = fromPool(m.setup.csvPool, w.content);
  const bytes = encodeCsv(spec);
  const ext = w.fullName ? '.full.csv' : '.csv';
  let number: number | undefined;
  let name = `prices${ext}`;
  if ((m.setup.naming === 'mixed' ? w.naming : m.setup.naming) === 'numbered') {
    number = m.nextNumber;
    if (w.toBoundary) {
      let b = 9;
      while (b < number) b = b * 10 + 9;
      number = b;
    }
    name = `prices_${number}${ext}`;
  }
  return { name, bytes, spec, repeated: m.written.has(bytes.toString('hex')), number };
}

const csvFull = (name: string, spec: CsvSpec) => isFullName(name) || spec.fullLine;

async function doCsvWrite(m: Model, sut: Sut, w: CsvWrite): Promise<boolean> {
  const r = resolveCsv(m, w);
  const full = csvFull(r.name, r.spec);
  if (!m.canWriteCsv(r.name, full)) return false;
  await sut.officeWrite(r.name, r.bytes);
  if (r.number !== undefined) m.nextNumber = r.number + 1;
  m.written.add(r.bytes.toString('hex'));
  const file: PendingFile = { name: r.name, kind: 'csv', full, rows: r.spec.rows, flagged: m.setup.flags !== 'none' };
  const at = m.pending.findIndex((p) => p.name === r.name);
  const overwrote = at >= 0;
  if (overwrote) m.pending[at] = file;
  else m.pending.push(file);
  m.log(`office writes ${r.name} (${full ? 'full' : 'delta'}${r.repeated ? ', the bytes of an earlier file' : ''}${overwrote ? ', over the waiting one' : ''}): ${showRows(r.spec.rows)}`);
  count(`write ${r.number === undefined ? 'fixed' : 'numbered'}${r.repeated ? ' repeat' : ''}`);
  return true;
}

async function doPublish(m: Model, sut: Sut, p: Publish1C): Promise<boolean> {
  if (!m.canPublish()) return false;
  const spec = fromPool(m.setup.goodsPool, p.content);
  const bytes = await encodeGoodsFile(spec);
  const old = m.written.has(bytes.toString('hex'));
  const names = await sut.oneCPublish(bytes);
  m.written.add(bytes.toString('hex'));
  m.publishes++;
  m.pending.push({ name: `goods#${m.publishes}`, kind: 'goods', full: spec.full, rows: spec.rows, flagged: false });
  m.log(`1C exports goods (${spec.full ? 'full' : 'changes'}${old ? ', the same file as an earlier export' : ''}), cfx publish uploads ${names.join(', ')}: ${showRows(spec.rows)}`);
  count(`publish 1c${old ? ' repeat' : ''}`);
  return true;
}

const showCsvSpec = (c: CsvSpec) => `{${c.fullLine ? '#full ' : ''}${c.encoding} ${showRows(c.rows)}}`;
const showGoodsSpec = (g: GoodsSpec) => `{${g.full ? 'full' : 'changes'} ${showRows(g.rows)}}`;
const showContent = <T>(c: { pool: number } | { fresh: T }, show: (t: T) => string) => ('fresh' in c ? show(c.fresh) : `pool#${c.pool}`);
const showCsvWrite = (w: CsvWrite) =>
  `${w.naming}-if-mixed${w.toBoundary ? ' →boundary-if-numbered' : ''}${w.fullName ? ' .full.csv' : ''} ${showContent(w.content, showCsvSpec)}`;

class OfficeWritesCsv implements Cmd {
  constructor(readonly w: CsvWrite) {}
  check(m: Readonly<Model>): boolean {
    const r = resolveCsv(m, this.w);
    return m.canWriteCsv(r.name, csvFull(r.name, r.spec));
  }
  async run(m: Model, sut: Sut): Promise<void> {
    await doCsvWrite(m, sut, this.w);
  }
  toString(): string {
    return `OfficeWritesCsv(${showCsvWrite(this.w)})`;
  }
}

class OfficePublishes1C implements Cmd {
  constructor(readonly p: Publish1C) {}
  check(m: Readonly<Model>): boolean {
    return m.canPublish();
  }
  async run(m: Model, sut: Sut): Promise<void> {
    await doPublish(m, sut, this.p);
  }
  toString(): string {
    return `OfficePublishes1C(${showContent(this.p.content, showGoodsSpec)})`;
  }
}

/** several office writes in a row, the terminal not pulling (writes the model does not allow then are left out) */
class TerminalOffline implements Cmd {
  constructor(readonly writes: ({ csv: CsvWrite } | { publish: Publish1C })[]) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, sut: Sut): Promise<void> {
    m.log(`terminal offline for ${this.writes.length} office actions`);
    count('offline');
    for (const w of this.writes) {
      if ('csv' in w) await doCsvWrite(m, sut, w.csv);
      else await doPublish(m, sut, w.publish);
    }
  }
  toString(): string {
    return `TerminalOffline[${this.writes.map((w) => ('csv' in w ? `csv ${showCsvWrite(w.csv)}` : `publish`)).join(' | ')}]`;
  }
}

async function restartIfDead(m: Model, sut: Sut): Promise<void> {
  if (sut.running) return;
  await sut.start();
  m.log('terminal restarts (a new process: store reopened from its data dir, a new connection)');
}

class TerminalPulls implements Cmd {
  check(): boolean {
    return true;
  }
  async run(m: Model, sut: Sut): Promise<void> {
    await restartIfDead(m, sut);
    const r = await sut.drain();
    stats.drains++;
    stats.filesApplied += r.files.filter((f) => f.result === 'applied').length;
    m.log(`terminal pulls until drained: ${r.files.map((f) => `${f.name} ${f.result}`).join(', ') || 'nothing'}`);
    count('pull');
    await drainedChecks(m, sut, r.files);
  }
  toString(): string {
    return 'TerminalPulls';
  }
}

class TerminalCrashes implements Cmd {
  constructor(
    readonly point: (typeof CRASH_POINTS)[number],
    readonly nth: number,
  ) {}
  /** armed only where it can fire: something waits, and a flag to delete for `flag-deleted` */
  check(m: Readonly<Model>): boolean {
    return m.pending.length > this.nth && (this.point !== 'prices.pull:flag-deleted' || m.pending.some((p) => p.flagged));
  }
  async run(m: Model, sut: Sut): Promise<void> {
    await restartIfDead(m, sut);
    const r = await sut.drain({ point: this.point, nth: this.nth });
    count('crash');
    if (r.result === 'crashed') {
      stats.crashesFired++;
      m.crashed = true;
      m.log(`terminal crashes at ${r.point} (#${this.nth + 1}) after: ${r.files.map((f) => `${f.name} ${f.result}`).join(', ') || 'nothing'}`);
      return;
    }
    // the point was not reached (fewer files, no flags, or the job has no such point yet): a plain pull
    stats.crashesNotReached++;
    stats.drains++;
    m.log(`terminal pulls (a crash at ${this.point} #${this.nth + 1} was armed, never reached): ${r.files.map((f) => `${f.name} ${f.result}`).join(', ') || 'nothing'}`);
    await drainedChecks(m, sut, r.files);
  }
  toString(): string {
    return `TerminalCrashes(${this.point}#${this.nth + 1})`;
  }
}

const csvWriteArb: fc.Arbitrary<CsvWrite> = fc.record({
  naming: fc.constantFrom('fixed' as const, 'numbered' as const),
  fullName: fc.boolean(),
  content: fc.oneof({ weight: 2, arbitrary: fc.nat().map((pool) => ({ pool })) }, { weight: 1, arbitrary: csvSpecArb.map((fresh) => ({ fresh })) }),
  toBoundary: fc.boolean(),
});
const publishArb: fc.Arbitrary<Publish1C> = fc.record({
  content: fc.oneof({ weight: 2, arbitrary: fc.nat().map((pool) => ({ pool })) }, { weight: 1, arbitrary: goodsSpecArb.map((fresh) => ({ fresh })) }),
});

export interface ModelOptions {
  /** include 1C publishes (the office side's publish job) */
  publish: boolean;
  maxCommands: number;
}

export function commandsArb(o: ModelOptions): fc.Arbitrary<Iterable<Cmd>> {
  const office = o.publish ? fc.oneof({ weight: 4, arbitrary: csvWriteArb.map((csv) => ({ csv })) }, { weight: 1, arbitrary: publishArb.map((publish) => ({ publish })) }) : csvWriteArb.map((csv) => ({ csv }));
  const arbs: fc.Arbitrary<Cmd>[] = [
    csvWriteArb.map((w) => new OfficeWritesCsv(w)),
    csvWriteArb.map((w) => new OfficeWritesCsv(w)),
    fc.constant(new TerminalPulls()),
    fc.constant(new TerminalPulls()),
    fc.tuple(fc.constantFrom(...CRASH_POINTS), fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) })).map(([p, n]) => new TerminalCrashes(p, n)),
    fc.tuple(fc.constantFrom(...CRASH_POINTS), fc.constant(0)).map(([p, n]) => new TerminalCrashes(p, n)),
    fc.array(office, { minLength: 2, maxLength: 4 }).map((w) => new TerminalOffline(w)),
  ];
  if (o.publish) arbs.push(publishArb.map((p) => new OfficePublishes1C(p)));
  // 'large': sequences of tens of commands (the default size gives a handful)
  return fc.commands(arbs, { maxCommands: o.maxCommands, size: 'large', ...(process.env.CFX_MODEL_REPLAY ? { replayPath: process.env.CFX_MODEL_REPLAY } : {}) });
}

export const setupArb: fc.Arbitrary<ModelSetup> = fc
  .record({
    csvPool: fc.array(csvSpecArb, { minLength: 1, maxLength: 4 }),
    goodsPool: fc.array(goodsSpecArb, { minLength: 1, maxLength: 3 }),
    naming: fc.constantFrom('fixed' as const, 'numbered' as const, 'mixed' as const),
    flags: fc.constantFrom('none' as const, 'none' as const, 'done' as const, 'flg' as const),
    firstNumber: fc.constantFrom(1, 7, 98, 997),
  })
  // a readable counterexample: the pools as rows, not as JSON
  .map((s) =>
    Object.assign(s, {
      [fc.toStringMethod]: () =>
        `Setup(${s.naming} names, flags ${s.flags}, numbers from ${s.firstNumber}; csv pool ${s.csvPool.map((c, i) => `#${i} ${showCsvSpec(c)}`).join(' ')}; 1C pool ${s.goodsPool.map((g, i) => `#${i} ${showGoodsSpec(g)}`).join(' ')})`,
    }),
  );

/**
 * Runs the property: `runs` sequences, each on a fresh terminal and office. A failure throws
 * fast-check's report (seed, path, the shrunk command sequence, and the error with what happened).
 * CFX_MODEL_SEED (+ CFX_MODEL_PATH, CFX_MODEL_REPLAY) re-run a reported failure; CFX_MODEL_RUNS
 * overrides the number of sequences.
 */
export async function runPriceModel(fx: Fixture, o: ModelOptions & { runs: number }): Promise<void> {
  const seed = process.env.CFX_MODEL_SEED ? Number(process.env.CFX_MODEL_SEED) : undefined;
  const runs = process.env.CFX_MODEL_RUNS ? Number(process.env.CFX_MODEL_RUNS) : o.runs;
  const property = fc.asyncProperty(setupArb, commandsArb(o), async (setup, cmds) => {
    stats.runs++;
    const sut = new Sut(fx, setup, fx.serverUrl(), fx.remoteBase());
    const model = new Model(setup);
    try {
      await sut.start();
      await fc.asyncModelRun(() => ({ model, real: sut }), cmds);
      // every sequence ends with a drained pull, so every one is checked at least once
      model.log('(end of the sequence)');
      await new TerminalPulls().run(model, sut);
    } finally {
      setFaultHook(undefined);
      await sut.close();
    }
  });
  await fc.assert(property, {
    numRuns: runs,
    // the report names seed, path and the shrunk sequence; the error (cause) says what happened in
    // that run. Verbose would add every intermediate failure of the shrink: pages of noise
    verbose: fc.VerbosityLevel.None,
    // the error in the message itself: some reporters (TAP) drop an error's `cause`
    includeErrorInReport: true,
    ...(seed !== undefined ? { seed } : {}),
    ...(process.env.CFX_MODEL_PATH ? { path: process.env.CFX_MODEL_PATH } : {}),
  });
}
