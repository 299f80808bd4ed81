import { CfxError, ErrorCodes } from '@cfx/core/api';
import { durationMs, durationSchema, type Duration } from './duration.js';
import type { DecimalMode } from './numbers.js';
import type { TextEncoding } from './text.js';

export type PaymentCodes = { cash?: number; card?: number; other?: number };

/** Options of the `atol` format (`prices.options` / `sales.options` in the config); see README.md. */
export interface AtolFormatOptions {
  /** reading: `auto` (default) takes a BOM as UTF-8, valid UTF-8 as UTF-8, else cp1251; writing: `auto` = cp1251 */
  encoding?: TextEncoding;
  /** reading: `auto` (default) takes `,` and `.`; writing: `.` writes dots, anything else commas */
  decimal?: DecimalMode;
  /** reading goods files: numbers may group digits in threes with a space (`1 234,50`); default false (1C and Frontol never group) */
  thousands?: boolean;
  /** line ends written; default `crlf` (1C writes CRLF) */
  lineEnd?: 'crlf' | 'lf';
  /** longest line in characters; the smaller of this and the core's limit applies */
  maxLineLength?: number;
  /** [U] sign of qty and amounts on return lines (field 13 = 1) written; default `negative` */
  returnSign?: 'negative' | 'positive';
  /** field 5, the register (workplace) number; default 1 */
  workplace?: number;
  /** report line 2; default `1` */
  databaseId?: string;
  /** report line 3; default 1 (the adapter counts it up per report) */
  reportNumber?: number;
  /** number of the first transaction written; default 1 (the adapter continues across reports) */
  firstTransaction?: number;
  /** field 14 for sales without a shift; default 1 */
  defaultShift?: number;
  /** field 7 when the sale's cashier is not a number; default 1 */
  cashierCode?: number;
  /** [U] field 9 of a payment line (type 40) per payment kind; default cash 1, card 2, other 3 */
  paymentCodes?: PaymentCodes;
  /** reports refuse item codes that are not digits (1C's import fails on them); default true */
  numericCodes?: boolean;
  /** sale fragments carry the canonical sale after the transactions (see README); default true */
  cfxTrailer?: boolean;
  /** reading: a cancelled document (56) is dropped (default, as 1C does) or read as a `cancel` sale */
  cancelled?: 'drop' | 'keep';
  /** reading sales without a cfx trailer: the terminal id; default the file name up to its first `_` */
  terminal?: string;
  /** reading sales without a cfx trailer: the offset of the register's clock (`+02:00`, `Z`); default `local` */
  utcOffset?: string;
  /**
   * reading a report: a receipt without its closing line (55/56) leaves the file on the server
   * until it is closed; once the file is older than this it is quarantined instead (`90s`, `30m`,
   * `2h` or milliseconds; default `1h`)
   */
  openReceiptWait?: Duration;
}

export interface ResolvedOptions {
  encoding: TextEncoding;
  /** what writers write: never `auto` */
  writeEncoding: 'utf-8' | 'cp1251';
  decimal: DecimalMode;
  thousands: boolean;
  point: string;
  eol: string;
  maxLineLength: number | undefined;
  returnSign: 1 | -1;
  workplace: number;
  databaseId: string;
  reportNumber: number;
  firstTransaction: number;
  defaultShift: number;
  cashierCode: number;
  paymentCodes: Required<PaymentCodes>;
  numericCodes: boolean;
  cfxTrailer: boolean;
  keepCancelled: boolean;
  terminal: string | undefined;
  utcOffset: string;
  openReceiptWaitMs: number;
}

const count = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;

/** the `configSchema.atol` of package.json (a test keeps the two equal) */
export const atolOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    encoding: { enum: ['auto', 'utf-8', 'cp1251'] },
    decimal: { enum: ['auto', ',', '.'] },
    thousands: { type: 'boolean' },
    lineEnd: { enum: ['crlf', 'lf'] },
    maxLineLength: { type: 'integer', minimum: 64 },
    returnSign: { enum: ['negative', 'positive'] },
    workplace: count,
    databaseId: { type: 'string', pattern: '^[^;\\r\\n]*$' },
    reportNumber: count,
    firstTransaction: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    defaultShift: count,
    cashierCode: count,
    paymentCodes: { type: 'object', additionalProperties: false, properties: { cash: count, card: count, other: count } },
    numericCodes: { type: 'boolean' },
    cfxTrailer: { type: 'boolean' },
    cancelled: { enum: ['drop', 'keep'] },
    terminal: { type: 'string', minLength: 1 },
    utcOffset: { type: 'string', pattern: '^(local|Z|[+-]\\d{2}:\\d{2})$' },
    openReceiptWait: durationSchema,
  },
} as const;

