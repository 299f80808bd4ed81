import { createHash } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  CfxError,
  ErrorCodes,
  FormatError,
  type BackOffice,
  type BackOfficeCreateContext,
  type BackOfficeExport,
  type DeliverOptions,
  type DeliveryReport,
  type HeldBackSale,
  type Logger,
  type PendingExportsOptions,
  type Sale,
} from '@cfx/core/api';
import { encodeOrders } from '@cfx/format-xml';
import { commercemlOptionsSchema, createCommerceMLSource, type CommerceMLOptions } from './commerceml.js';
import { exists, readIfExists, readJson, removeIfExists, withDirLock, writeDurably, writeInPlace, writeJson } from './adapter-files.js';
import { decodeGoods, readGoodsHeader } from './goods.js';
import { atolOptionsSchema, resolveOptions, type AtolFormatOptions, type ResolvedOptions } from './options.js';
import { encodeReport, readReportHeader, reportProblem } from './report.js';

/**
 * The `1c` back office: each terminal is one of 1C's *offline cash registers* (ATOL / Frontol
 * text exchange). 1C and cfx share a folder per terminal (`exchangeDir`, `{terminal}` expanded):
 *
 *   atolimp.txt + atolimp.flg   goods file + flag, written by 1C       → pendingExports / ack
 *   atolexp.txt                 sales report, written by cfx, 1C imports → deliverSales
 *   .cfx/state.json             report and transaction numbers, batches written (cfx's own)
 *   .cfx/catalog.json           item codes of the goods files cfx published (cfx's own)
 *   attention/<batch>.json      sales held back because 1C's import would fail on them
 *
 * and, with `commerceml`, 1C's CommerceML export folder (import.xml + offers.xml → pendingExports,
 * moved to processed/ on ack: commerceml.ts).
 *
 * See docs/backoffice-1c.md.
 */

export interface OneCTerminalOptions {
  /** this terminal's folder (overrides `exchangeDir`) */
  exchangeDir?: string;
  /** report line 2 for this terminal */
  databaseId?: string;
  /** report writer / goods reader options for this terminal, laid over `format` */
  format?: AtolFormatOptions;
}

export interface OneCOptions {
  /** the exchange folder of a terminal; `{terminal}` expands to its id; relative: to the config file's dir */
  exchangeDir: string;
  /** default `atolimp.txt` */
  goodsFile?: string;
  /** default `atolimp.flg` */
  goodsFlag?: string;
  /** default `atolexp.txt` */
  reportFile?: string;
  /** 1C's "request a report" flag: deleted once a report waits for 1C (none by default) */
  reportFlag?: string;
  /** report line 2 (1C's database id); default `format.databaseId`, else `1` */
  databaseId?: string;
  /**
   * which sales are held back besides those 1C can never import (no or non-numeric code):
   * `catalog` (default) also those with a code not in the last goods file cfx published to that
   * terminal, or one 1C marked unused; `numeric`: nothing more
   */
  checkCodes?: 'catalog' | 'numeric';
  /** ATOL format options: how goods files are read and reports written (encoding, decimal, returnSign, workplace, paymentCodes, …; reportNumber / firstTransaction = where numbering starts) */
  format?: AtolFormatOptions;
  /** per terminal overrides */
  terminals?: Record<string, OneCTerminalOptions>;
  /** also publish 1C's CommerceML export (import.xml + offers.xml) from this folder (commerceml.ts) */
  commerceml?: CommerceMLOptions;
  /**
   * where collected sales go: `report` (default) the ATOL report of 1C's register exchange;
   * `orders` a CommerceML 2.08 orders file per batch (1C's exchange with a site); `auto` the
   * report, and the orders file for sales whose item codes the report cannot carry (not numbers:
   * products published from a CommerceML export have 1C's GUIDs as codes)
   */
  salesTo?: 'report' | 'orders' | 'auto';
  /** the folder orders files go to; `{terminal}` expands; relative: to the config file's dir; default the terminal's exchangeDir */
  ordersDir?: string;
}

const FILE_NAME = { type: 'string', minLength: 1, pattern: '^[^/\\\\]+$' } as const;
const DATABASE_ID = { type: 'string', pattern: '^[^;\\r\\n]*$' } as const;

