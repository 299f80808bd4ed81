import { mkdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { CfxError, ErrorCodes, errorMessage, type Format, type Logger, type Sale, type Transport } from '../api/index.js';
import type { CfxConfig } from '../config/types.js';
import type { Store, SaleRecord } from '../store/index.js';
import { dataPaths } from '../app/paths.js';
import { expandTemplate, safeLocalName } from './names.js';

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

/**
 * Sales push for the terminal role. Each journaled sale becomes one file with a deterministic name
 * (`<terminal>_<saleId>.<ext>`), uploaded under a temp name and renamed, so a retry or a resend
 * overwrites instead of duplicating. The local copy is written before the upload.
 */
export class SalesPush {
  private readonly dirReady = new WeakSet<Transport>();
  /** progress of the current flush or resend (a CLI sets its bar here) */
  onProgress: ((p: PushProgress) => void) | undefined;

  constructor(private readonly deps: SalesPushDeps) {
    this.onProgress = deps.onProgress;
    if (deps.transports.length === 0) throw new CfxError(ErrorCodes.INTERNAL, 'SalesPush needs at least one transport');
  }

  get dir(): string {
    return expandTemplate(this.deps.config.sales.dir, { terminal: this.deps.config.terminal });
  }

  remoteName(terminalId: string, saleId: string): string {
    return `${terminalId}_${saleId}.${this.deps.format.extension}`;
  }

  private encode(sale: Sale): Uint8Array {
    const { format, config } = this.deps;
    if (!format.encodeSale) throw new CfxError(ErrorCodes.FORMAT_UNSUPPORTED, `format "${format.id}" cannot write sales`);
    return format.encodeSale(sale, { options: config.sales.options });
  }

  private async upload(t: Transport, name: string, bytes: Uint8Array): Promise<void> {
    const { signal } = this.deps;
    if (!this.dirReady.has(t)) {
      await t.mkdir(this.dir, { signal });
      this.dirReady.add(t);
    }
    const tmp = posix.join(this.dir, `.${name}.part`);
    await t.write(tmp, bytes, { signal });
    await t.rename(tmp, posix.join(this.dir, name), { signal });
  }

  private keepCopy(localDate: string, name: string, bytes: Uint8Array): void {
    const dir = join(dataPaths(this.deps.config.dataDir).archiveSales, localDate);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, safeLocalName(name)), bytes);
  }

  /** Runs `work` over `items` on every connection at once; a failing connection stops taking work. */
  private async fanOut<T>(items: T[], work: (t: Transport, item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const lane = async (t: Transport) => {
      while (next < items.length && !this.deps.signal?.aborted) {
        const item = items[next++]!;
        await work(t, item);
      }
    };
    const results = await Promise.allSettled(this.deps.transports.map(lane));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Uploads every pending sale of the journal (oldest first). A network failure stops the flush
   * and is thrown after the work of the other connections settles; sent sales stay sent.
   */
  async flush(limit = 100_000): Promise<PushResult> {
    const { store, logger } = this.deps;
    const onProgress = this.onProgress;
    const pending = store.pendingOutbox(limit).filter((e) => e.dest === DEST);
    const result: PushResult = { sent: 0, failed: 0, bytes: 0, names: [], errors: [] };
    let done = 0;
    try {
      await this.fanOut(pending, async (t, e) => {
        const sale = JSON.parse(e.body) as Sale;
        const name = this.remoteName(e.terminalId, e.saleId);
        const bytes = this.encode(sale);
        this.keepCopy(e.localDate, name, bytes);
        try {
          await this.upload(t, name, bytes);
        } catch (err) {
          store.markFailed(e.saleId, e.terminalId, DEST, errorMessage(err));
          result.failed++;
          result.errors.push({ saleId: e.saleId, message: errorMessage(err) });
          throw err;
        }
        store.markSent(e.saleId, e.terminalId, DEST, name);
        result.sent++;
        result.bytes += bytes.length;
        result.names.push(name);
        onProgress?.({ done: ++done, total: pending.length, name });
      });
    } finally {
      if (result.sent) logger.info({ sent: result.sent, bytes: result.bytes }, 'sales pushed');
    }
    return result;
  }

  /** The journal's sales of a period (local dates, inclusive), re-uploaded under the same names. */
  planResend(from: string, to: string): SaleRecord[] {
    if (from > to) throw new CfxError(ErrorCodes.USAGE, `resend period is backwards: ${from} is after ${to}`);
    return this.deps.store.salesBetween(from, to).filter((s) => s.terminalId === this.deps.config.terminal);
  }

  async resend(from: string, to: string): Promise<PushResult> {
    const { logger } = this.deps;
    const onProgress = this.onProgress;
    const sales = this.planResend(from, to);
    const result: PushResult = { sent: 0, failed: 0, bytes: 0, names: [], errors: [] };
    let done = 0;
    await this.fanOut(sales, async (t, s) => {
      const name = this.remoteName(s.terminalId, s.saleId);
      const bytes = this.encode(JSON.parse(s.body) as Sale);
      this.keepCopy(s.localDate, name, bytes);
      await this.upload(t, name, bytes);
      // a resend also settles a sale that was still pending
      this.deps.store.markSent(s.saleId, s.terminalId, DEST, name);
      result.sent++;
      result.bytes += bytes.length;
      result.names.push(name);
      onProgress?.({ done: ++done, total: sales.length, name });
    });
    logger.info({ from, to, sent: result.sent }, 'sales resent');
    return result;
  }
}

/** `resend-YYYYMMDD-YYYYMMDD.req` → the period it asks for, or undefined */
export function parseResendRequest(name: string): { from: string; to: string } | undefined {
  const m = /^resend-(\d{4})(\d{2})(\d{2})-(\d{4})(\d{2})(\d{2})\.req$/.exec(name);
  if (!m) return undefined;
  return { from: `${m[1]}-${m[2]}-${m[3]}`, to: `${m[4]}-${m[5]}-${m[6]}` };
}
