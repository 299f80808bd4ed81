import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BackOffice, BackOfficeExport, Sale } from '../api/index.js';
import { SAMPLE_SALES } from './samples.js';

/** One sale as the back office now holds it: what an adapter delivered, read back. */
export interface DeliveredSale {
  terminal: string;
  saleId: string;
}

/** A back office that can tell what it holds (an adapter may implement this for its tests). */
export interface InspectableBackOffice extends BackOffice {
  inspect(): Promise<DeliveredSale[]> | DeliveredSale[];
}

export interface BackOfficeConformanceOptions {
  /** a fresh, empty back office (e.g. `provider.create({ outDir: <new temp dir> })`); called once per test */
  create(): BackOffice | Promise<BackOffice>;
  /**
   * What the back office holds now, one entry per sale occurrence (a sale delivered twice must show
   * twice). Read it the way the back office would: the files written, the rows inserted. Default:
   * the adapter's own `inspect()`.
   */
  delivered?(bo: BackOffice): Promise<DeliveredSale[]> | DeliveredSale[];
  /** puts exports in place so `pendingExports` has something to return (for the publish checks) */
  seedExports?(bo: BackOffice): Promise<void> | void;
  /** sales to deliver (default: a sale and a return of terminal box-1, and generated ones) */
  sales?: Sale[];
  /** a reason to skip the whole suite, or false */
  skip?: string | false;
}

function sale(i: number, terminal = 'box-1'): Sale {
  const s = SAMPLE_SALES[i % SAMPLE_SALES.length]!;
  return { ...structuredClone(s), saleId: `K${String(i).padStart(6, '0')}`, terminalId: terminal };
}

/** sale ids a delivery reported as held back (a DeliveryReport's `heldBack`; nothing for adapters that resolve with nothing) */
function heldBack(report: unknown): string[] {
  const h = (report as { heldBack?: { saleId: string }[] } | undefined)?.heldBack;
  return Array.isArray(h) ? h.map((x) => x.saleId).sort() : [];
}

const key = (d: DeliveredSale) => `${d.terminal}\u0000${d.saleId}`;
const sorted = (ds: DeliveredSale[]) => ds.map(key).sort();
const expected = (terminal: string, sales: Sale[]) => sales.map((s) => key({ terminal, saleId: s.saleId }));

/**
 * The conformance suite for a back-office adapter (node:test): the core hands a delivery batch again
 * after a crash or a failed call, with the same batch id and the same sales, so delivering a batch
 * twice must have the effect of delivering it once (and report the same held-back sales, for an
 * adapter that holds some back); different batches add up; exports wait until acknowledged.
 */