const OFFSET_RE = /^(local|Z|[+-]\d{2}:\d{2})$/;

/** checks what the host's schema check may not have seen (options handed to createAtolFormat directly) */
export function resolveOptions(input: AtolFormatOptions | Record<string, unknown> = {}): ResolvedOptions {
  const o = input as AtolFormatOptions;
  const bad = (msg: string) => new CfxError(ErrorCodes.CONFIG_INVALID, `atol format: ${msg}`);
  const oneOf = <T extends string>(name: string, v: unknown, allowed: readonly T[], dflt: T): T => {
    if (v === undefined) return dflt;
    if (!(allowed as readonly unknown[]).includes(v)) throw bad(`${name} ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
    return v as T;
  };
  const int = (name: string, v: unknown, dflt: number, min = 0): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw bad(`${name} must be an integer >= ${min}`);
    return v;
  };
  const bool = (name: string, v: unknown, dflt: boolean): boolean => {
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw bad(`${name} must be true or false`);
    return v;
  };
  const encoding = oneOf('encoding', o.encoding, ['auto', 'utf-8', 'cp1251'] as const, 'auto');
  const decimal = oneOf('decimal', o.decimal, ['auto', ',', '.'] as const, 'auto');
  const lineEnd = oneOf('lineEnd', o.lineEnd, ['crlf', 'lf'] as const, 'crlf');
  const maxLineLength = o.maxLineLength === undefined ? undefined : int('maxLineLength', o.maxLineLength, 0, 64);
  const returnSign = oneOf('returnSign', o.returnSign, ['negative', 'positive'] as const, 'negative');
  const databaseId = o.databaseId ?? '1';
  if (typeof databaseId !== 'string' || /[;\r\n]/.test(databaseId)) throw bad('databaseId must be a string without ";" or line breaks');
  const pc = o.paymentCodes ?? {};
  if (typeof pc !== 'object' || pc === null) throw bad('paymentCodes must be an object');
  for (const k of Object.keys(pc)) if (!['cash', 'card', 'other'].includes(k)) throw bad(`paymentCodes.${k}: only cash, card and other`);
  const terminal = o.terminal;
  if (terminal !== undefined && (typeof terminal !== 'string' || terminal === '')) throw bad('terminal must be a non-empty string');
  const utcOffset = o.utcOffset ?? 'local';
  if (typeof utcOffset !== 'string' || !OFFSET_RE.test(utcOffset)) throw bad(`utcOffset ${JSON.stringify(utcOffset)} is not local, Z or ±hh:mm`);
  const openReceiptWaitMs = durationMs(o.openReceiptWait, 3_600_000);
  if (openReceiptWaitMs === undefined) throw bad(`openReceiptWait ${JSON.stringify(o.openReceiptWait)} is not a duration like 90s, 30m, 2h or milliseconds`);
  return {
    encoding,
    writeEncoding: encoding === 'utf-8' ? 'utf-8' : 'cp1251',
    decimal,
    thousands: bool('thousands', o.thousands, false),
    point: decimal === '.' ? '.' : ',',
    eol: lineEnd === 'lf' ? '\n' : '\r\n',
    maxLineLength,
    returnSign: returnSign === 'positive' ? 1 : -1,
    workplace: int('workplace', o.workplace, 1),
    databaseId,
    reportNumber: int('reportNumber', o.reportNumber, 1),
    firstTransaction: int('firstTransaction', o.firstTransaction, 1, 1),
    defaultShift: int('defaultShift', o.defaultShift, 1),
    cashierCode: int('cashierCode', o.cashierCode, 1),
    paymentCodes: { cash: int('paymentCodes.cash', pc.cash, 1), card: int('paymentCodes.card', pc.card, 2), other: int('paymentCodes.other', pc.other, 3) },
    numericCodes: bool('numericCodes', o.numericCodes, true),
    cfxTrailer: bool('cfxTrailer', o.cfxTrailer, true),
    keepCancelled: oneOf('cancelled', o.cancelled, ['drop', 'keep'] as const, 'drop') === 'keep',
    terminal,
    utcOffset,
    openReceiptWaitMs,
  };
}
