import { coreServices, defineJob } from '../../api/index.js';
import { coreRefs } from '../../di/refs.js';
import { drainSpool } from '../../sales/intake.js';

export { SalesPush, parseResendRequest, type PushResult, type PushProgress } from './sales-push.js';

/**
 * sales.push (terminal): the spool dir into the journal, then every pending sale to the server
 * (sales-push.ts: one file per sale, temp name + rename, the local copy first). Idle when nothing
 * is pending, so a poll loop records only runs that sent something.
 */
export const salesPushJob = defineJob({
  id: 'sales.push',
  roles: ['terminal'],
  description: 'upload every journaled sale not yet on the server',
  deps: { config: coreRefs.config, store: coreRefs.store, salesPush: coreRefs.salesPush, logger: coreServices.logger },
  create({ config, store, salesPush, logger }) {
    return {
      async run(ctx) {
        if (config.sales.spool) drainSpool(store, config.terminal!, config.sales.spool, config.dataDir, logger);
        const pending = store.journal.countPending();
        if (pending === 0) return { result: 'idle', output: { pending: 0, sent: 0, bytes: 0, failed: 0, names: [], errors: [] } };
        const push = await salesPush();
        push.onProgress = ctx.progress ? (p) => ctx.progress!({ ...p }) : undefined;
        const r = await push.flush(undefined, { stop: ctx.signal });
        return { result: r.sent ? 'ok' : 'idle', files: r.sent, bytes: r.bytes, contacted: true, output: { ...r, pending } };
      },
    };
  },
});
