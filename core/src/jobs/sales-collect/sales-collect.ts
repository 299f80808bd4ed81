import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import {
  CfxError,
  ErrorCodes,
  TransportError,
  errorMessage,
  isCfxError,
  type BackOffice,
  type DeliveryReport,
  type Format,
  type HeldBackSale,
  type Logger,
  type RejectedPart,
  type RemoteEntry,
  type Sale,
  type Transport,
  coreServices,
} from '../../api/index.js';
import type { App } from '../../app/app.js';
import { dataPaths, localDate } from '../../app/paths.js';
import { TERMINAL_ID_PATTERN } from '../../config/schema.js';
import type { CfxConfig } from '../../config/types.js';
import type { CollectInput, DeliveryBatch, Store } from '../../store/index.js';
import { fault } from '../../faults/index.js';
import { archiveFile, deleteRemote, downloadToStaging, formatProblem, isOverLimit, overLimitReason, quarantineFile } from '../shared/file-steps.js';
import { expandTemplate, isMarkerName, isTempName, remotePath, safeLocalName } from '../shared/names.js';
import { UnsafeNames } from '../shared/unsafe-names.js';
import { checkSale } from '../../sales/sale-check.js';
import { isShiftFileName, parseShiftFile, SHIFT_MAX_BYTES } from '../../fleet/files.js';
import { sha256Hex } from '../../store/rows.js';
import { FleetCollect, type FleetCycleResult } from './fleet.js';

/**
 * The most files one cycle takes from one dir (the first by name; the rest next cycle): a cycle,
 * and its run record listing each file, stay bounded however big a terminal's backlog is.
 */
export const MAX_FILES_PER_DIR = 1000;

/** a dir the office collects from; `terminal` when `sales.dir` holds `{terminal}` (only that terminal's files belong there) */
export interface SalesDir {
  dir: string;
  terminal?: string;
}

/** a part of a collected file the format set aside (DecodeContext.reject), quarantined on its own */
export interface RejectedPartOutcome {
  part: string;
  reason: Record<string, unknown>;
  quarantined: string;
}

export type CollectFileOutcome =
  /** a shift close (`*.shift.json`, docs/fleet.md): stored, or already stored (a repeat) */
  | { name: string; dir: string; result: 'shift'; terminal: string; shift: number; stored: boolean; bytes: number; archived: string }
  | { name: string; dir: string; result: 'collected'; sales: number; stored: number; duplicates: number; bytes: number; archived: string; rejectedParts?: RejectedPartOutcome[] }
  | { name: string; dir: string; result: 'quarantined'; reason: Record<string, unknown>; quarantined: string }
  /** not complete yet (FORMAT_INCOMPLETE): left on the server, read again on the next cycle */
  | { name: string; dir: string; result: 'waiting'; reason: string };

export interface CollectResult {
  /** the remote dirs listed */
  dirs: string[];
  files: CollectFileOutcome[];
  /** sales read from the files taken */
  sales: number;
  /** new sales stored in the office inbox */
  stored: number;
  /** sales already collected (a resend, or a file seen again after a crash) */
  duplicates: number;
  quarantined: number;
  bytes: number;
  /** shift closes stored (docs/fleet.md); absent when none */
  shifts?: number;
}

export interface DeliveredBatch {
  batchId: string;
  terminal: string;
  kind: 'new' | 'redeliver';
  sales: number;
  /** a batch left 'assigned' by an earlier run (crash, failed call), delivered again under its id */
  resumed: boolean;
  /** sales of the batch the back office held back as needing attention (a quarantine row each); absent when none */
  heldBack?: number;
}

export interface DeliverResult {
  backoffice: string;
  batches: DeliveredBatch[];
  sales: number;
  /** sales held back by the back office, over all batches; absent when none */
  heldBack?: number;
}

/** the job name of the quarantine rows of sales a back office held back */
export const HELD_BACK_JOB = 'sales.deliver';

export interface SalesCollectDeps {
  config: CfxConfig;
  store: Store;
  transport: Transport;
  format: Format;
  logger: Logger;
  /** where collected sales go; needed by deliver()/redeliver() only */
  backoffice?: BackOffice;
  /** aborts the remote call or delivery in flight */
  signal?: AbortSignal;
  /** once aborted, no new file is taken and no new batch delivered; the one in flight finishes */
  stop?: AbortSignal;
}

