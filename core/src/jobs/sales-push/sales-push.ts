import { close, closeSync, fdatasync, fdatasyncSync, fsync, fsyncSync, mkdir, mkdirSync, open, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { CfxError, ErrorCodes, errorMessage, isCfxError, type Format, type Logger, type Sale, type Transport } from '../../api/index.js';
import type { CfxConfig } from '../../config/types.js';
import type { Store, SaleRecord } from '../../store/index.js';
import { dataPaths } from '../../app/paths.js';
import { fault, signalHandled } from '../../faults/index.js';
import { expandTemplate, safeLocalName } from '../shared/names.js';
import { putFile } from '../shared/put.js';

export interface PushProgress {
  done: number;
  total: number;
  name: string;
}

export interface PushResult {
  sent: number;
  failed: number;
  bytes: number;
  /** remote names, in the order they were sent */
  names: string[];
  errors: { saleId: string; message: string }[];
  /** sessions the server ended mid-backlog and the push logged in again (absent: none) */
  reconnects?: number;
}

/** a session the server ended (or lost) while it worked: the next call logs in again */
function sessionLost(err: unknown): boolean {
  // by code, not class: a plugin's error class may come from another copy of core
  return isCfxError(err) && (err as CfxError).code === ErrorCodes.TRANSPORT_UNAVAILABLE;
}

export interface SalesPushDeps {
  config: CfxConfig;
  store: Store;
  /** one transport per connection; a backlog is spread over all of them */
  transports: Transport[];
  format: Format;
  logger: Logger;
  signal?: AbortSignal;
  onProgress?: (p: PushProgress) => void;
}

const DEST = 'server';

/** the job a push runs as: its fault points (core/src/faults) and its log lines */
type PushJob = 'sales.push' | 'sales.resend';

export interface PushOptions {
  /**
   * Once aborted, no lane takes another sale; the uploads in flight finish (written, renamed,
   * marked sent), unlike `signal`, which aborts them.
   */
  stop?: AbortSignal;
}
/**
 * Sent marks are committed per group of MARK_BATCH sales or after MARK_MAX_MS, whichever comes
 * first: the group's local copies are made durable (their data synced together in the thread
 * pool, each day dir once), then the group's marks go into one journal transaction
 * (Store.markSentMany, no fsync of its own on the main thread). So a sale is marked sent only after
 * its file was renamed into place and its local copy is on disk. A crash (or power cut) before the
 * marks reach the disk loses only marks: those sales are uploaded again under the same names. The
 * time bound makes every run that lives longer than it record its progress.
 */
const MARK_BATCH = 64;
const MARK_MAX_MS = 20;
/** a synchronous local copy must be able to cost less than this (ms), else the thread pool writes them */
const SYNC_COPY_MAX_MS = 0.15;
const SYNC_COPY_PROBE = 64;
/**
 * the fastest of the last SYNC_WINDOW synchronous fdatasync/fsync calls must have cost less than
 * this (ms), else a group's syncs go to the thread pool; tried again (one sync) every SYNC_PROBE groups
 */
const SYNC_MAX_MS = 0.05;
const SYNC_WINDOW = 4;
const SYNC_PROBE = 8;
/** only a group of a backlog probes: a single sale's sync (sale latency, ext4: ~ms) never blocks the main thread to find out */
const SYNC_PROBE_MIN_GROUP = 8;

/**
 * The last few costs (ms) of a step done synchronously on the main thread (a local copy, a sync):
 * cheap while the fastest of them is under `maxMs`. The fastest, because a busy machine makes
 * single steps slow, never fast.
 */
class RecentCost {
  private readonly ms: number[];
  private n = 0;
  constructor(private readonly maxMs: number, window: number, initialMs: number) {
    this.ms = new Array<number>(window).fill(initialMs);
  }
  add(ms: number): void {
    this.ms[this.n++ % this.ms.length] = ms;
  }
  /** steps measured so far */
  get measured(): number {
    return this.n;
  }
  get cheap(): boolean {
    return Math.min(...this.ms) < this.maxMs;
  }
}

/** one journaled sale to upload */
interface PushItem {
  terminalId: string;
  saleId: string;
  localDate: string;
  body: string;
}

/** a sale encoded and its local copy started (`copied`: still being written), or why it could not be encoded */
interface Prepared {
  name: string;
  bytes: Uint8Array;
  /** the local copy's path, and its descriptor, open from the write until the copy is synced (durable) or dropped (release) */
  file?: string;
  fd?: number | undefined;
  copied?: Promise<void> | undefined;
  error?: unknown;
}

/** a sale could not be encoded or its local copy written: not the server's fault (no markFailed; thrown as `error`) */
class LocalFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Sales push for the terminal role. Each journaled sale becomes one file with a deterministic name
 * (`<terminal>_<saleId>.<ext>`), uploaded under a temp name and renamed, so a retry or a resend
 * overwrites instead of duplicating. The local copy is written before the file is renamed into place.
 */
export class SalesPush {
  /** per connection: logged in and the sales dir made (MKD/CWD), or on the way; kept for the run and after */
  private readonly dirReady = new Map<Transport, Promise<void>>();
  private readonly archiveDir: string;
  /** the last synchronous local-copy writes (see keepCopy); none yet: cheap */
  private readonly copyCost = new RecentCost(SYNC_COPY_MAX_MS, 4, 0);
  private asyncCopies = 0;
  /** the last synchronous syncs (see syncEach); none yet: not cheap, a backlog's group probes first */
  private readonly syncCost = new RecentCost(SYNC_MAX_MS, SYNC_WINDOW, Infinity);
  private syncGroups = 0;
  /** day dirs made and not yet synced with their parent (see durable) */
  private readonly newDirs = new Set<string>();
  /** progress of the current flush or resend (a CLI sets its bar here) */
  onProgress: ((p: PushProgress) => void) | undefined;

  constructor(private readonly deps: SalesPushDeps) {
    this.onProgress = deps.onProgress;
    this.archiveDir = dataPaths(deps.config.dataDir).archiveSales;
    if (deps.transports.length === 0) throw new CfxError(ErrorCodes.INTERNAL, 'SalesPush needs at least one transport');
  }

  /** the sales dir on the server (expanded once: every upload names it) */
  get dir(): string {
    return (this.salesDir ??= expandTemplate(this.deps.config.sales.dir, { terminal: this.deps.config.terminal }));
  }
  private salesDir: string | undefined;

  /** a connection of the push: shift closes (shift-push.ts) are uploaded on it after the sales */
  get connection(): Transport {
    return this.deps.transports[0]!;
  }

  remoteName(terminalId: string, saleId: string): string {
    return `${terminalId}_${saleId}.${this.deps.format.extension}`;
  }

  private encode(sale: Sale): Uint8Array {
    const { format, config } = this.deps;
    if (!format.encodeSale) throw new CfxError(ErrorCodes.FORMAT_UNSUPPORTED, `format "${format.id}" cannot write sales`);
    return format.encodeSale(sale, { options: config.sales.options });
  }

  /**
   * Logs every connection in at once (each one's first call is its login) and makes the sales
   * dir on each: all in parallel, so a backlog waits for one login, not one per connection. The
   * connections stay open for the run (and for the next runs of a `cfx run`). Returns at once;
   * a failed login is thrown by the lane of that connection, and tried again by the next flush.
   * `cfx push` calls it before the job starts, so the logins overlap the run's bookkeeping.
   */
  connect(): void {
    for (const t of this.deps.transports) void this.ready(t).catch(() => undefined);
  }

  private ready(t: Transport): Promise<void> {
    let p = this.dirReady.get(t);
    if (!p) {
      const made = t.mkdir(this.dir, { signal: this.deps.signal });
      p = made;
      this.dirReady.set(t, made);
      made.catch(() => {
        if (this.dirReady.get(t) === made) this.dirReady.delete(t);
      });
    }
    return p;
  }

  /** putFile (temp name + rename, or one atomic write); the file appearing under its name waits for the local copy */
  private async upload(t: Transport, p: Prepared, job: PushJob, more: boolean): Promise<void> {
    const { signal } = this.deps;
    await this.ready(t);
    await putFile(t, this.dir, p.name, p.bytes, {
      signal,
      more,
      afterTemp: () => fault(`${job}:uploaded-temp`),
      // no promise of its own when there is nothing to wait for (a backlog's copies are written at once)
      beforeVisible: () => {
        const copied = () =>
          p.copied?.catch((e: unknown) => {
            throw new LocalFailure(e);
          });
        // a stop signal caught at the fault point is handled before the step goes on (faults/)
        const signalled = signalHandled();
        return signalled ? signalled.then(copied) : copied();
      },
    });
    fault(`${job}:renamed`);
  }

  /**
   * The local copy under archive/sales/<local date>/, written before the file is renamed into place
   * on the server (never a sale file there without its copy here; a sale is marked sent only after
   * both). Undefined when already written, else a promise of it.
   *
   * In a backlog, where a synchronous write is cheap (tmpfs: ~20 µs) it is done at once; where it
   * is not (ext4: a file create costs 0.3–0.6 ms of blocked main thread) the copies go to the
   * thread pool, where several proceed in parallel while the main thread talks to the server.
   * Which one is decided by the fastest of the last 4 synchronous writes (a busy machine makes
   * single writes slow, never fast), probed again every SYNC_COPY_PROBE copies. A single sale
   * (`overlap`) always goes to the thread pool: its copy is written while its bytes travel.
   * The day dir is made only when a write finds it missing.
   */
  private keepCopy(p: Prepared, file: string, overlap: boolean, job: PushJob): Promise<void> | undefined {
    const dir = dirname(file);
    const bytes = p.bytes;
    if (!overlap && (this.copyCost.cheap || ++this.asyncCopies % SYNC_COPY_PROBE === 0)) {
      const t0 = performance.now();
      let fd: number;
      let newDir = false;
      try {
        fd = openSync(file, 'w');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        mkdirSync(dir, { recursive: true });
        this.newDirs.add(dir);
        newDir = true;
        fd = openSync(file, 'w');
      }
      p.fd = fd;
      writeAllSync(fd, bytes);
      // a new day dir is no measure of a copy
      if (!newDir) this.copyCost.add(performance.now() - t0);
      fault(`${job}:local-copy`);
      return undefined;
    }
    return new Promise((resolve, reject) => {
      const write = (err: Error | null, fd: number) => {
        if (err) return reject(err);
        p.fd = fd;
        writeAll(fd, bytes, (e) => {
          if (e) return reject(e);
          fault(`${job}:local-copy`);
          resolve();
        });
      };
      open(file, 'w', (err, fd) => {
        if (err?.code !== 'ENOENT') return write(err, fd);
        mkdir(dir, { recursive: true }, (e) => {
          if (e) return reject(e);
          this.newDirs.add(dir);
          open(file, 'w', write);
        });
      });
    });
  }

  /**
   * A group's local copies on disk: their data synced through the descriptors the copies were
   * written with, then each of their day dirs once (the new names), and the parent of a day dir
   * made since the last group. The descriptors are closed whatever happens.
   *
   * Where a sync is cheap (tmpfs: a few µs, the kernel has nothing to write) the syncs are made
   * right here on the main thread: ~2,000 thread-pool round trips per 1,000 sales (a request,
   * a wake-up, a callback and a promise each) cost far more than the syncs themselves. Where it is
   * not (ext4: a journal commit, ~ms), they go to the thread pool, in parallel (ext4 folds
   * concurrent syncs into one commit) while the main thread talks to the server. Which one is
   * decided by the fastest of the last SYNC_WINDOW synchronous syncs, measured one by one: once
   * they are all slow the rest of the group goes to the thread pool, so a probe (every SYNC_PROBE
   * groups of a backlog) blocks the main thread for one slow file sync and one slow dir sync.
   */
  private async durable(group: readonly Prepared[], dirFds: Map<string, number>): Promise<void> {
    if (group.length === 0) return;
    const dirs = new Set<string>();
    for (const p of group) dirs.add(dirname(p.file!));
    for (const d of this.newDirs) dirs.add(dirname(d));
    this.newDirs.clear();
    const fds: number[] = [];
    for (const p of group) {
      if (p.fd !== undefined) fds.push(p.fd);
      p.fd = undefined;
    }
    const probe = group.length >= SYNC_PROBE_MIN_GROUP && ++this.syncGroups % SYNC_PROBE === 1;
    await this.syncEach(fds, true, probe);
    await this.syncEach(
      [...dirs].map((d) => dirFd(dirFds, d)),
      false,
      probe,
    );
  }

  /**
   * fdatasync (`data`: then closes) or fsync of each descriptor: synchronously while each is
   * measured cheap (see durable), the rest in the thread pool; every descriptor of `data` is
   * closed, the first error thrown once all are settled.
   */
  private async syncEach(fds: readonly number[], data: boolean, probe: boolean): Promise<void> {
    let k = 0;
    let failed: { error: unknown } | undefined;
    if (probe || this.syncCost.cheap) {
      while (k < fds.length) {
        const fd = fds[k++]!;
        const t0 = performance.now();
        try {
          if (data) fdatasyncSync(fd);
          else fsyncSync(fd);
        } catch (error) {
          failed = { error };
        }
        const ms = performance.now() - t0;
        if (data) {
          try {
            closeSync(fd);
          } catch (error) {
            failed ??= { error };
          }
        }
        this.syncCost.add(ms);
        if (failed || !this.syncCost.cheap) break;
      }
    }
    if (k < fds.length) {
      const rest = await Promise.allSettled(fds.slice(k).map((fd) => (data ? syncData(fd) : syncDir(fd))));
      const bad = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad) failed ??= { error: bad.reason };
    }
    if (failed) throw failed.error;
  }

  /** encode, and start the local copy; an encoding error is kept for the lane that takes the item */
  private prepare(item: PushItem, overlap: boolean, job: PushJob): Prepared {
    let p: Prepared | undefined;
    try {
      const name = this.remoteName(item.terminalId, item.saleId);
      const bytes = this.encode(JSON.parse(item.body) as Sale);
      const file = join(this.archiveDir, item.localDate, safeLocalName(name));
      p = { name, bytes, file };
      p.copied = this.keepCopy(p, file, overlap, job);
      p.copied?.catch(() => undefined); // an item no lane takes any more (a lane failed) is no unhandled rejection
      return p;
    } catch (error) {
      if (p) release(p);
      return { name: '', bytes: new Uint8Array(0), error };
    }
  }

  /**
   * Uploads `items` on every connection at once (each lane takes the next item); a failing
   * connection stops taking work and its error is thrown once the others settle.
   *
   * Per file: encode, local copy, upload (temp name + rename once the copy is written), mark sent.
   * While a file travels, the next ones are encoded and their copies written (a look-ahead run
   * from setImmediate, so it happens while the lanes wait for the server). Sent marks are
   * committed in batches (MARK_BATCH, MARK_MAX_MS) in one transaction, and whatever is left when
   * the run ends, failed or not.
   */
  private async pushAll(job: PushJob, items: readonly PushItem[], result: PushResult, stop: AbortSignal | undefined, onFailed?: (item: PushItem, err: unknown) => void): Promise<PushResult> {
    const { store, signal, transports } = this.deps;
    const stopped = () => signal?.aborted === true || stop?.aborted === true;
    const onProgress = this.onProgress;
    const total = items.length;
    // enough to cover a slow local copy (thread pool, ext4 under load) behind one upload per lane
    const lookAheadCount = 4 * transports.length + 4;
    const ready: (Prepared | undefined)[] = new Array(items.length);
    const overlap = items.length <= transports.length;
    let prepared = 0;
    let next = 0;
    let done = 0;
    const prepareUpTo = (end: number) => {
      for (const last = Math.min(end, items.length); prepared < last; prepared++) {
        ready[prepared] = this.prepare(items[prepared]!, overlap, job);
      }
    };
    let lookAheadQueued = false;
    const lookAhead = () => {
      if (lookAheadQueued || prepared >= items.length) return;
      lookAheadQueued = true;
      setImmediate(() => {
        lookAheadQueued = false;
        if (!stopped()) prepareUpTo(next + lookAheadCount);
      });
    };
    const marks: { saleId: string; terminalId: string; dest: string; remoteName: string }[] = [];
    const copies: Prepared[] = [];
    const dirFds = new Map<string, number>();
    let lastCommit = performance.now();
    // one group at a time, in order; the lanes go on uploading while a group is synced
    let committing: Promise<void> = Promise.resolve();
    const commitMarks = (): Promise<void> => {
      lastCommit = performance.now();
      if (marks.length === 0) return committing;
      const group = marks.splice(0);
      const files = copies.splice(0);
      committing = committing.then(
        async () => {
          await this.durable(files, dirFds);
          store.journal.markSentMany(group);
          fault(`${job}:recorded`);
        },
        (e: unknown) => {
          for (const p of files) release(p); // an earlier group failed: this one is not recorded either
          throw e;
        },
      );
      committing.catch(() => undefined); // thrown by the await in pushAll's finally
      return committing;
    };

    // Every connection logs in at once (connect()); a lane starts taking sales as soon as its own
    // connection is ready, while the others are still logging in. A lane that fails (its login or
    // an upload) stops taking work, the others go on; its error is thrown once they settle. A
    // server that is down fails every login at once: one deadline, not one per connection in a row.
    const lane = async (t: Transport) => {
      try {
        await this.ready(t);
        await laneWork(t);
      } catch (e) {
        throw e instanceof LocalFailure ? e.error : e;
      }
    };
    const laneWork = async (t: Transport) => {
      // files this lane sent since it last lost its session (see sessionLost)
      let sentSinceLogin = 0;
      while (next < items.length && !stopped()) {
        const i = next++;
        const item = items[i]!;
        prepareUpTo(i + 1);
        const p = ready[i]!;
        ready[i] = undefined;
        if ('error' in p) throw new LocalFailure(p.error);
        const { name, bytes } = p;
        for (;;) {
          try {
            // more: every lane still has a file to take after this one (the last round asks for nothing)
            const up = this.upload(t, p, job, items.length - next >= transports.length);
            lookAhead();
            await up;
            break;
          } catch (err) {
            if (sessionLost(err) && sentSinceLogin > 0 && !stopped()) {
              // The server ended a session that was working (vsftpd's `500 OOPS`, a 421, a reset):
              // the transport logs in again on its next call, and the same file goes again under
              // the same names (a rename replaces), as the next push would. Only after progress on
              // the session lost, so a server that drops every session fails the lane at once.
              sentSinceLogin = 0;
              result.reconnects = (result.reconnects ?? 0) + 1;
              this.deps.logger.warn({ err: errorMessage(err), file: name }, 'sales push: the server ended a session mid-backlog; logging in again, the file goes again');
              continue;
            }
            release(p);
            if (!(err instanceof LocalFailure)) onFailed?.(item, err);
            throw err;
          }
        }
        sentSinceLogin++;
        marks.push({ saleId: item.saleId, terminalId: item.terminalId, dest: DEST, remoteName: name });
        copies.push(p);
        if (marks.length >= MARK_BATCH || performance.now() - lastCommit >= MARK_MAX_MS) void commitMarks();
        result.sent++;
        result.bytes += bytes.length;
        result.names.push(name);
        onProgress?.({ done: ++done, total, name });
      }
    };
    try {
      // a copy is written by the lane that takes its sale (the look-ahead starts with the first
      // upload): the local-copy point always has a sale in flight, as the stop tests expect
      this.connect();
      const results = await Promise.allSettled(transports.map((t) => lane(t)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      // copies written ahead for sales no lane took (stopped, or a lane failed)
      for (const p of ready) if (p) release(p);
      try {
        await commitMarks();
      } finally {
        for (const fd of dirFds.values()) close(fd, () => undefined);
      }
    }
    return result;
  }

  /**
   * Uploads every pending sale of the journal (oldest first). A network failure stops the flush
   * and is thrown after the work of the other connections settles; sent sales stay sent.
   */
  async flush(limit = 100_000, opts: PushOptions = {}): Promise<PushResult> {
    const { store, logger } = this.deps;
    // the logins start before the journal is read: the read (~2.5 MB for 1,000 sales) overlaps them
    if (store.journal.countPending() > 0) this.connect();
    const pending = store.journal.pendingOutbox(limit).filter((e) => e.dest === DEST);
    const result: PushResult = { sent: 0, failed: 0, bytes: 0, names: [], errors: [] };
    try {
      await this.pushAll('sales.push', pending, result, opts.stop, (e, err) => {
        store.journal.markFailed(e.saleId, e.terminalId, DEST, errorMessage(err));
        result.failed++;
        result.errors.push({ saleId: e.saleId, message: errorMessage(err) });
      });
    } catch (e) {
      // what got through before the failure is no secret: the run's record, `--json` and the
      // message of `cfx push` say it (a failed run of 999 files is not a run of 0)
      if (isCfxError(e)) Object.assign(e.details, { sent: result.sent, bytes: result.bytes, pending: pending.length, left: pending.length - result.sent });
      throw e;
    } finally {
      if (result.sent) logger.info({ sent: result.sent, bytes: result.bytes }, 'sales pushed');
    }
    return result;
  }

  /** The journal's sales of a period (local dates, inclusive), re-uploaded under the same names. */
  planResend(from: string, to: string): SaleRecord[] {
    if (from > to) throw new CfxError(ErrorCodes.USAGE, `resend period is backwards: ${from} is after ${to}`);
    return this.deps.store.journal.salesBetween(from, to).filter((s) => s.terminalId === this.deps.config.terminal);
  }

  /** a resend also settles a sale that was still pending */
  async resend(from: string, to: string, opts: PushOptions = {}): Promise<PushResult> {
    const sales = this.planResend(from, to);
    const result = await this.pushAll('sales.resend', sales, { sent: 0, failed: 0, bytes: 0, names: [], errors: [] }, opts.stop);
    this.deps.logger.info({ from, to, sent: result.sent }, 'sales resent');
    return result;
  }
}

/** `resend-YYYYMMDD-YYYYMMDD.req` → the period it asks for, or undefined */
export function parseResendRequest(name: string): { from: string; to: string } | undefined {
  const m = /^resend-(\d{4})(\d{2})(\d{2})-(\d{4})(\d{2})(\d{2})\.req$/.exec(name);
  if (!m) return undefined;
  return { from: `${m[1]}-${m[2]}-${m[3]}`, to: `${m[4]}-${m[5]}-${m[6]}` };
}

/** a copy's bytes, whole (a short write goes on where it stopped) */
function writeAllSync(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
}

function writeAll(fd: number, bytes: Uint8Array, cb: (err: Error | null) => void, off = 0): void {
  if (off >= bytes.length) return cb(null);
  write(fd, bytes, off, bytes.length - off, null, (err, n) => (err ? cb(err) : writeAll(fd, bytes, cb, off + n)));
}

/** fdatasync of a copy's descriptor in the thread pool, then closes it (callbacks, no FileHandle: cheaper per file) */
function syncData(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fdatasync(fd, (err) => close(fd, (e) => (err ?? e ? reject(err ?? e) : resolve())));
  });
}

/** a copy that will not be synced here: its descriptor closed (once its write is done) */
function release(p: Prepared): void {
  const drop = () => {
    const fd = p.fd;
    p.fd = undefined;
    if (fd !== undefined) close(fd, () => undefined);
  };
  if (p.copied) p.copied.then(drop, drop);
  else drop();
}

function syncDir(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

/** a day dir's descriptor, kept for one push (a backlog's groups sync the same few dirs again and again) */
function dirFd(fds: Map<string, number>, dir: string): number {
  let fd = fds.get(dir);
  if (fd === undefined) fds.set(dir, (fd = openSync(dir, 'r')));
  return fd;
}
