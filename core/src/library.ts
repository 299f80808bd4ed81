import { EventEmitter } from 'node:events';
import type { Product } from './api/index.js';
import { App } from './app/app.js';
import type { PushResult } from './jobs/sales-push/sales-push.js';
import { Service } from './scheduler/service.js';
import type { RecordOutcome, ShiftCloseOutcome } from './sales/intake.js';
import type { Logger } from './api/index.js';

export interface OpenTerminalOptions {
  /** path of cfx.yaml */
  config: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

/**
 * The library API for a till written in Node: the same store, jobs and rules as `cfx run`, in the
 * till's own process.
 *
 *   const cfx = await openTerminal({ config: 'cfx.yaml' });
 *   await cfx.start();                       // price poll + sales push in the background
 *   await cfx.recordSale(saleJson);          // resolves once the sale is durably journaled
 *   cfx.catalog.byBarcode('4820000000011');
 *   await cfx.close();
 */
export class Terminal extends EventEmitter {
  private readonly service: Service;
  private running = false;

  private constructor(readonly app: App) {
    super();
    this.service = new Service(app);
  }

  static open(o: OpenTerminalOptions): Terminal {
    const app = App.open({ configFile: o.config, store: 'rw', ...(o.env ? { env: o.env } : {}), ...(o.logger ? { logger: o.logger } : {}) });
    if (app.config.role !== 'terminal') {
      void app.close();
      throw new Error(`openTerminal needs a terminal config (${o.config} has role: ${app.config.role})`);
    }
    return new Terminal(app);
  }

  /** starts the background jobs of `cfx run` (price poll, sales push, spool, cron) */
  async start(): Promise<void> {
    await this.service.start();
    this.running = true;
  }

  /**
   * Validates and journals one sale (or an array, all or nothing). Resolves only once SQLite has
   * it on disk; the upload happens in the background when started, else on `push()`.
   */
  async recordSale(input: unknown): Promise<RecordOutcome[]> {
    const out = this.service.recordSale(input);
    for (const o of out) this.emit('sale:recorded', o);
    return out;
  }

  /**
   * Validates and journals a shift close (docs/fleet.md: shift, closedAt, lastReceiptNo, totals by
   * payment kind as decimal strings). Resolves once it is on disk; it is uploaded after the sales.
   * The same close again resolves with status 'duplicate'; a different one for the same shift
   * throws CFX_E_SHIFT_CONFLICT.
   */
  async closeShift(input: unknown): Promise<ShiftCloseOutcome> {
    const out = this.service.closeShift(input);
    this.emit('shift:closed', out);
    return out;
  }

  /** uploads the backlog now */
  async push(): Promise<PushResult> {
    return (await this.service.app.jobs.run('sales.push', { trigger: 'api' })).output as PushResult;
  }

  /** re-uploads the sales of a period (local dates, inclusive) */
  async resend(from: string, to: string): Promise<PushResult> {
    return (await this.service.app.jobs.run('sales.resend', { trigger: 'api', params: { from, to } })).output as PushResult;
  }

  get catalog(): { get(code: string): Product | undefined; byBarcode(barcode: string): Product | undefined; search(q: string, limit?: number): Product[]; count(): number } {
    const s = this.app.store;
    return {
      get: (code) => s.catalog.get(code),
      byBarcode: (b) => s.catalog.findByBarcode(b),
      search: (q, limit = 50) => s.catalog.list({ q, limit }),
      count: () => s.catalog.count(),
    };
  }

  async close(): Promise<void> {
    if (this.running) await this.service.stop();
    this.running = false;
    await this.app.close();
  }
}

export function openTerminal(o: OpenTerminalOptions): Terminal {
  return Terminal.open(o);
}