const TERMINAL_RE = new RegExp(TERMINAL_ID_PATTERN);
const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}/;

/** JSON with keys sorted at every level: the same sale always gives the same text (and sha256). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Sales collect for the office role. `cycle()` lists the sales dir, and for each complete file
 * (terminals upload under a temp name and rename, so every other name is complete): download to
 * staging (fsync, sha256) → decode → store every sale in ONE transaction keyed by (terminal, saleId)
 * → archive → delete on the server. Every step is safe to repeat: a crash anywhere is finished by
 * the next cycle, whose store step finds the sales already collected and stores nothing twice.
 *
 * `deliver()` hands the collected sales to the back office exactly once: a batch is created with
 * its sales in one transaction, delivered under its id (adapters are idempotent per batch id), then
 * marked delivered; batches a crash left behind are delivered again, same id, before new ones.
 */
export class SalesCollect {
  /** names of the listings that are not plain names: skipped, warned about once, counted in status */
  private readonly unsafe: UnsafeNames;

  constructor(private readonly deps: SalesCollectDeps) {
    this.unsafe = new UnsafeNames(deps.store.kv, deps.logger, 'sales.collect');
  }

  /** the remote dirs: `sales.dir`, or one per configured terminal when it holds `{terminal}` */
  get dirs(): string[] {
    return this.salesDirs.map((d) => d.dir);
  }

  /**
   * One dir per terminal when `sales.dir` holds `{terminal}`: a file found there must be that
   * terminal's (its name and its content). A shared dir cannot tell the terminals apart: a file's
   * own name and content are all there is (docs/security.md).
   */
  get salesDirs(): SalesDir[] {
    const { config } = this.deps;
    const tpl = config.sales.dir;
    if (!tpl.includes('{terminal}')) return [{ dir: tpl }];
    return config.terminals.map((terminal) => ({ dir: expandTemplate(tpl, { terminal }), terminal }));
  }

  /** Complete sale files in one dir, by name, at most MAX_FILES_PER_DIR. A missing dir is an empty one. */
  async listReady(dir: string): Promise<RemoteEntry[]> {
    const { transport, signal } = this.deps;
    let entries: RemoteEntry[];
    try {
      entries = await transport.list(dir, { signal });
    } catch (e) {
      if (e instanceof TransportError && e.kind === 'NotFound') return [];
      throw e;
    }
    return this.unsafe
      .filter(dir, entries.filter((e) => e.type === 'file'))
      // a status file is read by the fleet step, never taken as a sale (status.dir may be the sales dir)
      .filter((e) => e.name !== 'rejected' && !isTempName(e.name) && !isMarkerName(e.name) && !e.name.endsWith('.status.json'))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .slice(0, MAX_FILES_PER_DIR);
  }

  /** One collect cycle over every dir. Network errors propagate (the next cycle retries); bad files are quarantined and the cycle goes on. */
  async cycle(): Promise<CollectResult> {
    const result: CollectResult = { dirs: this.dirs, files: [], sales: 0, stored: 0, duplicates: 0, quarantined: 0, bytes: 0 };
    for (const sd of this.salesDirs) {
      for (const entry of await this.listReady(sd.dir)) {
        if (this.stopped()) return result;
        const o = await this.takeFile(sd, entry);
        result.files.push(o);
        if (o.result === 'collected') {
          result.sales += o.sales;
          result.stored += o.stored;
          result.duplicates += o.duplicates;
          result.bytes += o.bytes;
          result.quarantined += o.rejectedParts?.length ?? 0;
        } else if (o.result === 'quarantined') result.quarantined++;
        else if (o.result === 'shift') {
          result.shifts = (result.shifts ?? 0) + (o.stored ? 1 : 0);
          result.bytes += o.bytes;
        }
      }
    }
    return result;
  }

  private stopped(): boolean {
    return this.deps.signal?.aborted === true || this.deps.stop?.aborted === true;
  }

