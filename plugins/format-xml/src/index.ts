// @cfx/format-xml: the `xml` format — CommerceML 2 (1C's exchange with sites and shops).
import type { DecodeContext, EncodeContext, Format, PluginContext } from '@cfx/core/api';
import { resolveOptions, type ResolvedOptions, type XmlFormatOptions } from './options.js';
import { decodePrices } from './prices.js';
import { encodePrices } from './price-writer.js';
import { decodeSales, encodeSale } from './sales.js';

export { xmlOptionsSchema, type XmlFormatOptions, type XmlEncoding } from './options.js';
export { combineCommerceML, type CombinePart } from './combine.js';
export { checkCommerceMLSyntax, joinCommerceML, readCommerceMLHead, type CommerceMLHead, type PricePart } from './package.js';
export { PRICE_REQ, PRICE_TYPE_ID, PRICE_FORMED_AT } from './price-writer.js';
export { documentId, encodeOrders, REQ as SALE_REQUISITES, SCHEMA_VERSION } from './sales.js';
export { CML_NS } from './xml-reader.js';

/**
 * The `xml` format. `options` are the configured ones; a call's ctx.options, when it has any, are
 * laid over them (the host may hand the same config through either).
 */
export function createXmlFormat(options: XmlFormatOptions = {}): Format {
  const base = resolveOptions(options);
  const opts = (ctx: DecodeContext | EncodeContext): ResolvedOptions =>
    ctx.options && Object.keys(ctx.options).length ? resolveOptions({ ...options, ...ctx.options }) : base;
  return {
    id: 'xml',
    extension: 'xml',
    encodings: ['auto', 'utf-8', 'cp1251'],
    decodePrices: (input, ctx) => decodePrices(input, ctx, opts(ctx)),
    encodePrices: (records, mode, ctx) => encodePrices(records, mode, opts(ctx), ctx.signal),
    encodeSale: (sale, ctx) => encodeSale(sale, ctx, opts(ctx)),
    decodeSales: (input, ctx) => decodeSales(input, ctx, opts(ctx)),
  };
}

export function activate(ctx: PluginContext): void {
  ctx.registerFormat({ id: 'xml', create: (options) => createXmlFormat(options as XmlFormatOptions) });
}
