// The library API a Node till uses: openTerminal → start → recordSale, against the real vsftpd.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTerminal, silentLogger, CfxError } from '@cfx/core';
import { realServers, freshRemoteDir, ftpRootPath, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, officeClient } from './helpers/deploy.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

describe('library API (openTerminal)', { skip }, () => {
  it('records a sale durably, uploads it in the background, and serves the catalog pulled meanwhile', async () => {
    const base = freshRemoteDir('lib');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base, extra: `sales: { dir: ${base}/sales }\n` });
    const office = officeClient(env);
    const cfx = openTerminal({ config: d.config, env: {}, logger: silentLogger() });
    try {
      await cfx.start();
      const recorded: string[] = [];
      cfx.on('sale:recorded', (o) => recorded.push(o.saleId));
      const out = await cfx.recordSale(saleJson(42));
      assert.deepEqual(out, [{ saleId: 'S000042', status: 'recorded', total: 37000 }]);
      assert.deepEqual(await cfx.recordSale(saleJson(42)), [{ saleId: 'S000042', status: 'duplicate', total: 37000 }]);
      assert.deepEqual(recorded, ['S000042', 'S000042']);
      await assert.rejects(cfx.recordSale({ ...saleJson(43), kind: 'gift' }), (e: unknown) => e instanceof CfxError && e.code === 'CFX_E_SALE_INVALID');
      const file = ftpRootPath(`${base}/sales/box-1_S000042.csv`, env);
      for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(50);
      assert.match(readFileSync(file, 'utf8'), /^H;S000042;box-1;/m);

      await office.drop(d.inbox, 'p.csv', 'code;barcodes;name;price\n1;4820000000011;Квиток дорослий;350,00\n');
      for (let i = 0; i < 100 && cfx.catalog.count() === 0; i++) await sleep(50);
      assert.equal(cfx.catalog.byBarcode('4820000000011')?.price, 35000);
      assert.deepEqual(cfx.catalog.search('Квиток').map((p) => p.code), ['1']);

      // a shift close: journaled, uploaded in the background after the sales, the same again a no-op
      const close = { shift: 7, closedAt: '2025-03-15T21:00:00+02:00', lastReceiptNo: 42, totals: { card: '370.00' } };
      assert.deepEqual(await cfx.closeShift(close), { shift: 7, status: 'recorded', closedAt: close.closedAt, lastReceiptNo: 42, totals: { card: 37000 }, remoteName: 'box-1_shift-7.shift.json' });
      assert.equal((await cfx.closeShift(close)).status, 'duplicate');
      await assert.rejects(cfx.closeShift({ ...close, lastReceiptNo: 43 }), (e: unknown) => e instanceof CfxError && e.code === 'CFX_E_SHIFT_CONFLICT');
      const shiftFile = ftpRootPath(`${base}/sales/box-1_shift-7.shift.json`, env);
      for (let i = 0; i < 100 && !existsSync(shiftFile); i++) await sleep(50);
      assert.equal(readFileSync(shiftFile, 'utf8'), '{"format":"cfx.shift/1","terminal":"box-1","shift":7,"closedAt":"2025-03-15T21:00:00+02:00","lastReceiptNo":42,"totals":{"card":37000}}\n');
    } finally {
      await cfx.close();
      await office.close();
    }
  });
});
