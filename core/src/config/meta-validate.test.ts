import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv';
import { getAjv, metaValidate } from './validator.js';

const precompiled = metaValidate();

const META = 'https://json-schema.org/draft/2020-12/schema';
// the meta-schema validator as getAjv() compiled it in every process before issue 20
const runtime = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true, useDefaults: true, verbose: true }).getSchema(META)!;

const schemas: [string, unknown][] = [
  ['a plugin options schema', { type: 'object', properties: { host: { type: 'string', 'x-url': true }, poll: { type: 'string', 'x-duration': { min: 100 } }, n: { type: 'integer', minimum: 1, default: 2 } }, required: ['host'] }],
  ['composition and $defs', { $defs: { a: { type: ['string', 'null'] } }, anyOf: [{ $ref: '#/$defs/a' }, { type: 'number' }], if: { type: 'number' }, then: { minimum: 0 } }],
  ['an unknown type name', { type: 'strin' }],
  ['minimum not a number', { type: 'number', minimum: 'a' }],
  ['properties not an object', { properties: 3 }],
  ['required not strings', { required: [1, 1] }],
  ['deep error', { properties: { a: { items: { enum: 'x' } } } }],
  ['boolean schema', true],
];

const shape = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, params: e.params, message: e.message }));

describe('the precompiled draft 2020-12 meta-schema validator (ajv standalone, scripts/gen-validators.mjs)', () => {
  for (const [what, schema] of schemas) {
    it(`agrees with ajv's own: ${what}`, () => {
      const v = precompiled as ((d: unknown) => boolean) & { errors?: ErrorObject[] | null };
      assert.equal(v(schema), runtime(schema));
      assert.deepEqual(shape(v.errors), shape(runtime.errors));
    });
  }
  it('is what getAjv() checks schemas with: the same "schema is invalid" message as before', () => {
    assert.throws(() => getAjv().compile({ type: 'number', minimum: 'a' }), { message: 'schema is invalid: data/minimum must be number' });
    assert.equal(getAjv().getSchema(META), precompiled);
  });
  it('is up to date with the installed ajv (else: node core/scripts/gen-validators.mjs)', async () => {
    const { metaValidatorSource } = (await import(new URL('../../scripts/validator-source.mjs', import.meta.url).href)) as { metaValidatorSource(): string };
    assert.equal(readFileSync(new URL('../../src/config/meta-2020-validate.generated.cts', import.meta.url), 'utf8'), metaValidatorSource());
  });
});
