import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { CfxError, ErrorCodes, TransportError, type Clock, type Format, type Logger, type PriceRecord, type RecordBatches, type RemoteEntry, type SkippedInput, type Transport } from '../../api/index.js';
import type { CfxConfig } from '../../config/types.js';
import type { FullFileGuard, InboxFile, Store } from '../../store/index.js';
import { dataPaths, localDate } from '../../app/paths.js';
import type { PriceOrder } from '../../config/types.js';
import { fault } from '../../faults/index.js';
import { skippedMessage } from './messages.js';
export { needsAttention } from './messages.js';
import { putsAtomically } from '../shared/put.js';
import { expandTemplate, isMarkerName, isTempName, naturalCompare, remotePath, safeLocalName } from '../shared/names.js';
import { deleteRemote, downloadToStaging, formatProblem, isOverLimit, overLimitReason, quarantineFile } from '../shared/file-steps.js';
import { UnsafeNames } from '../shared/unsafe-names.js';

export type FileOutcome =
  | {
      name: string;
      result: 'applied';
      mode: 'full' | 'delta';
      records: number;
      bytes: number;
      archived: string;
      /** products in the catalog after this file */
      products: number;
      /** full files: products of the previous catalog this file removed */
      removed?: number;
      /** lines or commands the decoder passed over (the file is applied without them) */
      skipped?: SkippedInput;
      /** what a person should look at: a non-empty file that applied nothing, skipped input */
      warnings?: string[];
    }
  | { name: string; result: 'already-applied'; bytes: number; archived: string }
  | { name: string; result: 'quarantined'; reason: Record<string, unknown>; quarantined: string };

export interface PullResult {
  dir: string;
  files: FileOutcome[];
  /** files seen but not yet complete (still growing, or waiting for their flag) */
  waiting: string[];
  /** the office's requests found in the inbox (`resend-YYYYMMDD-YYYYMMDD.req`) */
  requests: string[];
  bytes: number;
}

/** what a run row keeps of each file: enough for status and the admin page to say what was skipped */
export function pullFileDetails(f: FileOutcome): Record<string, unknown> {
  if (f.result !== 'applied') return { name: f.name, result: f.result };
  return { name: f.name, result: f.result, records: f.records, ...(f.skipped ? { skipped: f.skipped.count, skippedLines: f.skipped.lines } : {}), ...(f.warnings ? { warnings: f.warnings } : {}) };
}

const REQUEST_RE = /^resend-\d{8}-\d{8}\.req$/;

/**
 * The records a batch at a time: the decoder's own batches when it offers them (RecordBatches),
 * else up to 1,024 records gathered from `next()`.
 */
function batchesOf(it: AsyncIterator<PriceRecord> & Partial<RecordBatches<PriceRecord>>): () => Promise<readonly PriceRecord[] | undefined> {
  if (typeof it.nextBatch === 'function') return () => it.nextBatch!();
  return async () => {
    const out: PriceRecord[] = [];
    while (out.length < 1024) {
      const r = await it.next();
      if (r.done) break;
      out.push(r.value);
    }
    return out.length ? out : undefined;
  };
}

/**
 * The most complete files one cycle takes (the first ones in order; the rest wait for the next
 * cycle, still in order): a cycle, and its run record listing each file, stay bounded however
 * many files the inbox holds.
 */
export const MAX_FILES_PER_CYCLE = 1000;

export interface PullProgress {
  file: string;
  phase: 'download' | 'apply';
  bytes?: number;
  total?: number;
  records?: number;
}

export interface PricePullDeps {
  config: CfxConfig;
  store: Store;
  transport: Transport;
  format: Format;
  logger: Logger;
  signal?: AbortSignal;
  /** "now" for stability and the archive's day folder (the clock ref; the wall clock by default) */
  clock?: Clock;
  /** asks the cycle to stop after the file in flight (a signal to the command): that file is finished, no other is started */
  stop?: AbortSignal;
  onProgress?: (p: PullProgress) => void;
}

interface Applied {
  mode: 'full' | 'delta';
  records: number;
  products: number;
  inboxId: number;
  removed?: number;
  skipped?: SkippedInput;
}

interface Seen {
  size: number;
  mtime: number | undefined;
  at: number;
}

