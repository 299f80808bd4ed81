import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { BackOfficeProvider, FormatProvider, PluginContext } from '@cfx/core/api';
import { activate, atolOptionsSchema, oneCOptionsSchema } from './index.js';

it('activate registers the atol format and the 1c back office (nothing else), and package.json declares just those with the same schemas', async () => {
  const got: FormatProvider[] = [];
  const backoffices: BackOfficeProvider[] = [];
  const warned: unknown[] = [];
  const ctx = {
    registerFormat: (p: FormatProvider) => (got.push(p), { dispose() {} }),
    registerTransport: () => assert.fail('no transports'),
    registerBackOffice: (p: BackOfficeProvider) => (backoffices.push(p), { dispose() {} }),
    logger: { warn: (...a: unknown[]) => warned.push(a), info() {}, debug() {} },
  } as unknown as PluginContext;
  activate(ctx);
  assert.deepEqual(got.map((p) => p.id), ['atol']);
  assert.deepEqual(backoffices.map((p) => p.id), ['1c']);
  const bo = await backoffices[0]!.create({ exchangeDir: './1c/{terminal}' }, { baseDir: '/tmp' });
  assert.equal(bo.id, '1c');
  assert.ok(bo.pendingExports && bo.deliverSales);
  assert.throws(() => backoffices[0]!.create({}), /exchangeDir is required/);
  const fmt = await got[0]!.create({ returnSign: 'positive' });
  assert.equal(fmt.id, 'atol');
  assert.equal(fmt.extension, 'txt');
  assert.ok(fmt.decodePrices && fmt.encodePrices && fmt.encodeSale && fmt.decodeSales);
  assert.throws(() => got[0]!.create({ encoding: 'koi8-u' }), /encoding "koi8-u"/);
  assert.throws(() => got[0]!.create({ utcOffset: '2h' }), /utcOffset/);
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.deepEqual(pkg.cfx.contributes, { formats: ['atol'], backoffices: ['1c'] });
  assert.deepEqual(pkg.cfx.configSchema, { atol: JSON.parse(JSON.stringify(atolOptionsSchema)), '1c': JSON.parse(JSON.stringify(oneCOptionsSchema)) });
  assert.equal(pkg.dependencies['iconv-lite'], '0.7.3');

  // goods-file warnings go to the plugin's logger
  const d = await fmt.decodePrices!(Readable.from([Buffer.from('##@@&&\n#\n$$$ADDTAXRATES\n1;x\n')]), { fileName: 'g.txt', options: {} });
  for await (const _ of d.records);
  assert.equal(warned.length, 1);
  assert.deepEqual((warned[0] as unknown[])[0], { file: 'g.txt', line: 3, command: 'ADDTAXRATES' });
});