export function describeBackOfficeConformance(name: string, opts: BackOfficeConformanceOptions): void {
  const read = async (bo: BackOffice): Promise<DeliveredSale[]> => {
    if (opts.delivered) return opts.delivered(bo);
    const i = bo as Partial<InspectableBackOffice>;
    if (typeof i.inspect !== 'function') throw new Error('give `delivered(bo)` (read back what the adapter wrote) or implement inspect() on the adapter');
    return i.inspect();
  };
  const mine = (n: number, terminal = 'box-1') => (opts.sales ? opts.sales.slice(0, n) : Array.from({ length: n }, (_, i) => sale(i + 1, terminal)));

  describe(`back-office conformance: ${name}`, { skip: opts.skip || false }, () => {
    it('has an id and at least one of deliverSales / pendingExports', async () => {
      const bo = await opts.create();
      try {
        assert.ok(typeof bo.id === 'string' && bo.id.length > 0, 'id');
        assert.ok(typeof bo.deliverSales === 'function' || typeof bo.pendingExports === 'function', 'a back office that neither takes sales nor gives exports does nothing');
      } finally {
        await bo.close?.();
      }
    });

    it('delivers a batch: every sale once; the same batch id again (a retry after a crash) changes nothing', async (t) => {
      const bo = await opts.create();
      try {
        if (!bo.deliverSales) return t.skip('no deliverSales');
        const batch = mine(3);
        assert.deepEqual(await read(bo), [], 'a fresh back office holds nothing');
        const first = heldBack(await bo.deliverSales('box-1', batch, { batchId: '20250315T100000Z-000001' }));
        const taken = batch.filter((s) => !first.includes(s.saleId));
        assert.deepEqual(sorted(await read(bo)), expected('box-1', taken).sort(), 'after one delivery: every sale not held back');
        const second = heldBack(await bo.deliverSales('box-1', batch, { batchId: '20250315T100000Z-000001' }));
        const third = heldBack(await bo.deliverSales('box-1', structuredClone(batch), { batchId: '20250315T100000Z-000001' }));
        assert.deepEqual([second, third], [first, first], 'delivering the same batch again must report the same held-back sales');
        assert.deepEqual(sorted(await read(bo)), expected('box-1', taken).sort(), 'the same batch delivered three times must be there once');
      } finally {
        await bo.close?.();
      }
    });

    it('different batches and terminals add up; redelivering an earlier batch still counts once', async (t) => {
      const bo = await opts.create();
      try {
        if (!bo.deliverSales) return t.skip('no deliverSales');
        const pool = opts.sales && opts.sales.length >= 2 ? opts.sales : [sale(1), sale(2), sale(3)];
        const b1 = pool.slice(0, 1);
        const b2 = pool.slice(1);
        const b3 = [sale(4, 'box-2')];
        const held = [
          ...heldBack(await bo.deliverSales('box-1', b1, { batchId: 'B000001' })),
          ...heldBack(await bo.deliverSales('box-1', b2, { batchId: 'B000002' })),
          ...heldBack(await bo.deliverSales('box-2', b3, { batchId: 'B000003' })),
        ];
        await bo.deliverSales('box-1', b1, { batchId: 'B000001' });
        const ok = (xs: Sale[]) => xs.filter((s) => !held.includes(s.saleId));
        const want = [...expected('box-1', ok([...b1, ...b2])), ...expected('box-2', ok(b3))].sort();
        assert.deepEqual(sorted(await read(bo)), want);
      } finally {
        await bo.close?.();
      }
    });

    it('without a batch id (an older core) the same sales delivered twice are there once', async (t) => {
      const bo = await opts.create();
      try {
        if (!bo.deliverSales) return t.skip('no deliverSales');
        const batch = mine(2);
        const held = heldBack(await bo.deliverSales('box-1', batch));
        await bo.deliverSales('box-1', batch);
        assert.deepEqual(sorted(await read(bo)), expected('box-1', batch.filter((s) => !held.includes(s.saleId))).sort());
      } finally {
        await bo.close?.();
      }
    });

    it('an aborted delivery rejects; delivering the batch afterwards gives it once', async (t) => {
      const bo = await opts.create();
      try {
        if (!bo.deliverSales) return t.skip('no deliverSales');
        const batch = mine(2);
        const ac = new AbortController();
        ac.abort();
        await assert.rejects(bo.deliverSales('box-1', batch, { batchId: 'A000001', signal: ac.signal }), 'a delivery with an aborted signal must reject');
        const held = heldBack(await bo.deliverSales('box-1', batch, { batchId: 'A000001' }));
        assert.deepEqual(sorted(await read(bo)), expected('box-1', batch.filter((s) => !held.includes(s.saleId))).sort());
      } finally {
        await bo.close?.();
      }
    });

    it('pending exports stay the same until acknowledged; an acknowledged one is not offered again', async (t) => {
      const bo = await opts.create();
      try {
        if (!bo.pendingExports) return t.skip('no pendingExports');
        await opts.seedExports?.(bo);
        const ids = (xs: BackOfficeExport[]) => xs.map((x) => `${x.terminal}\u0000${x.fileName}\u0000${x.formatId}`).sort();
        const readAll = async (x: BackOfficeExport) => {
          const chunks: Buffer[] = [];
          for await (const c of x.open()) chunks.push(Buffer.from(c as Uint8Array));
          return Buffer.concat(chunks);
        };
        const first = await bo.pendingExports();
        const second = await bo.pendingExports();
        assert.deepEqual(ids(second), ids(first), 'two looks without an ack must give the same exports');
        if (first.length === 0) {
          t.diagnostic(opts.seedExports ? 'seedExports put nothing in place' : 'no exports to publish: give seedExports to check acknowledgement');
          return;
        }
        for (const x of first) {
          assert.ok(x.terminal && x.fileName && x.formatId, 'an export names its terminal, file name and format');
          const twin = second.find((y) => y.terminal === x.terminal && y.fileName === x.fileName)!;
          assert.ok((await readAll(x)).equals(await readAll(twin)), `${x.fileName}: the bytes changed between two looks`);
        }
        const [acked, ...rest] = first;
        await acked!.ack();
        const after = await bo.pendingExports();
        assert.ok(!ids(after).includes(ids([acked!])[0]!), 'an acknowledged export is offered again');
        for (const r of ids(rest)) assert.ok(ids(after).includes(r), 'an export not yet acknowledged disappeared');
      } finally {
        await bo.close?.();
      }
    });
  });
}
