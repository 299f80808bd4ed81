import type { DecodeContext, EncodeContext, Format, PluginContext } from '@cfx/core/api';
import { resolveOptions, type CsvFormatOptions, type ResolvedOptions } from './options.js';
import { decodePrices, encodePrices } from './prices.js';
import { decodeSales, encodeSale } from './sales.js';

export { csvOptionsSchema, PRICE_COLUMNS, type CsvFormatOptions, type PriceColumn } from './options.js';
export { SALE_COLUMNS } from './sales.js';
export type { CsvEncoding } from './text.js';
export type { DecimalMode } from './rows.js';

/**
 * The `csv` format. `options` are the configured ones; a call's ctx.options, when it has any,
 * are laid over them (the host may hand the same config through either).
 */
export function createCsvFormat(options: CsvFormatOptions = {}): Format {
  const base = resolveOptions(options);
  // a push hands the same ctx.options object with every sale of a backlog: resolved once per object
  const laid = new WeakMap<object, ResolvedOptions>();
  const opts = (ctx: DecodeContext | EncodeContext): ResolvedOptions => {
    const o = ctx.options;
    if (!o || Object.keys(o).length === 0) return base;
    let r = laid.get(o);
    if (!r) laid.set(o, (r = resolveOptions({ ...options, ...o })));
    return r;
  };
  return {
    id: 'csv',
    extension: 'csv',
    encodings: ['auto', 'utf-8', 'cp1251'],
    decodePrices: (input, ctx) => decodePrices(input, ctx, opts(ctx)),
    encodePrices: (records, mode, ctx) => encodePrices(records, mode, ctx, opts(ctx)),
    encodeSale: (sale, ctx) => encodeSale(sale, ctx, opts(ctx)),
    decodeSales: (input, ctx) => decodeSales(input, ctx, opts(ctx)),
  };
}

export function activate(ctx: PluginContext): void {
  ctx.registerFormat({ id: 'csv', create: (options) => createCsvFormat(options as CsvFormatOptions) });
}
