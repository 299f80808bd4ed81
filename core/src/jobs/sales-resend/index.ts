import { CfxError, defineJob, ErrorCodes } from '../../api/index.js';
import { coreRefs } from '../../di/refs.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * sales.resend (terminal): every journaled sale of a period (local dates, inclusive) uploaded again
 * under the same names — asked for by `cfx resend`, the admin page, or the office's request file.
 * Params: `from`, `to` (YYYY-MM-DD), optional `requestedBy` (the request file).
 */
export const salesResendJob = defineJob({
  id: 'sales.resend',
  roles: ['terminal'],
  description: 'upload again every journaled sale of a period (params from, to)',
  deps: { salesPush: coreRefs.salesPush },
  create({ salesPush }) {
    return {
      async run(ctx) {
        const { from, to, requestedBy } = (ctx.params ?? {}) as { from?: unknown; to?: unknown; requestedBy?: unknown };
        if (typeof from !== 'string' || typeof to !== 'string' || !DATE.test(from) || !DATE.test(to)) {
          throw new CfxError(ErrorCodes.USAGE, 'sales.resend needs the period: from and to as YYYY-MM-DD (a cron entry cannot give them)');
        }
        const push = await salesPush();
        push.onProgress = ctx.progress ? (p) => ctx.progress!({ ...p }) : undefined;
        const r = await push.resend(from, to, { stop: ctx.signal });
        return { result: 'ok', files: r.sent, bytes: r.bytes, details: { from, to, ...(typeof requestedBy === 'string' ? { requestedBy } : {}) }, contacted: true, output: { ...r, from, to } };
      },
    };
  },
});
