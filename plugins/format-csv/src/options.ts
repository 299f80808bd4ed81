import { CfxError, ErrorCodes } from '@cfx/core/api';
import type { DecimalMode } from './rows.js';
import type { CsvEncoding } from './text.js';

/** header names of the price dialect; `group` is Product.groupCode */
export const PRICE_COLUMNS = ['code', 'barcodes', 'name', 'price', 'receiptName', 'unit', 'weighed', 'group', 'taxGroup', 'article', 'stock', 'deleted'] as const;
export type PriceColumn = (typeof PRICE_COLUMNS)[number];

export interface CsvFormatOptions {
  /** one character; default `;` */
  separator?: string;
  /** reading: `auto` (default) detects BOM / UTF-8 / cp1251; writing: `auto` writes UTF-8 */
  encoding?: CsvEncoding;
  /** price header name in the file -> canonical column (`{ "Ціна": "price" }`), case-insensitive */
  columns?: Record<string, PriceColumn>;
  /** decimal point read: `auto` (default) takes `,` and `.`; `,` also makes price files written with a comma */
  decimal?: DecimalMode;
  /** price files: numbers may group digits in threes with a space (`1 234,50`); default false (a space inside is an error) */
  thousands?: boolean;
  /** longest record in characters; the smaller of this and the core's limit applies */
  maxLineLength?: number;
}

export interface ResolvedOptions {
  separator: string;
  encoding: CsvEncoding;
  /** lower-cased file header name -> canonical column */
  columns: Map<string, PriceColumn>;
  decimal: DecimalMode;
  thousands: boolean;
  maxLineLength: number | undefined;
}

/** the `configSchema.csv` of package.json (a test keeps the two equal) */
export const csvOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    separator: { type: 'string', minLength: 1, maxLength: 1, not: { enum: ['"', '\r', '\n'] } },
    encoding: { enum: ['auto', 'utf-8', 'cp1251'] },
    columns: { type: 'object', additionalProperties: { enum: [...PRICE_COLUMNS] } },
    decimal: { enum: ['auto', ',', '.'] },
    thousands: { type: 'boolean' },
    maxLineLength: { type: 'integer', minimum: 16 },
  },
} as const;

/** checks what the host's schema check may not have seen (options handed to createCsvFormat directly) */
export function resolveOptions(o: CsvFormatOptions | Record<string, unknown>): ResolvedOptions {
  const { separator = ';', encoding = 'auto', columns = {}, decimal = 'auto', thousands = false, maxLineLength } = o as CsvFormatOptions;
  const bad = (msg: string) => new CfxError(ErrorCodes.CONFIG_INVALID, `csv format: ${msg}`);
  if (typeof separator !== 'string' || separator.length !== 1 || '"\r\n'.includes(separator)) throw bad(`separator ${JSON.stringify(separator)} must be one character other than a quote or line break`);
  if (!['auto', 'utf-8', 'cp1251'].includes(encoding)) throw bad(`encoding "${encoding}" is not auto, utf-8 or cp1251`);
  if (!['auto', ',', '.'].includes(decimal)) throw bad(`decimal "${decimal}" is not auto, "," or "."`);
  if (typeof thousands !== 'boolean') throw bad('thousands must be true or false');
  if (maxLineLength !== undefined && !(Number.isInteger(maxLineLength) && maxLineLength >= 16)) throw bad('maxLineLength must be an integer >= 16');
  const map = new Map<string, PriceColumn>();
  for (const [from, to] of Object.entries(columns)) {
    if (!(PRICE_COLUMNS as readonly string[]).includes(to)) throw bad(`columns["${from}"]: "${to}" is not one of ${PRICE_COLUMNS.join(', ')}`);
    map.set(from.trim().toLowerCase(), to);
  }
  return { separator, encoding, columns: map, decimal, thousands, maxLineLength };
}

/** no limit configured anywhere still needs one: a file without line breaks must not fill the heap */
export const DEFAULT_MAX_LINE = 1 << 20;

export function lineLimit(o: ResolvedOptions, ctxLimit: number | undefined): number {
  const m = Math.min(o.maxLineLength ?? Infinity, ctxLimit ?? Infinity);
  return m === Infinity ? DEFAULT_MAX_LINE : m;
}
