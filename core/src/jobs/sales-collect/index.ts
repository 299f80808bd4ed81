import { defineJob } from '../../api/index.js';
import { coreRefs } from '../../di/refs.js';
import { runCollect, type CollectRunResult } from './sales-collect.js';

export { SalesCollect, runCollect, type CollectRunResult } from './sales-collect.js';

/** the exchange-log facts of a collect run */
export function collectDetails(r: CollectRunResult): Record<string, unknown> {
  const { collect, delivery } = r;
  return {
    stored: collect.stored,
    duplicates: collect.duplicates,
    quarantined: collect.quarantined,
    deliveredBatches: delivery.batches.length,
    deliveredSales: delivery.sales,
    ...(delivery.heldBack ? { heldBack: delivery.heldBack } : {}),
    ...(collect.shifts ? { shifts: collect.shifts } : {}),
    ...(r.fleet ? { fleet: { statusWarnings: r.fleet.warnings, gapsOpened: r.fleet.gaps.opened, gapsClosed: r.fleet.gaps.closed, gapsLost: r.fleet.gaps.lost, requests: r.fleet.gaps.requests.map((q) => `${q.terminal}/${q.request}`) } } : {}),
    ...(r.interrupted ? { interrupted: true } : {}),
    ...(r.redelivery ? { redelivered: { from: r.redelivery.from, to: r.redelivery.to, batches: r.redelivery.batches.length, sales: r.redelivery.sales } } : {}),
    files: collect.files.map((f) => ({ name: f.name, result: f.result, ...(f.result === 'collected' && f.rejectedParts ? { rejectedParts: f.rejectedParts.length } : {}) })),
  };
}

/**
 * sales.collect (office): every sale file on the server stored once, then delivered to the back
 * office in batches, exactly once (sales-collect.ts). Params: `redeliver: { from, to }`.
 */
export const salesCollectJob = defineJob({
  id: 'sales.collect',
  roles: ['office'],
  description: 'collect the sale files from the server and deliver each sale once to the back office',
  deps: { app: coreRefs.app },
  create({ app }) {
    return {
      async run(ctx) {
        const redeliver = ctx.params?.redeliver as { from: string; to: string } | undefined;
        const r = await runCollect(app, { stop: ctx.signal, ...(redeliver ? { redeliver } : {}) });
        const f = r.fleet;
        const did = r.collect.files.length || r.delivery.sales || r.delivery.heldBack || r.redelivery || (f && (f.gaps.opened || f.gaps.closed || f.gaps.lost || f.gaps.requests.length || f.warnings));
        return {
          // an unreadable status file or a receipt lost at the till needs a person: partial (exit 3)
          result: !did ? 'idle' : r.collect.quarantined || r.delivery.heldBack || f?.warnings || f?.gaps.lost ? 'partial' : 'ok',
          files: r.collect.files.length,
          bytes: r.collect.bytes,
          details: collectDetails(r),
          contacted: true,
          output: r,
        };
      },
    };
  },
});
