import { CfxError, coreServices, defineJob, ErrorCodes } from '../../api/index.js';
import { coreRefs } from '../../di/refs.js';
import { resendShifts } from '../sales-push/shift-push.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * sales.resend (terminal): every journaled sale of a period (local dates, inclusive) uploaded again
 * under the same names — asked for by `cfx resend`, the admin page, or the office's request file.
 * Params: `from`, `to` (YYYY-MM-DD), optional `requestedBy` (the request file). The shift closes of
 * the period follow the sales. A request served in full is recorded with every receipt number the
 * journal holds in the period, per shift: the status file's `resends` (docs/fleet.md), which tells
 * the office "not at the till" from "not yet arrived".
 */
export const salesResendJob = defineJob({
  id: 'sales.resend',
  roles: ['terminal'],
  description: 'upload again every journaled sale of a period (params from, to)',
  deps: { salesPush: coreRefs.salesPush, config: coreRefs.config, shifts: coreRefs.shifts, clock: coreServices.clock, logger: coreServices.logger },
  create({ salesPush, config, shifts, clock, logger }) {
    return {
      async run(ctx) {
        const { from, to, requestedBy } = (ctx.params ?? {}) as { from?: unknown; to?: unknown; requestedBy?: unknown };
        if (typeof from !== 'string' || typeof to !== 'string' || !DATE.test(from) || !DATE.test(to)) {
          throw new CfxError(ErrorCodes.USAGE, 'sales.resend needs the period: from and to as YYYY-MM-DD (a cron entry cannot give them)');
        }
        const push = await salesPush();
        push.onProgress = ctx.progress ? (p) => ctx.progress!({ ...p }) : undefined;
        const r = await push.resend(from, to, { stop: ctx.signal });
        const sh = ctx.signal.aborted ? { sent: 0, bytes: 0, names: [] } : await resendShifts({ config, shifts, transport: push.connection, dir: push.dir, logger }, from, to);
        // stopped half-way the request stays in the inbox and is served again: not served yet
        if (typeof requestedBy === 'string' && !ctx.signal.aborted) {
          shifts.recordServed({ request: requestedBy, servedAt: clock.now().toISOString(), from, to, sales: r.sent, receipts: shifts.receiptsBetween(config.terminal!, from, to) });
        }
        return {
          result: 'ok',
          files: r.sent + sh.sent,
          bytes: r.bytes + sh.bytes,
          details: { from, to, ...(typeof requestedBy === 'string' ? { requestedBy } : {}), ...(sh.sent ? { shifts: sh.sent } : {}) },
          contacted: true,
          output: { ...r, from, to, shifts: sh.sent, shiftNames: sh.names },
        };
      },
    };
  },
});