  private async takeFile(sd: SalesDir, entry: RemoteEntry): Promise<CollectFileOutcome> {
    const { config, store, transport, logger, signal } = this.deps;
    const { dir } = sd;
    const name = entry.name;
    const remote = remotePath(dir, name);
    const local = safeLocalName(name);
    const paths = dataPaths(config.dataDir);
    if (isShiftFileName(name)) return this.takeShiftFile(sd, entry, { remote, local, paths });
    const got = await this.stage(sd, entry, config.sales.maxFileBytes, 'sales.maxFileSize');
    if ('result' in got) return got;
    const { staged, sha256, bytes } = got;
    signal?.throwIfAborted();
    fault('sales.collect:downloaded');

    let sales: Sale[];
    const rejected: RejectedPart[] = [];
    try {
      sales = await this.decode(name, staged, entry, rejected);
    } catch (e) {
      if (isCfxError(e) && (e as CfxError).code === ErrorCodes.FORMAT_INCOMPLETE) {
        // e.g. a register's report with a receipt not closed yet: never deleted unread
        rmSync(staged, { force: true });
        logger.info({ file: name, reason: errorMessage(e) }, 'sale file not complete yet: left on the server, read again on the next run');
        return { name, dir, result: 'waiting', reason: errorMessage(e) };
      }
      const reason = formatProblem(e, name, sha256);
      if (reason) return this.quarantine(dir, name, remote, staged, reason);
      throw e;
    }
    const bad = this.check(sd, name, sales);
    if (bad) return this.quarantine(dir, name, remote, staged, { ...bad, sha256 });

    const inputs: CollectInput[] = sales.map((sale) => ({ sale, localDate: ISO_DATE_TIME.exec(sale.time)![1]!, body: canonicalJson(sale) }));
    let stored: { stored: number; duplicates: number };
    try {
      stored = store.collected.collect({ name, size: bytes, sha256 }, inputs);
    } catch (e) {
      if (isCfxError(e) && (e as CfxError).code === ErrorCodes.SALE_CONFLICT) {
        const d = (e as CfxError).details;
        return this.quarantine(dir, name, remote, staged, { file: name, field: 'saleId', saleId: d.saleId, terminal: d.terminalId, code: ErrorCodes.SALE_CONFLICT, message: errorMessage(e), sha256 });
      }
      throw e;
    }
    fault('sales.collect:stored');
    // kept before the file goes: the archive holds the whole file, the quarantine the part and why
    const parts = rejected.map((p) => this.quarantinePart(name, sha256, p));
    const archived = archiveFile(staged, join(paths.archive, 'sales-in', localDate()), local);
    fault('sales.collect:archived');
    await deleteRemote(transport, remote, signal);
    fault('sales.collect:deleted');
    logger.info({ file: name, sales: sales.length, stored: stored.stored, duplicates: stored.duplicates, rejectedParts: parts.length }, stored.stored || parts.length ? 'sale file collected' : 'sale file already collected; archived and removed from the server');
    return { name, dir, result: 'collected', sales: sales.length, stored: stored.stored, duplicates: stored.duplicates, bytes, archived, ...(parts.length ? { rejectedParts: parts } : {}) };
  }

  /**
   * Downloads a listed file to staging (fsync, sha256), at most `limit` bytes: a file listed over
   * the limit, or sent past it although listed below (the read stops there, nothing past it kept),
   * is quarantined under the config key `key` instead.
   */
  private async stage(sd: SalesDir, entry: RemoteEntry, limit: number, key: string): Promise<{ staged: string; sha256: string; bytes: number } | CollectFileOutcome> {
    const { config, transport, signal } = this.deps;
    const { dir } = sd;
    const remote = remotePath(dir, entry.name);
    if (entry.size > limit) return this.quarantine(dir, entry.name, remote, undefined, overLimitReason(entry.name, limit, key, { listed: entry.size }));
    const staging = dataPaths(config.dataDir).staging;
    mkdirSync(staging, { recursive: true });
    const staged = join(staging, safeLocalName(entry.name));
    try {
      return { staged, ...(await downloadToStaging(transport, remote, staged, { signal, maxBytes: limit })) };
    } catch (e) {
      if (!isOverLimit(e)) throw e;
      return this.quarantine(dir, entry.name, remote, undefined, overLimitReason(entry.name, limit, key, { listed: entry.size, stopped: true }));
    }
  }

