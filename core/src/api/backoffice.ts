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

/**
 * Back-office adapter: the canonical model <-> the back office's own world (folders, flag
 * files, acknowledgement marks). The core guarantees each saleId is handed over once.
 */
export interface BackOffice {
  id: string;
  /** exports waiting to be published (office role) */
  pendingExports?(opts?: CallOptions): Promise<BackOfficeExport[]>;
  /** hands collected sales of one terminal to the back office; resolves when durably delivered */
  deliverSales?(terminal: string, sales: Sale[], opts?: CallOptions): Promise<void>;
  close?(): Promise<void>;
}

export interface BackOfficeProvider {
  id: string;
  create(options: Record<string, unknown>): BackOffice | Promise<BackOffice>;
}
