import { createReadStream, mkdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { CfxError, ErrorCodes, TransportError, type Format, type Logger, type RemoteEntry, type Transport } from '../api/index.js';
import type { CfxConfig } from '../config/types.js';
import type { Store } from '../store/index.js';
import { dataPaths, localDate } from '../app/paths.js';
import { expandTemplate, isMarkerName, isTempName, safeLocalName } from './names.js';
import { archiveFile, deleteRemote, downloadToStaging, formatProblem, quarantineFile } from './file-steps.js';

export type FileOutcome =
  | { name: string; result: 'applied'; mode: 'full' | 'delta'; records: number; bytes: number; archived: string }
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

const REQUEST_RE = /^resend-\d{8}-\d{8}\.req$/;

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
  onProgress?: (p: PullProgress) => void;
}

interface Seen {
  size: number;
  mtime: number | undefined;
  at: number;
}

/**
 * Price pull for the terminal role: list the inbox, take complete files oldest first, download
 * to staging, then apply + inbox-log row in one transaction, archive, and only then delete the
 * remote file. Every step is safe to repeat, so a crash anywhere is finished by the next cycle.
 * The object keeps the last listing so "size unchanged across two listings" works across polls.
 */
export class PricePull {
  private readonly seen = new Map<string, Seen>();
  /** the flag file (`x.csv.done`, `x.flg`) that marked a file complete; deleted after the file */
  private readonly flags = new Map<string, string>();
  private readonly orphanFlags: string[] = [];

  constructor(private readonly deps: PricePullDeps) {}

  get dir(): string {
    const c = this.deps.config;
    return expandTemplate(c.prices.dir, { terminal: c.terminal });
  }

