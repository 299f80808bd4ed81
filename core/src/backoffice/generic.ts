import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CfxError, ErrorCodes, type BackOffice, type BackOfficeProvider, type DeliverOptions, type JsonSchema, type Sale } from '../api/index.js';

/**
 * The `generic` back office: collected sales go to a local folder as CSV files any accounting
 * program (or a person with a spreadsheet) can import. One file per delivery batch:
 *
 *   <outDir>/sales-<terminal>-<batchId>.csv
 *
 * Written to a temp name (`.sales-….csv.part`), fsynced, renamed, and the folder fsynced: a reader
 * never sees half a file, and delivering the same batch again (after a crash) replaces the same
 * file with the same bytes, so a batch is never in the folder twice.
 *
 * The file: UTF-8 with a BOM (Excel and 1C detect it), `;` separated, CRLF line ends, a header,
 * then one row per sale line (a sale without lines gets one row with the line columns empty):
 *
 *   terminal;saleId;time;kind;shift;receiptNo;cashier;code;barcode;name;qty;price;discount;amount;saleTotal
 *
 * Money as decimal strings with a dot and 2 decimals (`350.00`, `-20.00` in a return), quantities
 * with 3 (`1.000`, `0.250`); never floats. `discount` is `0.00` when the till gave none. `time` is
 * the till's ISO 8601 timestamp as it came. A field holding `;`, `"` or a line break is quoted
 * (RFC 4180, quotes doubled). Payments are not in this file. See docs/backoffice-generic.md.
 */

export const GENERIC_COLUMNS = ['terminal', 'saleId', 'time', 'kind', 'shift', 'receiptNo', 'cashier', 'code', 'barcode', 'name', 'qty', 'price', 'discount', 'amount', 'saleTotal'] as const;

export interface GenericOptions {
  /** the folder the files go to; relative paths are relative to the config file's dir */
  outDir: string;
}

export const genericOptionsSchema: JsonSchema = {
  $id: 'cfx:plugin/generic',
  type: 'object',
  additionalProperties: false,
  required: ['outDir'],
  properties: {
    outDir: { description: 'folder the sales CSV files are written to (relative: to the config file)', type: 'string', minLength: 1 },
  },
};

const BOM = '\ufeff';
const SEP = ';';

/** integer → fixed decimal string, exact: 35000, 2 → "350.00"; -1500, 3 → "-1.500" */
export function fixedDecimal(v: number, scale: number): string {
  if (!Number.isSafeInteger(v)) throw new CfxError(ErrorCodes.SALE_INVALID, `${v} is not an integer amount`);
  const neg = v < 0;
  const digits = String(Math.abs(v)).padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  return `${neg ? '-' : ''}${int}${scale ? '.' + digits.slice(digits.length - scale) : ''}`;
}

function field(v: string): string {
  return /[;"\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The CSV text of one batch (BOM included). */
export function renderSalesCsv(terminal: string, sales: Sale[]): string {
  const rows: string[] = [GENERIC_COLUMNS.join(SEP)];
  for (const s of sales) {
    const head = [terminal, s.saleId, s.time, s.kind, s.shift === undefined ? '' : String(s.shift), s.receiptNo === undefined ? '' : String(s.receiptNo), s.cashier ?? ''];
    const total = fixedDecimal(s.total, 2);
    const lines = s.lines.length ? s.lines : [undefined];
    for (const l of lines) {
      const line = l
        ? [l.code, l.barcode ?? '', l.name ?? '', fixedDecimal(l.qty, 3), fixedDecimal(l.price, 2), fixedDecimal(l.discount ?? 0, 2), fixedDecimal(l.amount, 2)]
        : ['', '', '', '', '', '', ''];
      rows.push([...head, ...line, total].map(field).join(SEP));
    }
  }
  return BOM + rows.join('\r\n') + '\r\n';
}

const SAFE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** a stable id for a call without one: the same sales give the same file */
function derivedBatchId(terminal: string, sales: Sale[]): string {
  const h = createHash('sha256').update(terminal);
  for (const s of sales) h.update('\0' + s.saleId);
  return `h${h.digest('hex').slice(0, 20)}`;
}

function writeDurably(dir: string, name: string, text: string): void {
  const tmp = join(dir, `.${name}.part`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, Buffer.from(text, 'utf8'));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, join(dir, name));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  // the rename itself must survive a power cut before the core marks the batch delivered
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* some platforms (Windows) cannot fsync a directory */
  }
}

export function createGenericBackOffice(options: GenericOptions, baseDir = process.cwd()): BackOffice {
  if (typeof options?.outDir !== 'string' || options.outDir === '') {
    throw new CfxError(ErrorCodes.CONFIG_INVALID, 'back office "generic" needs options.outDir (the folder the sales files go to)');
  }
  const outDir = isAbsolute(options.outDir) ? options.outDir : resolve(baseDir, options.outDir);
  return {
    id: 'generic',
    async deliverSales(terminal: string, sales: Sale[], opts?: DeliverOptions): Promise<void> {
      opts?.signal?.throwIfAborted();
      const batchId = opts?.batchId ?? derivedBatchId(terminal, sales);
      for (const [what, v] of [['terminal', terminal], ['batch id', batchId]] as const) {
        if (!SAFE.test(v)) throw new CfxError(ErrorCodes.UNSAFE_NAME, `back office "generic": ${what} ${JSON.stringify(v)} cannot be part of a file name`);
      }
      const text = renderSalesCsv(terminal, sales);
      mkdirSync(outDir, { recursive: true });
      writeDurably(outDir, `sales-${terminal}-${batchId}.csv`, text);
    },
  };
}

/** The provider the core registers; relative `outDir`s resolve against `baseDir` (the config file's dir). */
export function genericBackOfficeProvider(baseDir: string): BackOfficeProvider {
  return { id: 'generic', create: (options) => createGenericBackOffice(options as unknown as GenericOptions, baseDir) };
}
