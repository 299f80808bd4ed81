import { createHash } from 'node:crypto';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { SaleKind } from '../api/model.js';
import type { CollectedSale, SaleColumns } from './repositories.js';

/** What the repositories share besides the connection: a row's type, row → object of tables read by two of them, checks. */

export type Row = Record<string, unknown>;

/** sorts after every string with the same prefix (highest code point, UTF-8 F4 8F BF BF) */
export const MAX_CHAR = '\u{10FFFF}';

export const now = (): string => new Date().toISOString();

export const sha256Hex = (s: string): string => createHash('sha256').update(s).digest('hex');

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function checkDate(d: string, what: string): void {
  if (!DATE.test(d)) throw new CfxError(ErrorCodes.SALE_INVALID, `${what} must be a local date YYYY-MM-DD, got ${JSON.stringify(d)}`, { details: { field: what } });
}

/** the columns a journaled sale (sales) and a collected one (collected) share */
export const saleColumns = (r: Row): SaleColumns => ({
  terminalId: r.terminal_id as string,
  saleId: r.sale_id as string,
  time: r.time as string,
  localDate: r.local_date as string,
  kind: r.kind as SaleKind,
  total: r.total as number,
  body: r.body as string,
  sha256: r.sha256 as string,
});

/** a `collected` row: read by the collected sales and by the batches that deliver them */
export const toCollected = (r: Row): CollectedSale => ({
  id: r.id as number,
  ...saleColumns(r),
  fileName: r.file_name as string,
  receivedAt: r.received_at as string,
  ...(r.batch_id !== null ? { batchId: r.batch_id as string } : {}),
  ...(r.delivered_at !== null ? { deliveredAt: r.delivered_at as string } : {}),
});