  /**
   * A shift close pushed by a till (`<terminal>_shift-<n>.shift.json`): the same steps as a sale
   * file — staged (capped), validated (a bad one quarantined with the field named; it must be the
   * dir's and the name's terminal), stored once per terminal + shift, archived, deleted remotely.
   */
  private async takeShiftFile(sd: SalesDir, entry: RemoteEntry, where: { remote: string; local: string; paths: ReturnType<typeof dataPaths> }): Promise<CollectFileOutcome> {
    const { config, store, transport, logger, signal } = this.deps;
    const { dir } = sd;
    const name = entry.name;
    const { remote, local, paths } = where;
    const got = await this.stage(sd, entry, SHIFT_MAX_BYTES, 'the shift close limit (64 KiB)');
    if ('result' in got) return got;
    const { staged, sha256, bytes } = got;
    const parsed = parseShiftFile(readFileSync(staged, 'utf8'));
    const bad = (field: string, message: string, more: Record<string, unknown> = {}) =>
      this.quarantine(dir, name, remote, staged, { file: name, field, code: ErrorCodes.SALE_INVALID, message, sha256, ...more });
    if ('problem' in parsed) return bad(parsed.problem.field, parsed.problem.message);
    const s = parsed.ok;
    if (sd.terminal !== undefined && s.terminal !== sd.terminal) {
      return bad('terminal', `the shift close claims terminal ${s.terminal}, but it was found in ${sd.dir}, terminal ${sd.terminal}'s sales dir`, { terminal: sd.terminal, claimed: s.terminal });
    }
    if (!name.startsWith(`${s.terminal}_`)) return bad('terminal', `the shift close is of terminal ${s.terminal}, but the file name does not start with "${s.terminal}_"`);
    if (config.terminals.length && !config.terminals.includes(s.terminal)) return bad('terminal', `terminal ${s.terminal} is not one of this office's terminals (${config.terminals.join(', ')})`);
    let stored: 'stored' | 'duplicate';
    try {
      // keyed by its canonical content: the same close pushed again (a resend) is a duplicate
      const { terminal, ...content } = s;
      stored = store.fleet.recordShift({ terminalId: terminal, ...content, sha256: sha256Hex(canonicalJson(content)), fileName: name, receivedAt: new Date().toISOString() });
    } catch (e) {
      if (isCfxError(e) && (e as CfxError).code === ErrorCodes.SHIFT_CONFLICT) return bad('shift', errorMessage(e), { code: ErrorCodes.SHIFT_CONFLICT, shift: s.shift });
      throw e;
    }
    fault('sales.collect:fleet-shift-stored');
    const archived = archiveFile(staged, join(paths.archive, 'sales-in', localDate()), local);
    await deleteRemote(transport, remote, signal);
    logger.info({ file: name, terminal: s.terminal, shift: s.shift, lastReceiptNo: s.lastReceiptNo, stored: stored === 'stored' }, stored === 'stored' ? 'shift close collected' : 'shift close already collected; archived and removed from the server');
    return { name, dir, result: 'shift', terminal: s.terminal, shift: s.shift, stored: stored === 'stored', bytes, archived };
  }

  private async decode(name: string, staged: string, entry: RemoteEntry, rejected: RejectedPart[]): Promise<Sale[]> {
    const { config, format, signal } = this.deps;
    if (!format.decodeSales) throw new CfxError(ErrorCodes.FORMAT_UNSUPPORTED, `format "${format.id}" cannot read sale files`);
    const out: Sale[] = [];
    const input = createReadStream(staged, { highWaterMark: 64 * 1024 });
    try {
      const ctx = { fileName: name, options: config.sales.options, maxLineLength: config.prices.maxLineBytes, reject: (p: RejectedPart) => rejected.push(p), ...(entry.mtime ? { modifiedAt: entry.mtime } : {}), ...(signal ? { signal } : {}) };
      for await (const s of format.decodeSales(input, ctx)) out.push(s);
    } finally {
      input.destroy();
    }
    return out;
  }

