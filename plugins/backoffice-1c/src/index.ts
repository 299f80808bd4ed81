import type { DecodeContext, EncodeContext, Format, PluginContext } from '@cfx/core/api';
import { decodeGoodsWith, encodeGoods, type GoodsWarning } from './goods.js';
import { resolveOptions, type AtolFormatOptions, type ResolvedOptions } from './options.js';
import { decodeSalesWith, encodeSaleFragment } from './report.js';
import { oneCBackOfficeProvider } from './adapter.js';

export { atolOptionsSchema, type AtolFormatOptions, type PaymentCodes } from './options.js';
export { decodeGoods, readGoodsHeader, extraName, extraField, GOODS_SIGNATURE, type GoodsDecodeOptions, type GoodsDecoding, type GoodsHeader, type GoodsState, type GoodsWarning } from './goods.js';
export {
  encodeReport,
  encodeSaleFragment,
  decodeReport,
  readReportHeader,
  reportProblem,
  REPORT_FIELDS,
  TRAILER_PREFIX,
  TransactionType,
  type EncodedReport,
  type ReportHeader,
  type ReportOptions,
  type SaleProblem,
  type SalesDecodeOptions,
} from './report.js';
export { commercemlOptionsSchema, COMMERCEML_STATE, type CommerceMLOptions } from './commerceml.js';
export { createOneCBackOffice, oneCOptionsSchema, STATE_DIR, ATTENTION_DIR, type OneCOptions, type OneCTerminalOptions, type OneCState, type OneCCatalog } from './adapter.js';
export type { TextEncoding } from './text.js';
export type { DecimalMode } from './numbers.js';

export interface AtolFormatHooks {
  /** goods-file warnings (unknown commands, commands the price model cannot carry) */
  onWarning?: (w: GoodsWarning & { file?: string }) => void;
}

/**
 * The `atol` format: ATOL/Frontol text files as 1C/BAS exchanges them with an offline register.
 * Prices = goods files, sales = report fragments (one sale per file) read back with decodeSales.
 * `options` are the configured ones; a call's ctx.options, when it has any, are laid over them.
 */
export function createAtolFormat(options: AtolFormatOptions = {}, hooks: AtolFormatHooks = {}): Format {
  const base = resolveOptions(options);
  const opts = (ctx: DecodeContext | EncodeContext): ResolvedOptions =>
    ctx.options && Object.keys(ctx.options).length ? resolveOptions({ ...options, ...ctx.options }) : base;
  return {
    id: 'atol',
    extension: 'txt',
    encodings: ['auto', 'utf-8', 'cp1251'],
    decodePrices: async (input, ctx) => {
      const d = await decodeGoodsWith(input, opts(ctx), { fileName: ctx.fileName, signal: ctx.signal, maxLineLength: ctx.maxLineLength }, hooks.onWarning && ((w) => hooks.onWarning!({ ...w, file: ctx.fileName })));
      return { mode: d.mode, records: d.records, skipped: d.skipped };
    },
    encodePrices: (records, mode, ctx) => encodeGoods(records, mode, opts(ctx), ctx.signal),
    encodeSale: (sale, ctx) => encodeSaleFragment(sale, opts(ctx)),
    decodeSales: (input, ctx) => decodeSalesWith(input, opts(ctx), { fileName: ctx.fileName, signal: ctx.signal, maxLineLength: ctx.maxLineLength, modifiedAt: ctx.modifiedAt }),
  };
}

export function activate(ctx: PluginContext): void {
  ctx.registerFormat({
    id: 'atol',
    create: (options) =>
      createAtolFormat(options as AtolFormatOptions, {
        onWarning: (w) => ctx.logger.warn({ file: w.file, line: w.line, command: w.command }, `atol goods file: ${w.message}`),
      }),
  });
  // the `1c` back office: 1C's offline-register exchange folder per terminal (adapter.ts)
  ctx.registerBackOffice(oneCBackOfficeProvider(ctx.logger));
}
