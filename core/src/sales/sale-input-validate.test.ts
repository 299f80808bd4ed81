import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { saleInputSchema } from './sale-input-schema.js';
import { validate as precompiled } from './sale-input-validate.generated.js';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;

// the validator as sale-input.ts compiled it at every start-up before issue 20
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const runtime = ajv.compile(saleInputSchema);

const good = {
  saleId: 'S-1',
  time: '2025-03-15T14:02:11+02:00',
  receiptNo: 1,
  shift: 2,
  cashier: 'Олена',
  kind: 'sale',
  lines: [{ code: '1001', barcode: '4820000001001', name: 'Хліб', qty: '1,5', price: 10, amount: '15.00', discount: '0' }],
  payments: [{ kind: 'cash', amount: '15.00' }],
};
const inputs: [string, unknown][] = [
  ['a full sale', good],
  ['no payments', { ...good, payments: [] }],
  ['not an object', 'sale'],
  ['null', null],
  ['missing fields', {}],
  ['unknown key', { ...good, extra: 1 }],
  ['bad saleId', { ...good, saleId: '-x' }],
  ['saleId too long', { ...good, saleId: 'a'.repeat(65) }],
  ['time without offset', { ...good, time: '2025-03-15 14:02' }],
  ['time not a date', { ...good, time: '2025-13-45T99:00:00Z' }],
  ['negative receiptNo', { ...good, receiptNo: -1 }],
  ['fractional shift', { ...good, shift: 1.5 }],
  ['cashier too long (UTF-16 pairs count once)', { ...good, cashier: '😀'.repeat(201) }],
  ['cashier at the limit in astral chars', { ...good, cashier: '😀'.repeat(200) }],
  ['unknown kind', { ...good, kind: 'refund' }],
  ['no lines', { ...good, lines: [] }],
  ['line without code', { ...good, lines: [{ qty: '1', price: '1', amount: '1' }] }],
  ['line with a bad decimal and an unknown key', { ...good, lines: [{ code: '1', qty: '1x', price: true, amount: '1', x: 1 }] }],
  ['payment of an unknown kind', { ...good, payments: [{ kind: 'crypto', amount: 'a' }] }],
];

const shape = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, params: e.params, message: e.message }));

describe('the precompiled sale-input validator (ajv standalone, built by scripts/gen-validators.mjs)', () => {
  for (const [what, input] of inputs) {
    it(`agrees with a runtime-compiled one: ${what}`, () => {
      const v = precompiled as ((d: unknown) => boolean) & { errors?: ErrorObject[] | null };
      assert.equal(v(input), runtime(input));
      assert.deepEqual(shape(v.errors), shape(runtime.errors));
    });
  }
  it('accepts the good sale and rejects the rest', () => {
    assert.equal(precompiled(good), true);
    assert.equal(precompiled({ ...good, kind: 'x' }), false);
  });
  it('is up to date with sale-input-schema.ts (else: node core/scripts/gen-validators.mjs)', async () => {
    const { saleValidatorSource } = (await import(new URL('../../scripts/validator-source.mjs', import.meta.url).href)) as { saleValidatorSource(): Promise<string> };
    const committed = readFileSync(new URL('../../src/sales/sale-input-validate.generated.ts', import.meta.url), 'utf8');
    assert.equal(committed, await saleValidatorSource());
  });
});