  /** a part the format set aside: its own quarantine copy and row (once, should a crash make the file be read again) */
  private quarantinePart(name: string, sha256: string, p: RejectedPart): RejectedPartOutcome {
    const { config, store, logger } = this.deps;
    const fileName = `${name}#${p.label}`;
    const reason = { ...formatProblem(p.error, name, sha256), part: p.label };
    const known = store.quarantine.list().find((q) => q.job === 'sales.collect' && q.fileName === fileName && q.reason.sha256 === sha256);
    if (known) return { part: p.label, reason, quarantined: known.localPath };
    const qdir = dataPaths(config.dataDir).quarantine;
    mkdirSync(qdir, { recursive: true });
    const qfile = join(qdir, `${new Date().toISOString().replace(/[:.]/g, '-')}_${safeLocalName(fileName)}`);
    writeFileSync(qfile, p.content);
    writeFileSync(`${qfile}.reason.json`, JSON.stringify({ ...reason, quarantinedAt: new Date().toISOString() }, null, 2) + '\n');
    store.quarantine.add({ job: 'sales.collect', fileName, localPath: qfile, reason });
    logger.warn({ file: name, ...reason }, 'a part of a sale file quarantined; the rest of the file is collected');
    return { part: p.label, reason, quarantined: qfile };
  }

  /**
   * What makes a decoded file unacceptable for the office, as a quarantine reason: a sale that is
   * not its dir's terminal's (by the file name or the content), or that fails the rules every sale
   * met at the till (`checkSale`, the same as `cfx sale add`) — whoever wrote the file.
   */
  private check(sd: SalesDir, name: string, sales: Sale[]): Record<string, unknown> | undefined {
    const { terminals } = this.deps.config;
    const problem = (s: Sale, index: number, field: string, message: string, more: Record<string, unknown> = {}) => ({
      file: name,
      saleId: s.saleId,
      // the sale's place in the file (1-based): the formats do not report a line per sale
      ...(sales.length > 1 ? { sale: index + 1 } : {}),
      field,
      code: ErrorCodes.SALE_INVALID,
      message,
      ...more,
    });
    for (const [i, s] of sales.entries()) {
      if (typeof s.terminalId !== 'string' || !TERMINAL_RE.test(s.terminalId)) return problem(s, i, 'terminal', `terminal id ${JSON.stringify(s.terminalId)} is not a valid terminal id`);
      if (sd.terminal !== undefined && s.terminalId !== sd.terminal) {
        return problem(s, i, 'terminal', `the sale claims terminal ${s.terminalId}, but it was found in ${sd.dir}, terminal ${sd.terminal}'s sales dir`, { terminal: sd.terminal, claimed: s.terminalId });
      }
      if (!name.startsWith(`${s.terminalId}_`)) return problem(s, i, 'terminal', `the sale is of terminal ${s.terminalId}, but the file name does not start with "${s.terminalId}_"`);
      if (terminals.length && !terminals.includes(s.terminalId)) return problem(s, i, 'terminal', `terminal ${s.terminalId} is not one of this office's terminals (${terminals.join(', ')})`);
      const problems = checkSale(s);
      if (problems.length) {
        const first = problems[0]!;
        return problem(s, i, first.field, problems.map((p) => `${p.field}: ${p.message}`).join('; '), { problems });
      }
    }
    return undefined;
  }

  private async quarantine(dir: string, name: string, remote: string, staged: string | undefined, reason: Record<string, unknown>): Promise<CollectFileOutcome> {
    const { config, store, transport, logger, signal } = this.deps;
    const { quarantined } = await quarantineFile({ dataDir: config.dataDir, store, transport, logger, signal }, { job: 'sales.collect', label: 'sale file', name, remote, staged, reason });
    return { name, dir, result: 'quarantined', reason, quarantined };
  }

  // ---- delivery to the back office

  private backoffice(): BackOffice & Required<Pick<BackOffice, 'deliverSales'>> {
    const bo = this.deps.backoffice;
    if (!bo) throw new CfxError(ErrorCodes.INTERNAL, 'SalesCollect: no back office given for delivery');
    if (!bo.deliverSales) throw new CfxError(ErrorCodes.USAGE, `back office "${bo.id}" cannot take sales`);
    return bo as BackOffice & Required<Pick<BackOffice, 'deliverSales'>>;
  }

