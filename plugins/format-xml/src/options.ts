import { CfxError, ErrorCodes } from '@cfx/core/api';

export type XmlEncoding = 'auto' | 'utf-8' | 'cp1251';

export interface XmlFormatOptions {
  /** price type to read: its `Ид` or its `Наименование` in `ТипыЦен` (case-insensitive); default the first listed */
  priceType?: string;
  /** stock of one warehouse (`Ид` or `Наименование` in `Склады`) instead of the offer's total `Количество` */
  warehouse?: string;
  /** reading: `auto` (default) follows the BOM / the XML declaration; `utf-8` / `cp1251` override a wrong declaration */
  encoding?: XmlEncoding;
  /** sales: ISO 4217 code written as `Валюта` of each document (default `RUB`) */
  currency?: string;
  /** sales: the one counterparty every document names (default `retail-customer` / `Розничный покупатель`) */
  customer?: { id?: string; name?: string };
  /** limits: input bytes (default 2 GiB), element nesting (default 64), catalog items held for the join (default 1 000 000) */
  maxBytes?: number;
  maxDepth?: number;
  maxItems?: number;
  /** longest text, attribute value or markup piece in characters (default 1 MiB; the core's maxLineLength, when smaller, wins) */
  maxTextLength?: number;
}

export interface ResolvedOptions {
  priceType: string | undefined;
  warehouse: string | undefined;
  encoding: XmlEncoding;
  currency: string;
  customerId: string;
  customerName: string;
  maxBytes: number;
  maxDepth: number;
  maxItems: number;
  maxTextLength: number;
}

const limit = { type: 'integer', minimum: 1 } as const;

/** the `configSchema.xml` of package.json (a test keeps the two equal) */
export const xmlOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    priceType: { type: 'string', minLength: 1 },
    warehouse: { type: 'string', minLength: 1 },
    encoding: { enum: ['auto', 'utf-8', 'cp1251'] },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    customer: {
      type: 'object',
      additionalProperties: false,
      properties: { id: { type: 'string', minLength: 1, maxLength: 40 }, name: { type: 'string', minLength: 1, maxLength: 255 } },
    },
    maxBytes: limit,
    maxDepth: { type: 'integer', minimum: 8 },
    maxItems: limit,
    maxTextLength: { type: 'integer', minimum: 1024 },
  },
} as const;

export const DEFAULTS = {
  currency: 'RUB',
  customerId: 'retail-customer',
  customerName: 'Розничный покупатель',
  maxBytes: 2 * 1024 ** 3,
  maxDepth: 64,
  maxItems: 1_000_000,
  maxTextLength: 1 << 20,
} as const;

/** checks what the host's schema check may not have seen (options handed to createXmlFormat directly) */
export function resolveOptions(o: XmlFormatOptions | Record<string, unknown>): ResolvedOptions {
  const x = o as XmlFormatOptions;
  const bad = (msg: string) => new CfxError(ErrorCodes.CONFIG_INVALID, `xml format: ${msg}`);
  const str = (v: unknown, name: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw bad(`${name} must be a non-empty string`);
    return v.trim();
  };
  const int = (v: unknown, name: string, min: number, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isSafeInteger(v) || (v as number) < min) throw bad(`${name} must be an integer >= ${min}`);
    return v as number;
  };
  const encoding = x.encoding ?? 'auto';
  if (!['auto', 'utf-8', 'cp1251'].includes(encoding)) throw bad(`encoding "${encoding}" is not auto, utf-8 or cp1251`);
  const currency = x.currency ?? DEFAULTS.currency;
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) throw bad(`currency "${String(currency)}" is not an ISO 4217 code like RUB or UAH`);
  const customer = x.customer ?? {};
  if (typeof customer !== 'object' || customer === null) throw bad('customer must be an object { id, name }');
  const customerId = str(customer.id, 'customer.id') ?? DEFAULTS.customerId;
  const customerName = str(customer.name, 'customer.name') ?? DEFAULTS.customerName;
  if (customerId.length > 40) throw bad('customer.id is longer than 40 characters (CommerceML ИдентификаторГлобальныйТип)');
  if (customerName.length > 255) throw bad('customer.name is longer than 255 characters');
  return {
    priceType: str(x.priceType, 'priceType'),
    warehouse: str(x.warehouse, 'warehouse'),
    encoding,
    currency,
    customerId,
    customerName,
    maxBytes: int(x.maxBytes, 'maxBytes', 1, DEFAULTS.maxBytes),
    maxDepth: int(x.maxDepth, 'maxDepth', 8, DEFAULTS.maxDepth),
    maxItems: int(x.maxItems, 'maxItems', 1, DEFAULTS.maxItems),
    maxTextLength: int(x.maxTextLength, 'maxTextLength', 1024, DEFAULTS.maxTextLength),
  };
}
