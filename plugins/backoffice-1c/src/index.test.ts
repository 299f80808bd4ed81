import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { FormatProvider, PluginContext } from '@cfx/core/api';
import { activate, atolOptionsSchema } from './index.js';

it('activate registers the atol format (nothing else), and package.json declares just that with the same schema', async () => {
  const got: FormatProvider[] = [];
  const warned: unknown[] = [];
  const ctx = {
    registerFormat: (p: FormatProvider) => (got.push(p), { dispose() {} }),
    registerTransport: () => assert.fail('no transports'),
    registerBackOffice: () => assert.fail('no back office yet'),
    logger: { warn: (...a: unknown[]) => warned.push(a) },
  } as unknown as PluginContext;
  activate(ctx);
  assert.deepEqual(got.map((p) => p.id), ['atol']);
  const fmt = await got[0]!.create({ returnSign: 'positive' });
  assert.equal(fmt.id, 'atol');
  assert.equal(fmt.extension, 'txt');
  assert.ok(fmt.decodePrices && fmt.encodePrices && fmt.encodeSale && fmt.decodeSales);
  assert.throws(() => got[0]!.create({ encoding: 'koi8-u' }), /encoding "koi8-u"/);
  assert.throws(() => got[0]!.create({ utcOffset: '2h' }), /utcOffset/);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.deepEqual(pkg.cfx.contributes, { formats: ['atol'] });
  assert.deepEqual(pkg.cfx.configSchema, { atol: JSON.parse(JSON.stringify(atolOptionsSchema)) });
  assert.equal(pkg.dependencies['iconv-lite'], '0.7.3');

  // goods-file warnings go to the plugin's logger
  const d = await fmt.decodePrices!(Readable.from([Buffer.from('##@@&&\n#\n$$$ADDTAXRATES\n1;x\n')]), { fileName: 'g.txt', options: {} });
  for await (const _ of d.records);
  assert.equal(warned.length, 1);
  assert.deepEqual((warned[0] as unknown[])[0], { file: 'g.txt', line: 3, command: 'ADDTAXRATES' });
});