  /**
   * Hands every collected, not yet delivered sale to the back office, exactly once: first the
   * batches an earlier run left 'assigned' (same id), then one new batch per terminal.
   */
  async deliver(): Promise<DeliverResult> {
    const bo = this.backoffice();
    const { store, signal } = this.deps;
    const result: DeliverResult = { backoffice: bo.id, batches: [], sales: 0 };
    // One terminal's delivery may have to wait (1C has not imported that register's last report):
    // the other terminals go on, and the waiting one's later batches wait behind its first.
    const failed = new Map<string, unknown>();
    const attempt = async (b: DeliveryBatch, resumed: boolean) => {
      if (failed.has(b.terminalId) || this.stopped()) return;
      try {
        await this.deliverBatch(bo, b, resumed, result);
      } catch (e) {
        if (signal?.aborted) throw e;
        failed.set(b.terminalId, e);
      }
    };
    for (const b of store.batches.assigned()) await attempt(b, true);
    // a terminal with a batch still waiting gets no new one: its new sales go into one batch once that one is through
    const waiting = new Set(store.batches.assigned().map((b) => b.terminalId));
    if (this.stopped()) return result;
    for (const b of this.assigned(store.batches.createNew(bo.id, { exceptTerminals: waiting }))) await attempt(b, false);
    if (failed.size === 1) throw [...failed.values()][0];
    if (failed.size > 1) {
      const list = [...failed].map(([t, e]) => `${t}: ${errorMessage(e)}`).join('; ');
      throw new CfxError(ErrorCodes.JOB_FAILED, `delivery to the back office failed for ${failed.size} terminals (${list}); their batches are delivered again on the next run`, { details: { terminals: [...failed.keys()] } });
    }
    return result;
  }

  /** `cfx collect --redeliver`: a new batch per terminal with every already delivered sale of the local dates [from, to]. */
  async redeliver(from: string, to: string): Promise<DeliverResult> {
    const bo = this.backoffice();
    const result: DeliverResult = { backoffice: bo.id, batches: [], sales: 0 };
    // whatever is still waiting goes first, so the period's sales are all delivered ones
    for (const b of this.deps.store.batches.assigned()) await this.deliverBatch(bo, b, true, result);
    for (const b of this.assigned(this.deps.store.batches.createRedelivery(bo.id, from, to))) await this.deliverBatch(bo, b, false, result);
    return result;
  }

  /** batches just created in their transaction */
  private assigned(batches: DeliveryBatch[]): DeliveryBatch[] {
    if (batches.length) fault('delivery:batch-assigned');
    return batches;
  }

  private async deliverBatch(bo: BackOffice & Required<Pick<BackOffice, 'deliverSales'>>, b: DeliveryBatch, resumed: boolean, result: DeliverResult): Promise<void> {
    const { store, logger, signal } = this.deps;
    signal?.throwIfAborted();
    const sales = store.batches.sales(b.id).map((c) => JSON.parse(c.body) as Sale);
    let report: void | DeliveryReport;
    try {
      report = await bo.deliverSales(b.terminalId, sales, { batchId: b.id, ...(signal ? { signal } : {}) });
    } catch (e) {
      store.batches.markFailed(b.id, errorMessage(e));
      logger.error({ batch: b.id, terminal: b.terminalId, sales: sales.length, err: errorMessage(e) }, 'delivery to the back office failed; the batch is delivered again on the next run');
      throw e;
    }
    fault('delivery:adapter-done');
    const held = (report && Array.isArray(report.heldBack) ? report.heldBack : []).filter((h) => sales.some((s) => s.saleId === h.saleId));
    // recorded before the batch is marked: a crash in between records them again, once (see recordHeldBack)
    if (held.length) this.recordHeldBack(bo, b, held);
    store.batches.markDelivered(b.id);
    fault('delivery:marked');
    logger.info({ batch: b.id, terminal: b.terminalId, kind: b.kind, sales: sales.length, heldBack: held.length, resumed, backoffice: bo.id }, 'sales delivered to the back office');
    result.batches.push({ batchId: b.id, terminal: b.terminalId, kind: b.kind, sales: sales.length, resumed, ...(held.length ? { heldBack: held.length } : {}) });
    result.sales += sales.length - held.length;
    if (held.length) result.heldBack = (result.heldBack ?? 0) + held.length;
  }

