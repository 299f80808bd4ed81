import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import { validate as precompiled } from './config-validate.generated.js';
import { validators } from './plugin-validate.generated.js';
import { coreSchema } from './schema.js';
import { getAjv, preparePluginSchema } from './validator.js';

type V = ((d: unknown) => boolean) & { errors?: ErrorObject[] | null };
const shape = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, params: e.params, data: e.data }));
const source = async () =>
  (await import(new URL('../../scripts/validator-source.mjs', import.meta.url).href)) as { coreConfigValidatorSource(): Promise<string>; pluginValidatorsSource(): Promise<string> };

// the configs the runtime-compiled core validator (before issue 20) and the generated one must judge alike
const configs: [string, unknown][] = [
  ['a valid terminal', { role: 'terminal', terminal: 't1', server: 'ftp://h', prices: { poll: '1s' }, sales: { connections: 4 } }],
  ['bad duration, size, url, cron', { role: 'terminal', server: 'nope', timeout: '30x', prices: { maxFileSize: '0', poll: '40d' }, schedule: [{ job: 'archive.prune', cron: '61 * * * *' }] }],
  ['unknown keys and wrong types', { role: 'till', srever: 'ftp://h', sales: { connections: 'four' }, log: { level: 'loud' } }],
];

describe('the precompiled config validators (ajv standalone, scripts/gen-validators.mjs)', () => {
  for (const [what, cfg] of configs) {
    it(`core schema: agrees with a runtime compile: ${what}`, () => {
      const runtime = getAjv().compile(coreSchema) as V;
      const v = precompiled as V;
      assert.equal(v(structuredClone(cfg)), runtime(structuredClone(cfg)));
      assert.deepEqual(shape(v.errors), shape(runtime.errors));
    });
  }
  it('a built-in plugin schema is found by its prepared JSON and fills defaults as a runtime compile does', () => {
    const ftp = JSON.parse(readFileSync(new URL('../../../plugins/transport-ftp/package.json', import.meta.url), 'utf8')).cfx.configSchema.ftp;
    const key = JSON.stringify(preparePluginSchema(ftp));
    const v = (validators as Record<string, V>)[key];
    assert.ok(v, 'the ftp options schema is precompiled');
    const a = { passive: true };
    const b = { passive: true };
    assert.equal(v(a), getAjv().compile(preparePluginSchema(ftp))(b));
    assert.deepEqual(a, b);
    assert.equal((a as Record<string, unknown>).encoding, 'utf8', 'the default is filled in');
  });
  it('are up to date with the schemas and the installed ajv (else: node core/scripts/gen-validators.mjs)', async () => {
    const s = await source();
    assert.equal(readFileSync(new URL('../../src/config/config-validate.generated.ts', import.meta.url), 'utf8'), await s.coreConfigValidatorSource());
    assert.equal(readFileSync(new URL('../../src/config/plugin-validate.generated.ts', import.meta.url), 'utf8'), await s.pluginValidatorsSource());
  });
});
