import type { Readable } from 'node:stream';
import type { Sale } from './model.js';
import type { CallOptions } from './transport.js';

/** A goods/prices export the back office has ready for the terminals. */
export interface BackOfficeExport {
  /** terminal the export is for (1C: one offline device per terminal) */
  terminal: string;
  fileName: string;
  formatId: string;
  /** options of `formatId` to read this export with (e.g. its encoding); default none (the format's defaults) */
  formatOptions?: Record<string, unknown>;
  open(): Readable;
  /** called after every terminal's copy is safely on the server: acknowledge to the back office */
  ack(): Promise<void>;
}

/**
 * An export the back office has seen but does not hand out now (a register already loaded it, a
 * package still lacks a part): `cfx publish` shows it instead of "nothing to publish".
 */
export interface WaitingExport {
  terminal?: string;
  /** the back office's file(s) */
  fileName: string;
  /** why, for a person: what is missing or done, and what happens next */
  reason: string;
  /** ISO 8601: since when, when known */
  since?: string;
}

/** Options of `pendingExports`. */
export interface PendingExportsOptions extends CallOptions {
  /** the terminals the office serves (`terminals` in the config): a back office with a folder per terminal looks at theirs */
  terminals?: string[];
  /** told of each export the back office sees but does not hand out (optional: older cores do not ask) */
  onWaiting?(w: WaitingExport): void;
}

/** A sale the back office did not take because it would break its import ("needs attention"). */
export interface HeldBackSale {
  saleId: string;
  /** why, for a person: what is wrong and what to do */
  reason: string;
  /** the sale field at fault (`code`, `time`, …) */
  field?: string;
  /** where the adapter keeps the held-back sale (a local file), so it is not lost */
  file?: string;
}

/** What a delivery may report back; an adapter may also resolve with nothing (everything taken). */
export interface DeliveryReport {
  /** sales of the batch the back office did not take; the rest are delivered */
  heldBack?: HeldBackSale[];
}

/** What a back office's `create` gets besides its options. */
export interface BackOfficeCreateContext {
  /** the config file's dir: relative paths in the options are relative to it */
  baseDir: string;
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
  pendingExports?(opts?: PendingExportsOptions): Promise<BackOfficeExport[]>;
  /**
   * Hands collected sales of one terminal to the back office; resolves when durably delivered.
   * Must be idempotent per `opts.batchId` (see DeliverOptions): that is how the core gets
   * exactly-once delivery across crashes. It may resolve with a DeliveryReport naming sales it held
   * back (kept aside, with a reason); the core records them as needing attention. Delivering the
   * same batch id again must report the same held-back sales.
   */
  deliverSales?(terminal: string, sales: Sale[], opts?: DeliverOptions): Promise<void | DeliveryReport>;
  close?(): Promise<void>;
}

export interface BackOfficeProvider {
  id: string;
  /** `ctx` is given by cfx from API 1.0 on (baseDir); older providers ignore it */
  create(options: Record<string, unknown>, ctx?: BackOfficeCreateContext): BackOffice | Promise<BackOffice>;
}
