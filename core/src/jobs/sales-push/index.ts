import { coreServices, defineJob } from '../../api/index.js';
import { coreRefs } from '../../di/refs.js';
import { drainSpool } from '../../sales/intake.js';
import { pushPendingShifts } from './shift-push.js';

export { SalesPush, parseResendRequest, type PushResult, type PushProgress } from './sales-push.js';
export { pushPendingShifts, resendShifts, type ShiftPushResult } from './shift-push.js';

/**
 * sales.push (terminal): the spool dir into the journal, then every pending sale to the server
 * (sales-push.ts: one file per sale, temp name + rename, the local copy first). Idle when nothing
 * is pending, so a poll loop records only runs that sent something. Shift closes (shift-push.ts)
 * follow the sales on the push's connection.
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
        const shiftsPending = store.shifts.countPending();
        if (pending === 0 && shiftsPending === 0) return { result: 'idle', output: { pending: 0, sent: 0, bytes: 0, failed: 0, names: [], errors: [], shifts: 0 } };
        const push = await salesPush();
        push.onProgress = ctx.progress ? (p) => ctx.progress!({ ...p }) : undefined;
        const r = pending ? await push.flush(undefined, { stop: ctx.signal }) : { sent: 0, failed: 0, bytes: 0, names: [], errors: [] };
        // not on the stop signal: an upload in flight finishes (written, renamed, marked sent)
        const sh = shiftsPending && !ctx.signal.aborted ? await pushPendingShifts({ config, shifts: store.shifts, transport: push.connection, dir: push.dir, logger }) : { sent: 0, bytes: 0, names: [] };
        const files = r.sent + sh.sent;
        return { result: files ? 'ok' : 'idle', files, bytes: r.bytes + sh.bytes, contacted: true, output: { ...r, pending, shifts: sh.sent, shiftNames: sh.names } };
      },
    };
  },
});
