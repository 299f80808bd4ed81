import { ErrorCodes, errorMessage, isCfxError, type CfxError } from '../api/index.js';
import type { PushProgress, PushResult } from '../jobs/sales-push/sales-push.js';
import type { Service } from '../scheduler/service.js';
import { ApiError } from './http-errors.js';

/** progress written to the run's details at most this often */
const PROGRESS_EVERY_MS = 200;

export interface ResendStarted {
  runId: number;
  from: string;
  to: string;
  /** sales of the period when it started */
  total: number;
}

/**
 * Resends a period in the background (POST /api/resend), one at a time. The run is logged as a
 * `sales.resend` row from the start; its `details.progress` ({done, total}) is updated while it
 * runs, so GET /api/runs/:id (and `cfx status` in another process) shows how far it got.
 */
export class BackgroundResend {
  private current: { runId: number; done: Promise<void> } | undefined;

  constructor(private readonly svc: Service) {}

  get running(): number | undefined {
    return this.current?.runId;
  }

  async start(from: string, to: string, requestedBy: string): Promise<ResendStarted> {
    const { store, logger, config } = this.svc.app;
    if (config.role !== 'terminal') throw new ApiError(409, ErrorCodes.USAGE, `resend is for the terminal role (this cfx has role: ${config.role})`);
    if (this.current) throw new ApiError(409, ErrorCodes.USAGE, `a resend is already running (run ${this.current.runId}); see GET /api/runs/${this.current.runId}`);
    const push = await this.svc.salesPush();
    if (this.current) throw new ApiError(409, ErrorCodes.USAGE, `a resend is already running (run ${(this.current as { runId: number }).runId})`);
    const total = push.planResend(from, to).length;
    const base = { from, to, requestedBy };
    const runId = store.runs.start('sales.resend', { ...base, progress: { done: 0, total } });
    logger.info({ runId, from, to, total, requestedBy }, 'resend started from the admin API');

    let last: PushProgress | undefined;
    let writtenAt = 0;
    const onProgress = (p: PushProgress) => {
      last = p;
      const now = Date.now();
      if (now - writtenAt < PROGRESS_EVERY_MS) return;
      writtenAt = now;
      try {
        store.runs.updateDetails(runId, { ...base, progress: { done: p.done, total: p.total } });
      } catch (e) {
        logger.warn({ runId, err: errorMessage(e) }, 'could not record the resend progress');
      }
    };
    // SalesPush takes its progress callback when a resend or flush starts (synchronously): set it
    // for this call only, so a sales push starting meanwhile keeps its own
    const previous = push.onProgress;
    push.onProgress = onProgress;
    let work: Promise<PushResult>;
    try {
      work = push.resend(from, to);
    } finally {
      push.onProgress = previous;
    }
    const done = work.then(
      (r) => {
        store.runs.finish(runId, { result: 'ok', files: r.sent, bytes: r.bytes, details: { ...base, progress: { done: r.sent, total: Math.max(total, r.sent) } } });
        logger.info({ runId, sent: r.sent }, 'resend finished');
      },
      (e: unknown) => {
        const code = isCfxError(e) ? (e as CfxError).code : ErrorCodes.INTERNAL;
        try {
          store.runs.finish(runId, { result: 'failed', error: { code, message: errorMessage(e) }, details: { ...base, progress: { done: last?.done ?? 0, total: last?.total ?? total } } });
        } catch (e2) {
          logger.error({ runId, err: errorMessage(e2) }, 'could not record the failed resend');
        }
        logger.error({ runId, err: errorMessage(e), code }, 'resend failed');
      },
    ).finally(() => {
      this.current = undefined;
    });
    this.current = { runId, done };
    return { runId, from, to, total };
  }

  /** waits for a running resend to end (cfx stops after the current step, like the other jobs) */
  async settle(): Promise<void> {
    const c = this.current;
    if (!c) return;
    this.svc.app.logger.info({ runId: c.runId }, 'waiting for the running resend to finish');
    await c.done;
  }
}
