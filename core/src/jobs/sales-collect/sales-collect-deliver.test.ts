// Delivery when one terminal's back office has to wait (1C has not imported that register's last
// report), and sales a back office holds back as needing attention.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CfxError, ErrorCodes, type BackOffice, type DeliverOptions, type DeliveryReport, type Format, type Sale } from '../../api/index.js';
import { configFromObject } from '../../config/index.js';
import { Store } from '../../store/index.js';
import { MemoryTransport } from '../../testing/memory-transport.js';
import { silentLogger } from '../../util/logger.js';
import { HELD_BACK_JOB, SalesCollect } from './sales-collect.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-deliver-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const jsonFormat: Format = {
  id: 'json',
  extension: 'json',
  async *decodeSales(input) {
    let text = '';
    for await (const c of input) text += String(c);
    yield* JSON.parse(text) as Sale[];
  },
};

function sale(terminalId: string, saleId: string, total = 100): Sale {
  return { saleId, terminalId, time: '2025-03-15T10:00:00+02:00', kind: 'sale', lines: [{ code: '1', qty: 1000, price: total, amount: total }], payments: [{ kind: 'cash', amount: total }], total };
}

/** box-1's back office waits while `waiting` is set; sales whose id starts with X are held back */
class WaitingBackOffice implements BackOffice {
  id = 'wait';
  waiting = new Set<string>();
  calls: { terminal: string; batchId: string | undefined; saleIds: string[] }[] = [];
  async deliverSales(terminal: string, sales: Sale[], opts?: DeliverOptions): Promise<DeliveryReport> {
    if (this.waiting.has(terminal)) throw new CfxError(ErrorCodes.JOB_FAILED, `the back office has not imported the previous file of ${terminal} yet`);
    this.calls.push({ terminal, batchId: opts?.batchId, saleIds: sales.map((s) => s.saleId) });
    return { heldBack: sales.filter((s) => s.saleId.startsWith('X')).map((s) => ({ saleId: s.saleId, field: 'code', reason: `code of ${s.saleId} unknown`, file: `/attention/${opts?.batchId}.json` })) };
  }
}

function env() {
  const dir = join(root, `d${++n}`);
  const volume = `deliver-${n}`;
  const config = configFromObject({ role: 'office', server: `memory://${volume}`, terminals: ['box-1', 'box-2'], dataDir: './data', sales: { dir: '/sales', format: 'json' } }, { baseDir: dir, env: {} });
  const store = Store.open(config.dataDir);
  const remote = new MemoryTransport(volume);
  const bo = new WaitingBackOffice();
  const job = () => new SalesCollect({ config, store, transport: remote, format: jsonFormat, logger: silentLogger(), backoffice: bo });
  const put = async (s: Sale) => {
    await remote.mkdir('/sales');
    await remote.write(`/sales/${s.terminalId}_${s.saleId}.json`, Buffer.from(JSON.stringify([s])));
  };
  return { config, store, remote, bo, job, put };
}

describe('delivery: one terminal waiting, sales held back', () => {
  it('a terminal whose back office waits does not hold up the others, and gets no new batch until its waiting one is through', async () => {
    const e = env();
    try {
      e.bo.waiting.add('box-1');
      await e.put(sale('box-1', 'A1'));
      await e.put(sale('box-2', 'B1'));
      await e.job().cycle();
      await assert.rejects(e.job().deliver(), /has not imported the previous file of box-1/);
      assert.deepEqual(e.bo.calls.map((c) => [c.terminal, c.saleIds]), [['box-2', ['B1']]], 'box-2 delivered all the same');
      const waitingBatch = e.store.assignedBatches();
      assert.deepEqual(waitingBatch.map((b) => [b.terminalId, b.attempts]), [['box-1', 1]]);

      // more sales while box-1 waits: box-2's go, box-1's stay unbatched
      await e.put(sale('box-1', 'A2'));
      await e.put(sale('box-2', 'B2'));
      await e.job().cycle();
      await assert.rejects(e.job().deliver(), /box-1/);
      assert.deepEqual(e.bo.calls.map((c) => c.saleIds), [['B1'], ['B2']]);
      assert.deepEqual(e.store.assignedBatches().map((b) => b.id), waitingBatch.map((b) => b.id), 'no second batch for box-1');
      assert.equal(e.store.getCollected('box-1', 'A2')!.batchId, undefined);

      // the back office has imported: the waiting batch first (same id), then one batch with the rest
      e.bo.waiting.clear();
      const d = await e.job().deliver();
      assert.deepEqual(d.batches.map((b) => [b.terminal, b.resumed, b.sales]), [['box-1', true, 1], ['box-1', false, 1]]);
      assert.equal(e.bo.calls[2]!.batchId, waitingBatch[0]!.id);
      assert.deepEqual(e.bo.calls.slice(2).map((c) => c.saleIds), [['A1'], ['A2']]);
      assert.deepEqual(e.store.collectedCounts(), { collected: 4, undelivered: 0, assignedBatches: 0 });
    } finally {
      e.store.close();
    }
  });

  it('two terminals waiting: one error naming both', async () => {
    const e = env();
    try {
      e.bo.waiting.add('box-1').add('box-2');
      await e.put(sale('box-1', 'A1'));
      await e.put(sale('box-2', 'B1'));
      await e.job().cycle();
      await assert.rejects(e.job().deliver(), /failed for 2 terminals \(box-1: .*; box-2: /);
    } finally {
      e.store.close();
    }
  });

  it('held-back sales become one quarantine row each ("needs attention"), also when the batch is delivered again after a crash', async () => {
    const e = env();
    try {
      for (const s of [sale('box-1', 'A1'), sale('box-1', 'X2'), sale('box-1', 'X3')]) await e.put(s);
      await e.job().cycle();
      const d = await e.job().deliver();
      assert.deepEqual(d.batches.map((b) => [b.sales, b.heldBack]), [[3, 2]]);
      assert.deepEqual([d.sales, d.heldBack], [1, 2]);
      const rows = () => e.store.listQuarantine().filter((q) => q.job === HELD_BACK_JOB).map((q) => [q.fileName, q.localPath, q.reason.field, q.reason.message, q.reason.batchId]).sort();
      const batchId = d.batches[0]!.batchId;
      const want = [
        ['box-1/X2', `/attention/${batchId}.json`, 'code', 'code of X2 unknown', batchId],
        ['box-1/X3', `/attention/${batchId}.json`, 'code', 'code of X3 unknown', batchId],
      ];
      assert.deepEqual(rows(), want);
      // as if cfx died after the back office took the batch, before it was marked delivered
      const db = new Database(join(e.config.dataDir, 'journal.db'));
      db.prepare("UPDATE delivery_batches SET state = 'assigned' WHERE id = ?").run(batchId);
      db.close();
      const again = await e.job().deliver();
      assert.deepEqual(again.batches.map((b) => [b.batchId, b.resumed, b.heldBack]), [[batchId, true, 2]]);
      assert.deepEqual(rows(), want, 'not recorded twice');
    } finally {
      e.store.close();
    }
  });
});