/** the `configSchema["1c"]` of package.json (a test keeps the two equal) */
export const oneCOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['exchangeDir'],
  properties: {
    exchangeDir: { type: 'string', minLength: 1 },
    goodsFile: FILE_NAME,
    goodsFlag: FILE_NAME,
    reportFile: FILE_NAME,
    reportFlag: FILE_NAME,
    databaseId: DATABASE_ID,
    checkCodes: { enum: ['catalog', 'numeric'] },
    format: atolOptionsSchema,
    commerceml: commercemlOptionsSchema,
    salesTo: { enum: ['report', 'orders', 'auto'] },
    ordersDir: { type: 'string', minLength: 1 },
    terminals: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: { exchangeDir: { type: 'string', minLength: 1 }, databaseId: DATABASE_ID, format: atolOptionsSchema },
      },
    },
  },
} as const;

/** the folder of cfx's own files inside an exchange dir */
export const STATE_DIR = '.cfx';
export const ATTENTION_DIR = 'attention';
/** batches remembered in state.json (a re-delivery is of the newest one; older ids are kept for safety) */
const KEEP_BATCHES = 500;

interface HeldBackEntry {
  saleId: string;
  field: string;
  reason: string;
}

interface BatchEntry {
  /** the report that holds the batch's sales; null: every sale was held back (or went to the orders file), no report */
  report: number | null;
  /** the orders file of the batch's sales that went as CommerceML: recorded before it is written, landed once it is */
  orders?: { file: string; saleIds: string[]; landed: boolean };
  heldBack: HeldBackEntry[];
  /** the attention file of the held-back sales */
  attention?: string;
  at: string;
}

interface LastReport {
  batchId: string;
  reportNumber: number;
  databaseId: string;
  firstTransaction: number;
  nextTransaction: number;
  sales: number;
  /** false until the report file is in place (written after it) */
  landed: boolean;
}

export interface OneCState {
  version: 1;
  terminal: string;
  /** the transaction number the next report starts with */
  nextTransaction: number;
  /** the number of the last report written (0: none yet) */
  reportNumber: number;
  last?: LastReport;
  /** batch id → what became of it, oldest first */
  batches: Record<string, BatchEntry>;
}

export interface OneCCatalog {
  version: 1;
  terminal: string;
  updatedAt: string;
  /** the goods file last published */
  lastFile: { sha256: string; mode: 'full' | 'delta'; records: number };
  /** a full goods file was published (since then `codes` is all 1C has for the register); before that, unknown codes are let through */
  complete: boolean;
  /** item code → 1 sellable, 0 marked unused by 1C (an empty-name line) */
  codes: Record<string, 0 | 1>;
}

interface TerminalSetup {
  terminal: string;
  dir: string;
  goods: string;
  goodsFlag: string;
  report: string;
  reportFlag: string | undefined;
  databaseId: string;
  format: ResolvedOptions;
  formatOptions: AtolFormatOptions;
  stateFile: string;
  catalogFile: string;
  lockFile: string;
  attentionDir: string;
  ordersDir: string;
}

export interface OneCHooks {
  logger?: Logger;
}

const TERMINAL_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const BATCH_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** a copy of the file with its state byte set back to `#`: the same file before and after a register's/1C's `@` */
function normalisedSha(buf: Buffer, stateOffset: number): string {
  if (buf[stateOffset] !== 0x40) return sha256(buf);
  const c = Buffer.from(buf);
  c[stateOffset] = 0x23;
  return sha256(c);
}

interface ReportScan {
  state: '#' | '@';
  databaseId: string | undefined;
  reportNumber: number | undefined;
  /** the highest transaction number in the file (0: none) */
  maxTransaction: number;
}

/** header and highest transaction number of a report file (cp1251 or UTF-8: the digits are ASCII either way) */
function scanReport(buf: Buffer, file: string): ReportScan {
  const h = readReportHeader(buf, file);
  const text = buf.toString('latin1');
  const lines = text.split(/\r?\n/);
  let max = 0;
  for (let i = 3; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() === '') break;
    const m = /^\s*(\d{1,15})\s*;/.exec(l);
    if (m && Number(m[1]) > max) max = Number(m[1]);
  }
  const n = h.reportNumber !== undefined && /^\d{1,15}$/.test(h.reportNumber) ? Number(h.reportNumber) : undefined;
  return { state: h.state, databaseId: h.databaseId, reportNumber: n, maxTransaction: max };
}

