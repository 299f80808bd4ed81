import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FormatProvider, PluginContext } from '@cfx/core/api';
import { activate, csvOptionsSchema } from './index.js';

it('activate registers the csv format, and package.json declares it with the same schema', async () => {
  const got: FormatProvider[] = [];
  activate({ registerFormat: (p: FormatProvider) => (got.push(p), { dispose() {} }) } as unknown as PluginContext);
  assert.deepEqual(got.map((p) => p.id), ['csv']);
  const fmt = await got[0]!.create({ separator: ',' });
  assert.equal(fmt.id, 'csv');
  assert.equal(fmt.extension, 'csv');
  assert.throws(() => got[0]!.create({ encoding: 'koi8-u' }), /encoding "koi8-u"/);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.deepEqual(pkg.cfx.contributes, { formats: ['csv'] });
  assert.deepEqual(pkg.cfx.configSchema, { csv: JSON.parse(JSON.stringify(csvOptionsSchema)) });
});