/** kv key of an admin's "apply it anyway" for a full file refused by a guard (quarantine retry --force) */
export const forceKey = (sha256: string): string => `prices.force.${sha256}`;

/** the flag files that mark `name` complete: `<name>.done` or `<base>.flg` */
function flagNames(name: string): [string, string] {
  return [`${name}.done`, name.replace(/\.[^.]*$/, '') + '.flg'];
}

/** The order of the complete files of one listing (prices.order); ties always by mtime, then name. */
export function compareEntries(order: PriceOrder): (a: RemoteEntry, b: RemoteEntry) => number {
  const time = (a: RemoteEntry, b: RemoteEntry) => (a.mtime?.getTime() ?? 0) - (b.mtime?.getTime() ?? 0);
  const plain = (a: RemoteEntry, b: RemoteEntry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const natural = (a: RemoteEntry, b: RemoteEntry) => naturalCompare(a.name, b.name);
  const chain =
    (...cs: ((a: RemoteEntry, b: RemoteEntry) => number)[]) =>
    (a: RemoteEntry, b: RemoteEntry) => {
      for (const c of cs) {
        const r = c(a, b);
        if (r !== 0) return r;
      }
      return 0;
    };
  if (order === 'name') return chain(plain, time);
  if (order === 'mtime') return chain(time, natural);
  return chain(natural, time);
}

/**
 * Price pull for the terminal role: list the inbox, take complete files in order, download to
 * staging, then apply + inbox-log row in one transaction, archive, and only then delete the remote
 * file (its flag first). Every file that appears on the server is a new delivery: only a delivery
 * whose apply committed and whose remote delete is not yet confirmed (what a crash leaves) counts as
 * "already applied". Every step is safe to repeat, so a crash anywhere is finished by the next cycle.
 * The object keeps the last listing so "size unchanged across two listings" works across polls.
 */
export class PricePull {
  private readonly seen = new Map<string, Seen>();
  /** the flag file (`x.csv.done`, `x.flg`) that marked a file complete; deleted before the file */
  private readonly flags = new Map<string, string>();
  /** the file's size and mtime when its flag was first seen: a file that changes after its flag is not complete */
  private readonly flaggedAs = new Map<string, { flag: number | undefined; size: number; mtime: number | undefined }>();
  private readonly orphanFlags: string[] = [];
  /** flags already reported as not trusted (logged once per flag) */
  private readonly distrusted = new Set<string>();
  /** names of the listing that are not plain names: skipped, warned about once, counted in status */
  private readonly unsafe: UnsafeNames;

  constructor(private deps: PricePullDeps) {
    this.unsafe = new UnsafeNames(deps.store.kv, deps.logger, 'prices.pull');
  }

  /** what one run brings (the job's runner is made once, its runs come and go) */
  forRun(o: Pick<PricePullDeps, 'stop' | 'onProgress'>): this {
    const { stop: _s, onProgress: _p, ...rest } = this.deps;
    this.deps = { ...rest, ...(o.stop ? { stop: o.stop } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) };
    return this;
  }

  private now(): Date {
    return this.deps.clock ? this.deps.clock.now() : new Date();
  }

  get dir(): string {
    const c = this.deps.config;
    return expandTemplate(c.prices.dir, { terminal: c.terminal });
  }

  /** Which files are complete now. Updates the size memory used by the next call. */
  async listReady(): Promise<{ ready: RemoteEntry[]; waiting: string[]; requests: string[] }> {
    const { transport, config, store, signal, logger } = this.deps;
    let entries: RemoteEntry[];
    try {
      entries = await transport.list(this.dir, { signal });
    } catch (e) {
      // an inbox that does not exist yet is an empty inbox
      if (e instanceof TransportError && e.kind === 'NotFound') entries = [];
      else throw e;
    }
    // only plain names from here on: a name like x/../../other/prices.csv is never read, moved or deleted
    const files = new Map(this.unsafe.filter(this.dir, entries.filter((e) => e.type === 'file')).map((e) => [e.name, e]));
    // an open delivery whose file is no longer listed was deleted before a crash could confirm it
    for (const open of store.inbox.open()) if (!files.has(open.name)) store.inbox.confirm(open.id);
    const now = this.now().getTime();
    const atomic = putsAtomically(transport);
    const ready: RemoteEntry[] = [];
    const waiting: string[] = [];
    const requests: string[] = [];
    const current = new Set<string>();
    for (const e of files.values()) {
      if (isTempName(e.name) || isMarkerName(e.name)) continue;
      if (REQUEST_RE.test(e.name)) {
        requests.push(e.name);
        continue;
      }
      current.add(e.name);
      const mtime = e.mtime?.getTime();
      const flag = flagNames(e.name).find((f) => files.has(f));
      const flagged = flag !== undefined && this.trustFlag(e, files.get(flag)!);
      if (flagged) this.flags.set(e.name, flag);
      else this.flags.delete(e.name);
      const prev = this.seen.get(e.name);
      const stable = prev !== undefined && prev.size === e.size && prev.mtime === mtime && now - prev.at >= config.prices.stableMs;
      // on a transport with atomic puts a listed file is a whole file, whoever wrote it: no wait
      if (flagged || stable || atomic) ready.push(e);
      else waiting.push(e.name);
      if (!prev || prev.size !== e.size || prev.mtime !== mtime) this.seen.set(e.name, { size: e.size, mtime, at: now });
    }
    for (const k of this.seen.keys()) if (!current.has(k)) this.seen.delete(k);
    for (const k of this.flaggedAs.keys()) if (!current.has(k)) this.flaggedAs.delete(k);
    // a flag whose file is gone was left by a crash or a failed delete: remove it, or it would mark
    // the next, still half-written file of the same name complete
    const flgOfCurrent = new Set([...current].map((n) => flagNames(n)[1]));
    for (const f of files.keys()) {
      const base = f.endsWith('.done') ? f.slice(0, -'.done'.length) : f.endsWith('.flg') ? f.slice(0, -'.flg'.length) : undefined;
      if (base === undefined) continue;
      const hasFile = f.endsWith('.done') ? current.has(base) : flgOfCurrent.has(f);
      if (!hasFile) {
        this.orphanFlags.push(f);
        logger.info({ file: f }, 'flag file without its data file: removing it');
      }
    }
    ready.sort(compareEntries(config.prices.order));
    return { ready: ready.slice(0, MAX_FILES_PER_CYCLE), waiting, requests: requests.sort() };
  }

  /**
   * A flag marks a file complete only if it is not older than the file, and only for the content the
   * file had when the flag was first seen: a flag left behind never completes a newer, half-written file.
   */
  private trustFlag(file: RemoteEntry, flag: RemoteEntry): boolean {
    const mtime = file.mtime?.getTime();
    const flagTime = flag.mtime?.getTime();
    const older = flagTime !== undefined && mtime !== undefined && flagTime < mtime;
    let seen = this.flaggedAs.get(file.name);
    // a flag written again (another mtime) speaks for the file as it is now
    if (!older && (!seen || seen.flag !== flagTime)) this.flaggedAs.set(file.name, (seen = { flag: flagTime, size: file.size, mtime }));
    const changed = seen !== undefined && (seen.size !== file.size || seen.mtime !== mtime);
    if (!changed && !older) return true;
    const key = `${flag.name}@${flag.mtime?.getTime()}`;
    if (!this.distrusted.has(key)) {
      this.distrusted.add(key);
      this.deps.logger.warn(
        { file: file.name, flag: flag.name },
        older ? 'the flag file is older than its data file (left from an earlier file?): waiting until the file holds still' : 'the file changed after its flag appeared: waiting until it holds still',
      );
    }
    return false;
  }

  /** One cycle: everything complete in the inbox now. Network errors propagate (retry next cycle). */
  async cycle(): Promise<PullResult> {
    const { ready, waiting, requests } = await this.listReady();
    for (const f of this.orphanFlags.splice(0)) await this.deleteRemote(remotePath(this.dir, f));
    const result: PullResult = { dir: this.dir, files: [], waiting, requests, bytes: 0 };
    for (const entry of ready) {
      if (this.deps.signal?.aborted || this.deps.stop?.aborted) break;
      const outcome = await this.takeFile(entry);
      this.flags.delete(entry.name);
      this.flaggedAs.delete(entry.name);
      if (outcome.result !== 'quarantined') result.bytes += outcome.bytes;
      result.files.push(outcome);
      this.seen.delete(entry.name);
    }
    return result;
  }

  private async takeFile(entry: RemoteEntry): Promise<FileOutcome> {
    const { config, store, logger, signal } = this.deps;
    const remote = remotePath(this.dir, entry.name);
    const local = safeLocalName(entry.name);
    const paths = dataPaths(config.dataDir);
    mkdirSync(paths.staging, { recursive: true });

    const limit = config.prices.maxFileBytes;
    if (entry.size > limit) return this.refuse(entry.name, remote, undefined, overLimitReason(entry.name, limit, 'prices.maxFileSize', { listed: entry.size }));

    const staged = join(paths.staging, local);
    let sha256: string;
    let bytes: number;
    let applied: Applied;
    const archivePath = this.archivePath(local);
    // an open delivery of this name may be what a crash left: its bytes decide, so they come first
    if (store.inbox.open().some((o) => o.name === entry.name)) {
      try {
        ({ sha256, bytes } = await this.download(remote, staged, entry.size));
      } catch (e) {
        // listed below the limit, sent past it: the read stopped there and nothing was kept
        if (!isOverLimit(e)) throw e;
        return this.refuse(entry.name, remote, undefined, overLimitReason(entry.name, limit, 'prices.maxFileSize', { listed: entry.size, stopped: true }));
      }
      signal?.throwIfAborted();
      fault('prices.pull:staged');

      const open = store.inbox.contains(entry.name, sha256);
      // the same bytes under the same name with another mtime were written again: a new delivery
      const rewritten = open?.mtime !== undefined && entry.mtime !== undefined && open.mtime !== entry.mtime.toISOString();
      if (open && !rewritten) {
        // applied before a crash or a failed delete: finish the remaining steps, apply nothing again
        const archived = this.archive(staged, open.archived ?? archivePath);
        fault('prices.pull:archived');
        await this.finish(entry.name, remote, open.id);
        logger.info({ file: entry.name, sha256 }, 'price file was already applied; archived and removed from the server');
        return { name: entry.name, result: 'already-applied', bytes, archived };
      }
      try {
        applied = await this.apply(entry, createReadStream(staged, { highWaterMark: 256 * 1024 }), { sha256, size: bytes, archived: archivePath });
      } catch (e) {
        const reason = formatProblem(e, entry.name, sha256);
        if (reason) return this.refuse(entry.name, remote, staged, reason);
        throw e;
      }
    } else {
      const r = await this.streamApply(entry, remote, staged, archivePath);
      if ('refused' in r) return this.refuse(entry.name, remote, r.staged, r.refused);
      ({ applied, sha256, bytes } = r);
    }
    fault('prices.pull:applied');
    const archived = this.archive(staged, archivePath);
    fault('prices.pull:archived');
    await this.finish(entry.name, remote, applied.inboxId);
    const warnings: string[] = [];
    // a full file with no products got here only through prices.allowEmptyFull or a forced retry: intended
    if (applied.records === 0 && bytes > 0 && applied.mode === 'delta') warnings.push(`the file is not empty (${bytes} bytes) but applied no records`);
    if (applied.skipped && applied.skipped.count > 0) {
      const sk = applied.skipped;
      warnings.push(skippedMessage(sk.count, sk.lines, sk.reasons));
    }
    const fields = { file: entry.name, mode: applied.mode, records: applied.records, products: applied.products, bytes, ...(applied.removed !== undefined ? { removed: applied.removed } : {}) };
    if (warnings.length) logger.warn({ ...fields, warnings }, 'price file applied, with warnings');
    else logger.info(fields, 'price file applied');
    return {
      name: entry.name,
      result: 'applied',
      mode: applied.mode,
      records: applied.records,
      bytes,
      archived,
      products: applied.products,
      ...(applied.removed !== undefined ? { removed: applied.removed } : {}),
      ...(applied.skipped && applied.skipped.count > 0 ? { skipped: applied.skipped } : {}),
      ...(warnings.length ? { warnings } : {}),
    };
  }

  /**
   * The server side of a delivery: its flag goes first (a flag left behind by a failed delete would
   * mark the office's next file complete while it is still being written), then the file; then the
   * delivery is confirmed, and from then on the same name and bytes are a new delivery.
   */
  private async finish(name: string, remote: string, inboxId: number): Promise<void> {
    if (await this.deleteFlag(name)) fault('prices.pull:flag-deleted');
    await this.deleteRemote(remote);
    fault('prices.pull:deleted');
    this.deps.store.inbox.confirm(inboxId);
  }

  /** deletes the flag that marked `name` complete, if one did; true if there was one */
  private async deleteFlag(name: string): Promise<boolean> {
    const flag = this.flags.get(name);
    if (!flag) return false;
    await this.deleteRemote(remotePath(this.dir, flag));
    this.flags.delete(name);
    return true;
  }

  private async download(remote: string, staged: string, total: number, tee?: Writable): Promise<{ sha256: string; bytes: number }> {
    const { transport, signal, onProgress } = this.deps;
    let lastTick = 0;
    const name = posix.basename(remote);
    // durable before it is trusted: the apply and the remote delete depend on this copy
    return downloadToStaging(transport, remote, staged, {
      signal,
      maxBytes: this.deps.config.prices.maxFileBytes,
      tee,
      onBytes: onProgress
        ? (bytes) => {
            if (bytes - lastTick >= 1 << 20) {
              lastTick = bytes;
              onProgress({ file: name, phase: 'download', bytes, total });
            }
          }
        : undefined,
    });
  }

  /**
   * A new delivery parsed while it downloads: the download (hash, byte cap, staged copy, fsync)
   * feeds the decoder as it goes, and the commit waits for the staged copy to be complete and
   * durable. A format problem (or the byte cap) is found with the whole file staged: it is
   * quarantined with its sha256, nothing applied.
   */
  private async streamApply(entry: RemoteEntry, remote: string, staged: string, archived: string): Promise<{ applied: Applied; sha256: string; bytes: number } | { refused: Record<string, unknown>; staged?: string }> {
    const feed = new PassThrough({ highWaterMark: 256 * 1024 });
    const stagedP = this.download(remote, staged, entry.size, feed);
    stagedP.catch(() => undefined); // awaited below, whatever the decoder does
    const file = { sha256: '', size: 0, archived };
    let applied: Applied | undefined;
    let problem: unknown;
    try {
      applied = await this.apply(entry, feed, file, async () => {
        const st = await stagedP;
        file.sha256 = st.sha256;
        file.size = st.bytes;
        this.deps.signal?.throwIfAborted();
        fault('prices.pull:staged');
      });
    } catch (e) {
      problem = e;
    }
    // the decoder is done or gave up: the copy goes on to the end without it
    feed.destroy();
    let st: { sha256: string; bytes: number };
    try {
      st = await stagedP;
    } catch (e) {
      // listed below the limit, sent past it: the read stopped there and nothing was kept
      if (isOverLimit(e)) return { refused: overLimitReason(entry.name, this.deps.config.prices.maxFileBytes, 'prices.maxFileSize', { listed: entry.size, stopped: true }) };
      throw e;
    }
    if (problem !== undefined || !applied) {
      const reason = formatProblem(problem, entry.name, st.sha256);
      if (reason) return { refused: reason, staged };
      throw problem;
    }
    return { applied, ...st };
  }

  /**
   * Decodes `input` into one catalog write: a full file that starts with its clear is built into a
   * fresh catalog file (swapped in at commit), anything else is applied in place. Records go to the
   * store a batch at a time. `beforeCommit` runs after the last record (the download finishing).
   */
  private async apply(entry: RemoteEntry, input: Readable, file: { sha256: string; size: number; archived: string }, beforeCommit?: () => Promise<void>): Promise<Applied> {
    const { config, store, format, signal, onProgress } = this.deps;
    if (!format.decodePrices) throw new CfxError(ErrorCodes.FORMAT_UNSUPPORTED, `format "${format.id}" cannot read price files`);
    const decoded = await format.decodePrices(input, {
      fileName: entry.name,
      options: config.prices.options,
      maxLineLength: config.prices.maxLineBytes,
      ...(signal ? { signal } : {}),
    });
    const it = decoded.records[Symbol.asyncIterator]();
    const next = batchesOf(it);
    let done = false;
    try {
      const first = await next();
      const fresh = decoded.mode === 'full' && first?.[0]?.op === 'clear';
      // an admin's "apply it anyway" (quarantine retry --force) lifts the full-file guards for these bytes; known once the bytes are
      const guard: FullFileGuard = { allowEmpty: config.prices.allowEmptyFull, forced: false, ...(config.prices.maxRemovedShare !== undefined ? { maxRemovedShare: config.prices.maxRemovedShare } : {}) };
      const inbox: InboxFile = { name: entry.name, size: file.size, ...(entry.mtime ? { mtime: entry.mtime } : {}), sha256: file.sha256, mode: decoded.mode, archived: file.archived };
      const tx = store.priceImport.begin(inbox, guard, { fresh, ...(entry.size > 0 ? { expectedBytes: entry.size } : {}) });
      let records = 0;
      let result;
      try {
        for (let batch = first; batch; batch = await next()) {
          tx.applyBatch(batch);
          const before = records;
          // a full file's leading "clear" is not one of its records
          for (const r of batch) if (r.op !== 'clear') records++;
          if (Math.floor(records / 100_000) !== Math.floor(before / 100_000)) {
            onProgress?.({ file: entry.name, phase: 'apply', records, bytes: file.size || entry.size, total: entry.size });
            signal?.throwIfAborted();
          }
        }
        done = true;
        await beforeCommit?.();
        inbox.sha256 = file.sha256;
        inbox.size = file.size;
        guard.forced = store.kv.get(forceKey(file.sha256)) !== undefined;
        if (guard.forced) guard.allowEmpty = true;
        result = tx.commit(decoded.skipped ? { skipped: decoded.skipped } : {});
      } catch (e) {
        tx.rollback();
        throw e;
      }
      if (guard.forced) store.kv.delete(forceKey(file.sha256));
      return {
        mode: decoded.mode,
        records,
        products: result.products,
        inboxId: result.inboxId,
        ...(result.removed !== undefined ? { removed: result.removed } : {}),
        ...(decoded.skipped ? { skipped: { ...decoded.skipped, lines: [...decoded.skipped.lines], reasons: [...decoded.skipped.reasons] } } : {}),
      };
    } finally {
      // a decoder left mid-file is told to stop (closes its input)
      if (!done) await it.return?.().catch(() => undefined);
    }
  }

  /** where the copy of a new delivery goes; chosen before the apply and recorded with it */
  private archivePath(local: string): string {
    // the same name twice a day is normal (a fixed-name office): keep every copy
    const at = this.now();
    const dir = join(dataPaths(this.deps.config.dataDir).archivePrices, localDate(at));
    const target = join(dir, local);
    return existsSync(target) ? join(dir, `${at.getTime()}_${local}`) : target;
  }

  /** moves the staged copy to its archive path; repeated after a crash, it keeps one copy */
  private archive(staged: string, target: string): string {
    if (existsSync(target)) rmSync(staged, { force: true });
    else {
      mkdirSync(dirname(target), { recursive: true });
      renameSync(staged, target);
    }
    return target;
  }

  /** removes a handled request file from the inbox */
  deleteRequest(name: string): Promise<void> {
    return this.deleteRemote(remotePath(this.dir, name));
  }

  private deleteRemote(remote: string): Promise<void> {
    return deleteRemote(this.deps.transport, remote, this.deps.signal);
  }

  /** a refused file: quarantined, and its flag removed */
  private async refuse(name: string, remote: string, staged: string | undefined, reason: Record<string, unknown>): Promise<FileOutcome> {
    const q = await this.quarantine(name, remote, staged, reason);
    await this.deleteFlag(name);
    return q;
  }

  /** Keep the bad file locally with its reason, move the remote one aside, and let the job go on. */
  private async quarantine(name: string, remote: string, staged: string | undefined, reason: Record<string, unknown>): Promise<FileOutcome> {
    const { config, store, transport, logger, signal } = this.deps;
    // the local copy and reason are kept first; a failed remote move is retried when the file is seen again
    const { quarantined } = await quarantineFile({ dataDir: config.dataDir, store, transport, logger, signal }, { job: 'prices.pull', label: 'price file', name, remote, staged, reason });
    return { name, result: 'quarantined', reason, quarantined };
  }
}
