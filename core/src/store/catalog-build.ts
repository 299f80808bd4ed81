import { closeSync, fsync, openSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { PriceRecord } from '../api/model.js';
import { fault } from '../faults/index.js';
import { BuildWriter, fromWire, isShortProduct, NUL_FIELD, SEP, SHORT_FIELDS, type BuildMessage, type FinishResult, type WireError } from './catalog-build-writer.js';
import { currentCatalog, fsyncFile, nextCatalogName, removeCatalogFiles, writeCatalogPointer } from './catalog-files.js';
import type { StoreConnection } from './connection.js';
import { checkFullFile, checkMoney, commitFailed, inboxRow, UPSERT_COLUMNS, writeProductRow, writeShortRow, type CommitInfo, type FullFileGuard, type InboxFile, type PriceApply, type PriceApplyResult } from './price-apply.js';

/** the build worker, beside this file in dist (and so in the release package) */
const WORKER_URL = new URL('./catalog-build-worker.js', import.meta.url);
/** rows batches (≤ ~1,024 rows each) sent and not yet inserted: bounds the memory between the threads */
const MAX_IN_FLIGHT = 8;
/** the build worker's V8 young generation (MB) */
const WORKER_YOUNG_MB = 4;
/** the longest wait for the worker (a 1M-row build's index phase takes seconds): a dead worker is an error, not a hang */
const CALL_DEADLINE_MS = 10 * 60_000;

/**
 * Where a build's writer runs: in the build worker when there is a second core to run it, else on
 * this thread (no hand-over). Measured: the hand-over costs ~20 % more CPU in all (a 1M-row file:
 * ~3.7 s vs ~3.0 s), which only a free second core turns into less wall time. Tests switch it.
 */
export const buildPlacement = {
  inWorker: availableParallelism() >= 2,
  /**
   * A file listed smaller than this is built on this thread even with a second core: starting the
   * worker (a thread, its module graph, its SQLite connection; this thread waits for its "open")
   * costs more than the whole build of a small file. Measured in the fleet bench: a 100-item file
   * applied at 1,000 terminals in one process, a worker per apply kept the event loop busy for
   * seconds. 1 MiB ≈ 10,000 rows, a build of ~50 ms here.
   */
  workerMinBytes: 1024 * 1024,
};

/** where a build of a file listed at `bytes` (undefined: not known) runs: in the worker or here */
export function buildsInWorker(bytes: number | undefined): boolean {
  return buildPlacement.inWorker && (bytes === undefined || bytes >= buildPlacement.workerMinBytes);
}

/**
 * A full price file built into a NEW catalog file, then swapped in (docs/ARCHITECTURE.md, store):
 *
 * - the caller holds the current generation's write lock (BEGIN IMMEDIATE) from begin to the swap:
 *   no other cfx changes the inbox log meanwhile or builds a generation of its own, and start-up
 *   never takes this file for a crash's leftover;
 * - the new file is written by a worker thread (catalog-build-worker.ts, its own connection; the
 *   file is private to the build until the swap) while this thread downloads, hashes and decodes:
 *   the second core does the SQLite work, batches cross as one string each, at most
 *   MAX_IN_FLIGHT batches ahead; the calls that need an answer (counts, finish) wait for it;
 * - the new file is written with no journal and no syncs (a crash leaves a file nobody names,
 *   removed at the next start-up), the indexes are built once at the end, sorted;
 * - at commit the old generation's inbox log and meta are copied in, with the new delivery's row:
 *   the new file is the whole catalog.db content, its row visible exactly when its prices are;
 * - the file is switched to WAL, closed, fsynced; then the pointer is replaced (temp, fsync,
 *   rename, dir fsync) — THE commit point — and the old generation's files are removed.
 *
 * Fault points: `prices.pull:building` (rows in, no indexes, nothing synced), `prices.pull:built`
 * (complete and synced, not named), `prices.pull:swapped` (named; the old files still there).
 */
export class FreshCatalogBuild implements PriceApply {
  private upserts = 0;
  private deletes = 0;
  private disables = 0;
  private open = true;
  /** the worker runs (until commit's finish or a rollback ends it) */
  private live = true;
  /** the build worker and its reply port; none on a machine with one core (the writer runs here) */
  private readonly worker?: Worker;
  private readonly port?: MessagePort;
  private readonly local?: BuildWriter;
  /** [0]: a reply is waiting; [1]: rows batches sent and not yet inserted */
  private readonly sig = new Int32Array(new SharedArrayBuffer(8));
  /** a batch's values, reused */
  private vals: unknown[] = [];
  /** a batch's short rows, SHORT_FIELDS values each, reused */
  private readonly shortParts: unknown[] = [];
  /** an upsert had 2+ barcodes: the side table of further barcodes is built at finish */
  private multi = false;
  readonly name: string;
  private readonly file: string;

  constructor(
    private readonly conn: StoreConnection,
    private readonly inbox: InboxFile,
    private readonly guard: FullFileGuard,
    /** releases the old generation's lock (the caller's transaction) */
    private readonly release: () => void,
    private readonly onEnd: () => void,
    inWorker = buildsInWorker(undefined),
  ) {
    this.name = nextCatalogName(conn.dir, conn.catalogName);
    this.file = join(conn.dir, this.name);
    removeCatalogFiles(conn.dir, [this.name, `${this.name}-wal`, `${this.name}-shm`, `${this.name}-journal`]);
    if (!inWorker) {
      this.live = false;
      try {
        this.local = new BuildWriter(this.file, conn.paths.catalog);
      } catch (e) {
        this.removeFiles();
        throw e;
      }
      return;
    }
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_URL, {
      // its garbage is short-lived (a batch's split values): a 4 MB young generation kept a 1M-row
      // build ~8-10 MB lower in peak RSS at the same speed (the default is several times that)
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
      workerData: { file: this.file, prev: conn.paths.catalog, port: port2, sig: this.sig },
      transferList: [port2],
    });
    // never what keeps the process alive: a build always ends in commit or rollback, which end it
    this.worker.unref();
    try {
      this.call({ t: 'open', file: this.file, prev: conn.paths.catalog });
    } catch (e) {
      this.stopWorker();
      this.removeFiles();
      throw e;
    }
  }

  get active(): boolean {
    return this.open;
  }

  /** the SQLite side runs in the build worker (else on this thread) */
  get inWorker(): boolean {
    return this.worker !== undefined;
  }

  apply(rec: PriceRecord): void {
    this.applyBatch([rec]);
  }

  /**
   * The upserts go to the build worker a batch at a time as one string (catalog-build-writer.ts,
   * SEP); the money check stays here, so its error names the line as before. Order is kept: a
   * delete, disable or clear goes after the upserts before it, on the same queue.
   *
   * A short product (code, barcodes, name, price; the usual price file) goes straight into the
   * batch's 5 fields per row (`short`), with no pass through writeProductRow's 14 values and a
   * second pass to pick 5 of them: measured ~0.1 s less of this thread's CPU per 1M rows, and in
   * code order this thread is the import's critical path. Any other row takes the 14-value path;
   * a change of kind sends what is pending first, so the worker sees the file's order.
   */
  applyBatch(recs: readonly PriceRecord[]): void {
    this.check();
    this.takeError();
    const vals = this.vals;
    const sp = this.shortParts;
    let n = 0;
    let ns = 0;
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i]!;
      if (rec.op === 'upsert') {
        const p = rec.product;
        checkMoney(p, rec.line);
        if (p.barcodes.length > 1) this.multi = true;
        if (!this.local && isShortProduct(p)) {
          if (n) this.sendRows(n);
          n = 0;
          // the price a number: join() writes it as String() would, the worker reads it back with Number()
          writeShortRow(p, sp, ns * SHORT_FIELDS);
          ns++;
          continue;
        }
        if (ns) this.sendShort(ns);
        ns = 0;
        writeProductRow(p, vals, n * UPSERT_COLUMNS);
        n++;
        continue;
      }
      if (n) this.sendRows(n);
      if (ns) this.sendShort(ns);
      n = 0;
      ns = 0;
      if (rec.op === 'clear') this.post({ t: 'clear' });
      else {
        this.post({ t: rec.op, code: rec.code });
        if (rec.op === 'delete') this.deletes++;
        else this.disables++;
      }
    }
    if (n) this.sendRows(n);
    if (ns) this.sendShort(ns);
  }

  /** the first ns short rows of shortParts, as one string */
  private sendShort(ns: number): void {
    const sp = this.shortParts;
    sp.length = ns * SHORT_FIELDS;
    this.inFlight();
    this.worker!.postMessage({ t: 'rows', n: ns, short: true, text: sp.join(SEP) });
    this.upserts += ns;
  }

  /** back-pressure: a bounded number of batches in flight keeps RSS flat when the worker is slower */
  private inFlight(): void {
    const deadline = Date.now() + CALL_DEADLINE_MS;
    for (let inFlight = Atomics.load(this.sig, 1); inFlight >= MAX_IN_FLIGHT; inFlight = Atomics.load(this.sig, 1)) {
      Atomics.wait(this.sig, 1, inFlight, 1000);
      this.takeError();
      if (Date.now() > deadline) throw this.stuck();
    }
    Atomics.add(this.sig, 1, 1);
  }

  /**
   * The first n rows of vals (rows that are not short: applyBatch sends those itself), as one
   * string of 14 fields per row when no value holds the separators, else as the values.
   */
  private sendRows(n: number): void {
    const vals = this.vals;
    const len = n * UPSERT_COLUMNS;
    if (this.local) {
      this.local.handle({ t: 'rows', n, vals });
      this.upserts += n;
      return;
    }
    const parts = new Array<string>(len);
    let text = true;
    for (let j = 0; j < len && text; j++) {
      const v = vals[j];
      if (v === null) parts[j] = NUL_FIELD;
      else if (typeof v === 'string') {
        if (v.indexOf(SEP) !== -1 || v === NUL_FIELD) text = false;
        parts[j] = v;
      } else if (typeof v === 'number') parts[j] = String(v);
      // anything else (undefined from a decoder's bug) goes as it is, to fail as it would in place
      else text = false;
    }
    this.inFlight();
    if (text) this.worker!.postMessage({ t: 'rows', n, text: parts.join(SEP) });
    else this.worker!.postMessage({ t: 'rows', n, vals: vals.slice(0, len) });
    this.upserts += n;
  }

  private post(m: BuildMessage): void {
    if (this.local) this.local.handle(m);
    else this.worker!.postMessage(m);
  }

  /** a request the worker answers after everything sent before it; waits for the answer */
  private call(m: BuildMessage): unknown {
    if (this.local) return this.local.handle(m);
    Atomics.store(this.sig, 0, 0);
    this.worker!.postMessage(m);
    const deadline = Date.now() + CALL_DEADLINE_MS;
    while (Atomics.load(this.sig, 0) === 0) {
      Atomics.wait(this.sig, 0, 0, 1000);
      if (Atomics.load(this.sig, 0) === 0 && Date.now() > deadline) throw this.stuck();
    }
    for (;;) {
      const r = receiveMessageOnPort(this.port!)?.message as { t: 'reply' | 'error'; value?: unknown; error?: WireError } | undefined;
      if (!r) throw new CfxError(ErrorCodes.INTERNAL, `catalog build of ${this.inbox.name}: the build worker signalled a reply and sent none`);
      if (r.t !== 'reply') continue;
      if (r.error) throw fromWire(r.error);
      return r.value;
    }
  }

  /** an error the worker met on rows sent before: thrown here, at the next batch */
  private takeError(): void {
    if (!this.port) return;
    for (let r = receiveMessageOnPort(this.port); r; r = receiveMessageOnPort(this.port)) {
      const m = r.message as { t: string; error?: WireError };
      if (m.t === 'error' && m.error) throw fromWire(m.error);
    }
  }

  private stuck(): CfxError {
    return new CfxError(ErrorCodes.STORE_IO, `catalog build of ${this.inbox.name}: the build worker did not answer within ${CALL_DEADLINE_MS / 60_000} min`);
  }

  private stopWorker(): void {
    if (!this.live) return;
    this.live = false;
    void this.worker?.terminate().catch(() => undefined);
    this.port?.close();
  }

  /**
   * The rows written so far go to disk on a libuv thread while the worker builds the indexes (this
   * thread only waits then), so the sync after finish has mostly the index pages left: ~0.1 s less
   * per 1M rows, measured on ext4. Its outcome does not matter: the sync after finish is the one
   * the commit stands on.
   */
  private earlySync(): void {
    if (!this.worker) return;
    try {
      const fd = openSync(this.file, 'r+');
      fsync(fd, () => {
        try {
          closeSync(fd);
        } catch {
          /* nothing to do about it in a callback */
        }
      });
    } catch {
      /* the sync after finish decides */
    }
  }

  commit(info: CommitInfo = {}): PriceApplyResult {
    this.check();
    const f = this.inbox;
    let products: number;
    let removed: number | undefined;
    let inboxId: number;
    try {
      removed = checkFullFile(f, this.guard, this.upserts, () => this.call({ t: 'count', what: 'prev' }) as number, () => this.call({ t: 'count', what: 'removed' }) as number);
      fault('prices.pull:building');
      this.earlySync();
      const now = new Date().toISOString();
      ({ products, inboxId } = this.call({ t: 'finish', name: f.name, now, inboxRow: inboxRow(f, now, this.upserts + this.deletes + this.disables, info.skipped), multi: this.multi }) as FinishResult);
      this.stopWorker();
      fsyncFile(this.file);
      fault('prices.pull:built');
    } catch (e) {
      this.rollback();
      throw commitFailed(e, f.name);
    }
    try {
      writeCatalogPointer(this.conn.dir, this.name);
    } catch (e) {
      // the rename happened or it did not: only a pointer naming the new file makes it the catalog
      let named = false;
      try {
        named = currentCatalog(this.conn.dir).name === this.name;
      } catch {
        /* unreadable: not named */
      }
      if (!named) {
        this.rollback();
        throw commitFailed(e, f.name);
      }
    }
    fault('prices.pull:swapped');
    this.open = false;
    try {
      this.release();
      this.conn.syncCatalog();
      // the old generation: readers elsewhere move on at their next read (an open file stays readable on POSIX)
      this.conn.removeOldGenerations();
    } catch {
      /* committed: a file left behind is removed at the next start-up */
    } finally {
      this.onEnd();
    }
    return { upserts: this.upserts, deletes: this.deletes, disables: this.disables, cleared: true, products, inboxId, ...(removed !== undefined ? { removed } : {}) };
  }

  rollback(): void {
    if (!this.open) return;
    this.open = false;
    try {
      try {
        if (this.live || this.local) this.call({ t: 'close' });
      } finally {
        this.stopWorker();
      }
      this.removeFiles();
    } finally {
      try {
        this.release();
      } finally {
        this.onEnd();
      }
    }
  }

  private removeFiles(): void {
    for (const sfx of ['', '-wal', '-shm', '-journal']) rmSync(this.file + sfx, { force: true });
  }

  private check(): void {
    if (!this.open) throw new CfxError(ErrorCodes.INTERNAL, `price apply of ${this.inbox.name} is already committed or rolled back`);
  }
}