  /** one quarantine row per held-back sale ("needs attention" in cfx status), not twice for the same batch and sale */
  private recordHeldBack(bo: BackOffice, b: DeliveryBatch, held: HeldBackSale[]): void {
    const { store, logger } = this.deps;
    const seen = new Set(
      store
        .listQuarantine()
        .filter((q) => q.job === HELD_BACK_JOB && q.reason.batchId === b.id)
        .map((q) => q.fileName),
    );
    for (const h of held) {
      const fileName = `${b.terminalId}/${h.saleId}`;
      if (seen.has(fileName)) continue;
      store.quarantine.add({
        job: HELD_BACK_JOB,
        fileName,
        localPath: h.file ?? '',
        reason: { terminal: b.terminalId, saleId: h.saleId, batchId: b.id, backoffice: bo.id, code: ErrorCodes.SALE_INVALID, ...(h.field !== undefined ? { field: h.field } : {}), message: h.reason, ...(h.file !== undefined ? { file: h.file } : {}) },
      });
      logger.warn({ terminal: b.terminalId, saleId: h.saleId, batch: b.id, field: h.field, file: h.file }, `sale held back by the back office, needs attention: ${h.reason}`);
    }
  }
}

export interface CollectRunResult {
  collect: CollectResult;
  /** the fleet step: statuses read, receipt gaps (docs/fleet.md); absent when it did not run (the collect failed) */
  fleet?: FleetCycleResult;
  delivery: DeliverResult;
  redelivery?: DeliverResult & { from: string; to: string };
  /** a signal stopped the run after the file in flight */
  interrupted?: boolean;
}

/**
 * One office run (the sales.collect job: `cfx collect` and the office's `cfx run`): a collect
 * cycle, then the delivery, then an optional re-delivery of a period; the job executor records it.
 * Collected sales are delivered even when the cycle failed half-way (the error is thrown after).
 */
export async function runCollect(
  app: App,
  opts: { redeliver?: { from: string; to: string }; signal?: AbortSignal; /** see SalesCollectDeps.stop */ stop?: AbortSignal } = {},
): Promise<CollectRunResult> {
  const c = app.config;
  if (c.role !== 'office') throw new CfxError(ErrorCodes.USAGE, `cfx collect is for the office role (this config has role: ${c.role})`);
  const store = app.store;
  let bo: BackOffice | undefined;
  try {
    const transport = await app.transport();
    const format = await app.host.format(c.sales.format, c.sales.options);
    bo = await app.host.backoffice(c.backoffice.use, c.backoffice.options);
    const job = new SalesCollect({ config: c, store, transport, format, logger: app.logger, backoffice: bo, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.stop ? { stop: opts.stop } : {}) });
    let collect: CollectResult;
    let collectError: unknown;
    try {
      collect = await job.cycle();
    } catch (e) {
      collectError = e;
      collect = { dirs: job.dirs, files: [], sales: 0, stored: 0, duplicates: 0, quarantined: 0, bytes: 0 };
    }
    // the fleet after the files: gaps are judged on every sale and shift close just collected
    let fleet: FleetCycleResult | undefined;
    if (collectError === undefined && !opts.stop?.aborted) {
      try {
        fleet = await new FleetCollect({ config: c, store, transport, logger: app.logger, clock: app.services.resolve(coreServices.clock), ...(opts.signal ? { signal: opts.signal } : {}) }).cycle();
      } catch (e) {
        collectError = e;
      }
    }
    const delivery = await job.deliver();
    if (collectError !== undefined) throw collectError;
    const out: CollectRunResult = { collect, delivery, ...(fleet ? { fleet } : {}) };
    const interrupted = opts.stop?.aborted === true;
    if (opts.redeliver && !interrupted) out.redelivery = { ...(await job.redeliver(opts.redeliver.from, opts.redeliver.to)), ...opts.redeliver };
    if (interrupted) out.interrupted = true;
    return out;
  } finally {
    await bo?.close?.().catch(() => undefined);
  }
}