  /** Which files are complete now. Updates the size memory used by the next call. */
  async listReady(): Promise<{ ready: RemoteEntry[]; waiting: string[]; requests: string[] }> {
    const { transport, config, signal } = this.deps;
    let entries: RemoteEntry[];
    try {
      entries = await transport.list(this.dir, { signal });
    } catch (e) {
      // an inbox that does not exist yet is an empty inbox
      if (e instanceof TransportError && e.kind === 'NotFound') return { ready: [], waiting: [], requests: [] };
      throw e;
    }
    const names = new Set(entries.map((e) => e.name));
    const now = Date.now();
    const ready: RemoteEntry[] = [];
    const waiting: string[] = [];
    const requests: string[] = [];
    const current = new Set<string>();
    for (const e of entries) {
      if (e.type !== 'file' || isTempName(e.name) || isMarkerName(e.name)) continue;
      if (REQUEST_RE.test(e.name)) {
        requests.push(e.name);
        continue;
      }
      current.add(e.name);
      const flag = [`${e.name}.done`, e.name.replace(/\.[^.]*$/, '') + '.flg'].find((f) => names.has(f));
      const flagged = flag !== undefined;
      if (flag) this.flags.set(e.name, flag);
      const prev = this.seen.get(e.name);
      const mtime = e.mtime?.getTime();
      const stable = prev !== undefined && prev.size === e.size && prev.mtime === mtime && now - prev.at >= config.prices.stableMs;
      if (flagged || stable) ready.push(e);
      else waiting.push(e.name);
      if (!prev || prev.size !== e.size || prev.mtime !== mtime) this.seen.set(e.name, { size: e.size, mtime, at: now });
    }
    for (const k of this.seen.keys()) if (!current.has(k)) this.seen.delete(k);
    // a flag whose file is gone was left by a crash between the two deletes: finish the job
    for (const e of entries) {
      if (e.type === 'file' && e.name.endsWith('.done') && !names.has(e.name.slice(0, -'.done'.length))) this.orphanFlags.push(e.name);
    }
    // files must apply in order: by name, then by time
    ready.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : (a.mtime?.getTime() ?? 0) - (b.mtime?.getTime() ?? 0)));
    return { ready, waiting, requests: requests.sort() };
  }

  /** One cycle: everything complete in the inbox now. Network errors propagate (retry next cycle). */
  async cycle(): Promise<PullResult> {
    const { ready, waiting, requests } = await this.listReady();
    for (const f of this.orphanFlags.splice(0)) await this.deleteRemote(posix.join(this.dir, f));
    const result: PullResult = { dir: this.dir, files: [], waiting, requests, bytes: 0 };
    for (const entry of ready) {
      if (this.deps.signal?.aborted) break;
      const outcome = await this.takeFile(entry);
      const flag = this.flags.get(entry.name);
      if (flag) {
        await this.deleteRemote(posix.join(this.dir, flag));
        this.flags.delete(entry.name);
      }
      if (outcome.result !== 'quarantined') result.bytes += outcome.bytes;
      result.files.push(outcome);
      this.seen.delete(entry.name);
    }
    return result;
  }

  private async takeFile(entry: RemoteEntry): Promise<FileOutcome> {
    const { config, store, logger, signal } = this.deps;
    const remote = posix.join(this.dir, entry.name);
    const local = safeLocalName(entry.name);
    const paths = dataPaths(config.dataDir);
    mkdirSync(paths.staging, { recursive: true });

    if (entry.size > config.prices.maxFileBytes) {
      const reason = { file: entry.name, code: ErrorCodes.FILE_TOO_LARGE, message: `file is ${entry.size} bytes, the limit (prices.maxFileSize) is ${config.prices.maxFileBytes}` };
      return this.quarantine(entry.name, remote, undefined, reason);
    }

    const staged = join(paths.staging, local);
    const { sha256, bytes } = await this.download(remote, staged, entry.size);
    signal?.throwIfAborted();

    const already = store.inboxLookup(entry.name, sha256);
    if (already) {
      // applied before a crash or a failed delete: finish the remaining steps, apply nothing again
      const archived = this.archive(staged, local);
      await this.deleteRemote(remote);
      logger.info({ file: entry.name, sha256 }, 'price file was already applied; archived and removed from the server');
      return { name: entry.name, result: 'already-applied', bytes, archived };
    }

    let applied: { mode: 'full' | 'delta'; records: number };
    try {
      applied = await this.apply(entry, staged, sha256, bytes);
    } catch (e) {
      const reason = formatProblem(e, entry.name, sha256);
      if (reason) return this.quarantine(entry.name, remote, staged, reason);
      throw e;
    }
    const archived = this.archive(staged, local);
    await this.deleteRemote(remote);
    logger.info({ file: entry.name, mode: applied.mode, records: applied.records, bytes }, 'price file applied');
    return { name: entry.name, result: 'applied', mode: applied.mode, records: applied.records, bytes, archived };
  }

  private async download(remote: string, staged: string, total: number): Promise<{ sha256: string; bytes: number }> {
    const { transport, signal, onProgress } = this.deps;
    let lastTick = 0;
    const name = posix.basename(remote);
    // durable before it is trusted: the apply and the remote delete depend on this copy
    return downloadToStaging(transport, remote, staged, {
      signal,
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

  private async apply(entry: RemoteEntry, staged: string, sha256: string, bytes: number): Promise<{ mode: 'full' | 'delta'; records: number }> {
    const { config, store, format, signal, onProgress } = this.deps;
    if (!format.decodePrices) throw new CfxError(ErrorCodes.FORMAT_UNSUPPORTED, `format "${format.id}" cannot read price files`);
    const decoded = await format.decodePrices(createReadStream(staged, { highWaterMark: 256 * 1024 }), {
      fileName: entry.name,
      options: config.prices.options,
      maxLineLength: config.prices.maxLineBytes,
      ...(signal ? { signal } : {}),
    });
    const tx = store.beginPriceApply({ name: entry.name, size: bytes, ...(entry.mtime ? { mtime: entry.mtime } : {}), sha256, mode: decoded.mode });
    let records = 0;
    try {
      for await (const rec of decoded.records) {
        tx.apply(rec);
        // a full file's leading "clear" is not one of its records
        if (rec.op !== 'clear' && ++records % 100_000 === 0) {
          onProgress?.({ file: entry.name, phase: 'apply', records, bytes, total: bytes });
          signal?.throwIfAborted();
        }
      }
      tx.commit();
    } catch (e) {
      tx.rollback();
      throw e;
    }
    return { mode: decoded.mode, records };
  }

  private archive(staged: string, local: string): string {
    // the same name twice a day is normal (a delta file re-used): keep both copies
    return archiveFile(staged, join(dataPaths(this.deps.config.dataDir).archivePrices, localDate()), local);
  }

  /** removes a handled request file from the inbox */
  deleteRequest(name: string): Promise<void> {
    return this.deleteRemote(posix.join(this.dir, name));
  }

  private deleteRemote(remote: string): Promise<void> {
    return deleteRemote(this.deps.transport, remote, this.deps.signal);
  }

  /** Keep the bad file locally with its reason, move the remote one aside, and let the job go on. */
  private async quarantine(name: string, remote: string, staged: string | undefined, reason: Record<string, unknown>): Promise<FileOutcome> {
    const { config, store, transport, logger, signal } = this.deps;
    // the local copy and reason are kept first; a failed remote move is retried when the file is seen again
    const { quarantined } = await quarantineFile({ dataDir: config.dataDir, store, transport, logger, signal }, { job: 'prices.pull', label: 'price file', name, remote, staged, reason });
    return { name, result: 'quarantined', reason, quarantined };
  }
}