function waitingError(t: TerminalSetup, scan: ReportScan): CfxError {
  return new CfxError(
    ErrorCodes.JOB_FAILED,
    `1C has not imported the previous report yet: ${t.report} (report No. ${scan.reportNumber ?? '?'}) still starts with "#"; the new sales of ${t.terminal} are delivered once 1C has loaded it`,
    { details: { terminal: t.terminal, report: t.report, reportNumber: scan.reportNumber, retryable: true, waitingFor: '1c-import' } },
  );
}

export function createOneCBackOffice(options: OneCOptions, ctx: Partial<BackOfficeCreateContext> & OneCHooks = {}): BackOffice {
  const bad = (msg: string) => new CfxError(ErrorCodes.CONFIG_INVALID, `back office "1c": ${msg}`);
  if (!options || typeof options.exchangeDir !== 'string' || options.exchangeDir === '') throw bad('options.exchangeDir is required (the folder 1C exchanges files with, {terminal} for one per terminal)');
  const baseDir = ctx.baseDir ?? process.cwd();
  const log = ctx.logger;
  const names = {
    goods: options.goodsFile ?? 'atolimp.txt',
    goodsFlag: options.goodsFlag ?? 'atolimp.flg',
    report: options.reportFile ?? 'atolexp.txt',
    reportFlag: options.reportFlag,
  };
  for (const [k, v] of Object.entries(names)) {
    if (v !== undefined && (typeof v !== 'string' || v === '' || /[/\\]/.test(v) || v === '.' || v === '..')) throw bad(`${k} must be a file name (no folders): ${JSON.stringify(v)}`);
  }
  const checkCodes = options.checkCodes ?? 'catalog';
  if (checkCodes !== 'catalog' && checkCodes !== 'numeric') throw bad(`checkCodes must be catalog or numeric, not ${JSON.stringify(checkCodes)}`);
  const salesTo = options.salesTo ?? 'report';
  if (!['report', 'orders', 'auto'].includes(salesTo)) throw bad(`salesTo must be report, orders or auto, not ${JSON.stringify(salesTo)}`);
  if (options.ordersDir !== undefined && (typeof options.ordersDir !== 'string' || options.ordersDir === '')) throw bad('ordersDir must be a folder');
  // the orders documents name the currency and the customer as the CommerceML source is read with
  const ordersFormat = { ...options.commerceml?.format };
  // options are checked now, not at the first delivery
  resolveOptions(options.format ?? {});
  for (const o of Object.values(options.terminals ?? {})) resolveOptions({ ...options.format, ...o.format, ...(o.databaseId !== undefined ? { databaseId: o.databaseId } : {}) });

  const cml = options.commerceml === undefined ? undefined : createCommerceMLSource(options.commerceml, { baseDir, logger: log });

  const setups = new Map<string, TerminalSetup>();
  const setup = (terminal: string): TerminalSetup => {
    let s = setups.get(terminal);
    if (s) return s;
    if (!TERMINAL_RE.test(terminal)) throw new CfxError(ErrorCodes.UNSAFE_NAME, `back office "1c": terminal id ${JSON.stringify(terminal)} cannot name a folder`);
    const per = options.terminals?.[terminal] ?? {};
    const tpl = per.exchangeDir ?? options.exchangeDir;
    const expanded = tpl.replace(/\{terminal\}/g, terminal);
    const dir = isAbsolute(expanded) ? resolve(expanded) : resolve(baseDir, expanded);
    const formatOptions: AtolFormatOptions = { ...options.format, ...per.format };
    const databaseId = per.databaseId ?? options.databaseId ?? formatOptions.databaseId ?? '1';
    const format = resolveOptions({ ...formatOptions, databaseId });
    for (const other of setups.values()) {
      if (other.dir === dir) throw bad(`terminals ${other.terminal} and ${terminal} would share the exchange folder ${dir}: each one is its own register in 1C, put {terminal} in exchangeDir`);
    }
    s = {
      terminal,
      dir,
      goods: join(dir, names.goods),
      goodsFlag: join(dir, names.goodsFlag),
      report: join(dir, names.report),
      reportFlag: names.reportFlag === undefined ? undefined : join(dir, names.reportFlag),
      databaseId,
      format,
      formatOptions,
      stateFile: join(dir, STATE_DIR, 'state.json'),
      catalogFile: join(dir, STATE_DIR, 'catalog.json'),
      lockFile: join(dir, STATE_DIR, 'lock'),
      attentionDir: join(dir, ATTENTION_DIR),
      ordersDir: options.ordersDir === undefined ? dir : resolve(baseDir, options.ordersDir.replace(/\{terminal\}/g, terminal)),
    };
    setups.set(terminal, s);
    return s;
  };

  const readState = (t: TerminalSetup): OneCState => {
    const s = readJson<OneCState>(t.stateFile);
    if (s) return { ...s, batches: s.batches ?? {} };
    return { version: 1, terminal: t.terminal, nextTransaction: t.format.firstTransaction, reportNumber: t.format.reportNumber - 1, batches: {} };
  };

  const remember = (st: OneCState, batchId: string, e: BatchEntry) => {
    delete st.batches[batchId];
    st.batches[batchId] = e;
    const ids = Object.keys(st.batches);
    for (const id of ids.slice(0, Math.max(0, ids.length - KEEP_BATCHES))) delete st.batches[id];
  };

  const publicHeld = (e: BatchEntry): HeldBackSale[] =>
    e.heldBack.map((h) => ({ saleId: h.saleId, reason: h.reason, field: h.field, ...(e.attention ? { file: e.attention } : {}) }));

  /** what 1C would refuse in a sale, or undefined */
  const problemOf = (t: TerminalSetup, sale: Sale, catalog: OneCCatalog | undefined): HeldBackEntry | undefined => {
    const p = reportProblem(sale, t.format, true);
    if (p) return { saleId: String(sale?.saleId), field: p.field, reason: `${p.message}; held back so that 1C's import of the report does not fail` };
    if (checkCodes === 'catalog' && catalog) {
      for (const [i, l] of sale.lines.entries()) {
        const known = catalog.codes[l.code];
        if (known === undefined && catalog.complete) {
          return { saleId: sale.saleId, field: 'code', reason: `line ${i + 1}: item code "${l.code}" is not in the catalog cfx published to ${t.terminal} from 1C (goods file ${catalog.lastFile.sha256.slice(0, 12)}, ${catalog.updatedAt}); 1C's import would fail on it` };
        }
        if (known === 0) {
          return { saleId: sale.saleId, field: 'code', reason: `line ${i + 1}: item code "${l.code}" is marked unused by 1C in the catalog published to ${t.terminal} (${catalog.updatedAt}); 1C's import would fail on it` };
        }
      }
    }
    return undefined;
  };

  const flagDone = (t: TerminalSetup) => {
    if (t.reportFlag && removeIfExists(t.reportFlag)) log?.info({ terminal: t.terminal, flag: t.reportFlag }, '1C asked for a report: the report is ready, flag removed');
  };

  const writeReport = (t: TerminalSetup, sales: Sale[], last: LastReport): Buffer => {
    const enc = encodeReport(sales, { ...t.formatOptions, databaseId: last.databaseId, reportNumber: last.reportNumber, firstTransaction: last.firstTransaction });
    if (enc.nextTransaction !== last.nextTransaction) {
      throw new CfxError(ErrorCodes.INTERNAL, `back office "1c": report No. ${last.reportNumber} of ${t.terminal} came out with transactions up to ${enc.nextTransaction - 1}, the state says ${last.nextTransaction - 1}`);
    }
    writeDurably(t.report, enc.bytes);
    return enc.bytes;
  };

  /** what the orders file cannot carry in a sale (no item code, a name too long for a requisite, …) */
  const ordersProblem = (sale: Sale): HeldBackEntry | undefined => {
    try {
      encodeOrders([sale], ordersFormat);
      return undefined;
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      return { saleId: String(sale?.saleId), field: e.location.field ?? 'sale', reason: `${String(e.details.reason ?? e.message)}; held back: a CommerceML orders document cannot carry it` };
    }
  };

  const writeOrders = (t: TerminalSetup, file: string, sales: Sale[]): void => {
    writeDurably(file, encodeOrders(sales, ordersFormat));
    log?.info({ terminal: t.terminal, file, sales: sales.length }, 'orders file written for 1C (CommerceML)');
  };

  /** an orders file alone (no report): intent recorded by the caller, then the file, then landed */
  const landOrders = (t: TerminalSetup, st: OneCState, entry: BatchEntry, sales: Sale[]): void => {
    if (!entry.orders) return;
    writeOrders(t, entry.orders.file, sales);
    entry.orders.landed = true;
    writeJson(t.stateFile, st);
  };

  async function deliverSales(terminal: string, sales: Sale[], opts?: DeliverOptions): Promise<DeliveryReport> {
    opts?.signal?.throwIfAborted();
    const t = setup(terminal);
    const batchId = opts?.batchId ?? `h${createHash('sha256').update(terminal).update(sales.map((s) => '\0' + s.saleId).join('')).digest('hex').slice(0, 20)}`;
    if (!BATCH_RE.test(batchId)) throw new CfxError(ErrorCodes.UNSAFE_NAME, `back office "1c": batch id ${JSON.stringify(batchId)} cannot name a file`);
    for (const s of sales) {
      if (s.terminalId !== terminal) throw new CfxError(ErrorCodes.SALE_INVALID, `back office "1c": sale ${s.saleId} is of terminal ${s.terminalId}, delivered for ${terminal}`);
    }
    return withDirLock(t.lockFile, `the 1C exchange dir ${t.dir}`, () => deliverLocked(t, sales, batchId));
  }

  function deliverLocked(t: TerminalSetup, sales: Sale[], batchId: string): DeliveryReport {
    const st = readState(t);
    const cur = readIfExists(t.report);
    // an empty file is taken as no file (1C accepts a missing one); anything else must be a report
    const scan = cur && cur.length ? scanReport(cur, t.report) : undefined;
    const known = st.batches[batchId];

    if (known) {
      if (known.orders && !known.orders.landed) {
        // recorded, then a crash or a failed call before it was in place: the very same file
        const ids = new Set(known.orders.saleIds);
        writeOrders(t, known.orders.file, sales.filter((s) => ids.has(s.saleId)));
        known.orders.landed = true;
        writeJson(t.stateFile, st);
      }
      const done = (): DeliveryReport => {
        if (scan?.state === '#') flagDone(t);
        return { heldBack: publicHeld(known) };
      };
      // delivered before (a crash, or a failed call, before cfx marked it delivered)
      const last = st.last;
      if (known.report === null || !last || known.report !== last.reportNumber || last.batchId !== batchId) return done();
      const isThis = scan !== undefined && scan.reportNumber === last.reportNumber && scan.databaseId === last.databaseId;
      if (isThis || last.landed) {
        if (!last.landed) writeJson(t.stateFile, { ...st, last: { ...last, landed: true } });
        log?.info({ terminal: t.terminal, batch: batchId, report: last.reportNumber }, 'this batch is already in a report: nothing written again');
        return done();
      }
      if (scan?.state === '#') throw waitingError(t, scan);
      // the state was written, the report never landed: write the very same report
      const held = new Set(known.heldBack.map((h) => h.saleId));
      writeReport(t, sales.filter((s) => !held.has(s.saleId)), last);
      writeJson(t.stateFile, { ...st, last: { ...last, landed: true } });
      flagDone(t);
      log?.info({ terminal: t.terminal, batch: batchId, report: last.reportNumber }, 'report written again after an interrupted delivery');
      return { heldBack: publicHeld(known) };
    }

    const catalog = checkCodes === 'catalog' && salesTo !== 'orders' ? readJson<OneCCatalog>(t.catalogFile) : undefined;
    if (checkCodes === 'catalog' && salesTo !== 'orders' && !catalog) log?.warn({ terminal: t.terminal }, 'no goods file was published to this terminal by cfx yet: item codes are only checked to be numbers');
    const deliverable: Sale[] = [];
    const toOrders: Sale[] = [];
    const heldBack: HeldBackEntry[] = [];
    const heldSales: { problem: HeldBackEntry; sale: Sale }[] = [];
    for (const s of sales) {
      const asOrder = salesTo === 'orders' || (salesTo === 'auto' && s.lines?.some((l) => typeof l.code === 'string' && l.code !== '' && !/^\d+$/.test(l.code)));
      const p = asOrder ? ordersProblem(s) : problemOf(t, s, catalog);
      if (p) {
        heldBack.push(p);
        heldSales.push({ problem: p, sale: s });
      } else if (asOrder) toOrders.push(s);
      else deliverable.push(s);
    }
    const entry: BatchEntry = { report: null, heldBack, at: new Date().toISOString() };
    if (toOrders.length) entry.orders = { file: join(t.ordersDir, `orders-${batchId}.xml`), saleIds: toOrders.map((s) => s.saleId), landed: false };
    if (heldBack.length && !(deliverable.length && scan?.state === '#')) {
      // kept aside before anything else: a held-back sale is never only in memory
      entry.attention = join(t.attentionDir, `${batchId}.json`);
      writeJson(entry.attention, {
        what: 'sales cfx did not write into the report for 1C, because 1C would refuse the whole report with them in it. Fix the cause (publish the missing item from 1C, or correct the sale) and enter them in 1C by hand, then delete this file.',
        terminal: t.terminal,
        batchId,
        heldAt: entry.at,
        sales: heldSales.map(({ problem, sale }) => ({ saleId: problem.saleId, field: problem.field, reason: problem.reason, sale })),
      });
      for (const h of heldBack) log?.warn({ terminal: t.terminal, batch: batchId, saleId: h.saleId, field: h.field, file: entry.attention }, `sale held back, needs attention: ${h.reason}`);
    }
    // 1C has not loaded the last report: nothing may touch the file (see docs/backoffice-1c.md); the batch waits whole
    if (deliverable.length && scan?.state === '#') throw waitingError(t, scan);
    if (deliverable.length === 0) {
      remember(st, batchId, entry);
      writeJson(t.stateFile, st);
      landOrders(t, st, entry, toOrders);
      return { heldBack: publicHeld(entry) };
    }

    // numbering goes on from the state, and never below what the current report file holds
    const firstTransaction = Math.max(st.nextTransaction, (scan?.maxTransaction ?? 0) + 1);
    const reportNumber = Math.max(st.reportNumber, scan?.reportNumber ?? 0) + 1;
    const enc = encodeReport(deliverable, { ...t.formatOptions, databaseId: t.databaseId, reportNumber, firstTransaction });
    const last: LastReport = { batchId, reportNumber, databaseId: t.databaseId, firstTransaction, nextTransaction: enc.nextTransaction, sales: deliverable.length, landed: false };
    entry.report = reportNumber;
    remember(st, batchId, entry);
    const next: OneCState = { ...st, nextTransaction: enc.nextTransaction, reportNumber, last };
    // 1. the intent (a crash after it writes the same files again), 2. the orders and the report, 3. landed
    writeJson(t.stateFile, next);
    if (entry.orders) writeOrders(t, entry.orders.file, toOrders);
    writeDurably(t.report, enc.bytes);
    if (entry.orders) entry.orders.landed = true;
    writeJson(t.stateFile, { ...next, last: { ...last, landed: true } });
    flagDone(t);
    log?.info({ terminal: t.terminal, batch: batchId, report: reportNumber, sales: deliverable.length, heldBack: heldBack.length, transactions: `${firstTransaction}-${enc.nextTransaction - 1}`, file: t.report }, 'sales report written for 1C');
    return { heldBack: publicHeld(entry) };
  }

  /** the codes the terminal has once `buf` (a goods file) is applied over `prev` */
  async function catalogAfter(t: TerminalSetup, buf: Buffer, prev: OneCCatalog | undefined, sha: string): Promise<OneCCatalog> {
    const d = await decodeGoods(Readable.from([buf]), { ...t.formatOptions, fileName: t.goods });
    const codes: Record<string, 0 | 1> = d.mode === 'full' || !prev ? {} : { ...prev.codes };
    let records = 0;
    for await (const r of d.records) {
      if (r.op === 'clear') {
        for (const k of Object.keys(codes)) delete codes[k];
        continue;
      }
      records++;
      if (r.op === 'upsert') codes[r.product.code] = r.product.enabled === false ? 0 : 1;
      else if (r.op === 'disable') codes[r.code] = 0;
      else delete codes[r.code];
    }
    return { version: 1, terminal: t.terminal, updatedAt: new Date().toISOString(), lastFile: { sha256: sha, mode: d.mode, records }, complete: d.mode === 'full' || prev?.complete === true, codes };
  }

  async function pendingExports(opts?: PendingExportsOptions): Promise<BackOfficeExport[]> {
    const terminals = opts?.terminals ?? Object.keys(options.terminals ?? {});
    if (terminals.length === 0) throw new CfxError(ErrorCodes.CONFIG_INVALID, 'back office "1c": no terminals to look for goods files for (set "terminals" in the office config)');
    const out: BackOfficeExport[] = [];
    for (const terminal of terminals) {
      opts?.signal?.throwIfAborted();
      const t = setup(terminal);
      if (t.reportFlag && exists(t.reportFlag)) {
        const r = readIfExists(t.report);
        if (r && r.length && scanReport(r, t.report).state === '#') flagDone(t);
      }
      if (!exists(t.goodsFlag)) continue;
      const buf = readIfExists(t.goods);
      if (!buf) {
        log?.debug({ terminal, flag: t.goodsFlag }, 'goods flag without a goods file: nothing to publish');
        continue;
      }
      let stateOffset: number | undefined;
      try {
        const h = readGoodsHeader(buf, t.goods);
        if (h.state === '@') {
          // a register (or cfx) loaded it: 1C's flag left behind is not a new export
          log?.debug({ terminal, file: t.goods }, 'the goods file was already loaded by the register (line 2 is "@"): nothing to publish');
          opts?.onWaiting?.({ terminal, fileName: t.goods, reason: 'already loaded by the register (line 2 is "@"): not published again; 1C writes "#" there with its next export' });
          continue;
        }
        stateOffset = h.stateOffset;
      } catch {
        // a broken header: handed over all the same, the core's validation quarantines it with the reason
      }
      const sha = sha256(buf);
      out.push({
        terminal,
        fileName: t.goods,
        formatId: 'atol',
        formatOptions: { ...t.formatOptions },
        open: () => Readable.from([buf]),
        ack: () => ack(t, buf, sha, stateOffset),
      });
    }
    if (cml) out.push(...(await cml.pendingExports(terminals, opts)));
    return out;
  }

  /** what a register does once it has loaded the goods file: line 2 becomes `@`, the flag goes */
  async function ack(t: TerminalSetup, buf: Buffer, sha: string, stateOffset: number | undefined): Promise<void> {
    if (stateOffset === undefined) throw new CfxError(ErrorCodes.FORMAT_INVALID, `back office "1c": ${t.goods} has no valid header; it cannot be acknowledged`);
    await withDirLock(t.lockFile, `the 1C exchange dir ${t.dir}`, async () => {
      const now = readIfExists(t.goods);
      if (!now || normalisedSha(now, stateOffset) !== sha) {
        throw new CfxError(ErrorCodes.JOB_FAILED, `back office "1c": 1C rewrote ${t.goods} while it was being published; it is not acknowledged, the new file is published on the next run`, { details: { terminal: t.terminal, retryable: true } });
      }
      // the codes the terminal will have, before 1C is told (a crash in between publishes again)
      const catalog = await catalogAfter(t, buf, readJson<OneCCatalog>(t.catalogFile), sha);
      writeJson(t.catalogFile, catalog);
      if (now[stateOffset] !== 0x40) writeInPlace(t.goods, stateOffset, Buffer.from('@', 'latin1'));
      removeIfExists(t.goodsFlag);
      log?.info({ terminal: t.terminal, file: t.goods, codes: Object.keys(catalog.codes).length }, 'goods file acknowledged to 1C ("@" on line 2, flag removed)');
    });
  }

  return { id: '1c', pendingExports, deliverSales };
}

/** the provider `activate` registers */
export function oneCBackOfficeProvider(logger?: Logger) {
  return {
    id: '1c',
    create: (options: Record<string, unknown>, ctx?: BackOfficeCreateContext) => createOneCBackOffice(options as unknown as OneCOptions, { ...ctx, ...(logger ? { logger } : {}) }),
  };
}
