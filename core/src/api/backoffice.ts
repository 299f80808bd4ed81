import type { Readable } from 'node:stream';
import type { Sale } from './model.js';
import type { CallOptions } from './transport.js';

/** A goods/prices export the back office has ready for the terminals. */
export interface BackOfficeExport {
  /** terminal the export is for (1C: one offline device per terminal) */
  terminal: string;
  fileName: string;
  formatId: string;
  open(): Readable;
  /** called after every terminal's copy is safely on the server: acknowledge to the back office */
  ack(): Promise<void>;
}

/** Options of one delivery. */
export interface DeliverOptions extends CallOptions {
  /**
   * Identifies the delivery batch. The core hands the same batch (same id, same sales) again after a
   * crash or a failed call, so an adapter must make delivering one batch id twice have the effect of
   * delivering it once (e.g. write the batch to a file named after the id, replacing it).
   * Optional for backward compatibility: an adapter called without it should derive a stable id
   * from the sales it got.
   */
  batchId?: string;
}

/**
 * Back-office adapter: the canonical model <-> the back office's own world (folders, flag
 * files, acknowledgement marks). The core guarantees each saleId is handed over once.
 */
export interface BackOffice {
  id: string;
  /** exports waiting to be published (office role) */
  pendingExports?(opts?: CallOptions): Promise<BackOfficeExport[]>;
  /**
   * Hands collected sales of one terminal to the back office; resolves when durably delivered.
   * Must be idempotent per `opts.batchId` (see DeliverOptions): that is how the core gets
   * exactly-once delivery across crashes.
   */
  deliverSales?(terminal: string, sales: Sale[], opts?: DeliverOptions): Promise<void>;
  close?(): Promise<void>;
}

export interface BackOfficeProvider {
  id: string;
  create(options: Record<string, unknown>): BackOffice | Promise<BackOffice>;
}
