import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FormatProvider, PluginContext } from '@cfx/core/api';
import { activate, xmlOptionsSchema } from './index.js';

it('activate registers the xml format, and package.json declares it with the same schema', async () => {
  const got: FormatProvider[] = [];
  activate({ registerFormat: (p: FormatProvider) => (got.push(p), { dispose() {} }) } as unknown as PluginContext);
  assert.deepEqual(got.map((p) => p.id), ['xml']);
  const fmt = await got[0]!.create({ priceType: 'Розничная', currency: 'UAH' });
  assert.equal(fmt.id, 'xml');
  assert.equal(fmt.extension, 'xml');
  assert.deepEqual(fmt.encodings, ['auto', 'utf-8', 'cp1251']);
  assert.ok(fmt.decodePrices && fmt.encodeSale && fmt.decodeSales);
  assert.throws(() => got[0]!.create({ encoding: 'koi8-u' }), /encoding "koi8-u"/);
  assert.throws(() => got[0]!.create({ currency: 'гривня' }), /currency/);
  assert.throws(() => got[0]!.create({ maxDepth: 2 }), /maxDepth/);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.deepEqual(pkg.cfx.contributes, { formats: ['xml'] });
  assert.deepEqual(pkg.cfx.configSchema, { xml: JSON.parse(JSON.stringify(xmlOptionsSchema)) });
});
