import cron from 'node-cron';
import { CfxError, ErrorCodes, errorMessage, isCfxError, type CfxError as CfxErrorT } from '../api/index.js';
import type { App } from '../app/app.js';
import { PricePull, pullFileDetails, type PullResult } from '../jobs/prices-pull/price-pull.js';
import { pruneArchive } from '../jobs/archive-prune/prune.js';
import { SalesPush, parseResendRequest } from '../jobs/sales-push/sales-push.js';
import { runCollect } from '../jobs/sales-collect/sales-collect.js';
import { fault } from '../faults/index.js';
import { drainSpool, recordSales, type RecordOutcome } from '../sales/intake.js';
import { JobLoop } from './loop.js';

/**
 * Everything `cfx run` does, startable in-process too (the library API for a till written in
 * Node): the price poll, the sales push (nudged by every new sale), the spool dir, cron jobs.
 */
/** the office looks at the sales dir less often than a till at its inbox: sales are not urgent there */
const OFFICE_POLL_MS = 5_000;

/**
 * How often a job that keeps reaching the server writes its heartbeat: a 1 s poll must not write
 * to disk every second. The first success after a start or a failure is written at once.
 */
export const CONTACT_EVERY_MS = 60_000;

export interface ServiceOptions {
  /** the clock of run times and heartbeats (tests inject one) */
  now?: () => Date;
}

export class Service {
  private readonly loops: JobLoop[] = [];
  private readonly tasks: { stop(): unknown }[] = [];
  private salesLoop: JobLoop | undefined;
  private pushP: Promise<SalesPush> | undefined;
  private started = false;
  private stopping = false;
  /** the push job (terminal role) and its single flight: see pushSingle */
  private pushJob: (() => Promise<void>) | undefined;
  private pushRun: Promise<void> | undefined;
  private pushAgain = false;
  private wakeQueued = false;
  private readonly now: () => Date;
  /** when the current (or last) run of each job began: a failure reported by its loop is logged from then */
  private readonly runStarted = new Map<string, Date>();
  /** when each job's heartbeat was last written (this.now() ms); absent: write at the next success */
  private readonly contactWritten = new Map<string, number>();

  constructor(
    readonly app: App,
    opts: ServiceOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** the start of a run of `job`, remembered for its run row */
  private begin(job: string): Date {
    const at = this.now();
    this.runStarted.set(job, at);
    return at;
  }

  private recordRun(job: string, result: 'ok' | 'failed' | 'partial', extra: { files?: number; bytes?: number; error?: unknown; details?: Record<string, unknown> } = {}, startedAt = this.runStarted.get(job)): void {
    // one journal write (synchronous=FULL: one sync) for a run that is already over; after every push
    this.app.store.addFinishedRun(
      job,
      {
        result,
        ...(extra.files !== undefined ? { files: extra.files } : {}),
        ...(extra.bytes !== undefined ? { bytes: extra.bytes } : {}),
        ...(extra.details ? { details: extra.details } : {}),
        ...(extra.error !== undefined ? { error: { code: isCfxError(extra.error) ? (extra.error as CfxErrorT).code : ErrorCodes.INTERNAL, message: errorMessage(extra.error) } } : {}),
      },
      { ...(startedAt ? { startedAt } : {}), finishedAt: this.now() },
    );
  }

  /**
   * `job` reached the server: its heartbeat, so "server reachable" does not wait for a file to
   * move. Written at most every CONTACT_EVERY_MS, and at once after a start or a failure.
   */
  private contact(job: string): void {
    const at = this.now();
    const last = this.contactWritten.get(job);
    if (last !== undefined && at.getTime() - last < CONTACT_EVERY_MS && at.getTime() >= last) return;
    // a failed write waits for the next period too: a broken disk must not log once a poll
    this.contactWritten.set(job, at.getTime());
    try {
      this.app.store.recordContact(job, at);
    } catch (e) {
      this.app.logger.warn({ job, err: errorMessage(e) }, 'could not record the heartbeat');
    }
  }

  /** what a loop calls when its run failed: the failure ends the heartbeat's quiet period, the first of a kind is logged */
  private failed(job: string): (e: unknown, first: boolean) => void {
    return (e, first) => {
      this.contactWritten.delete(job);
      if (first) this.recordRun(job, 'failed', { error: e });
    };
  }

  /** the push and its connections, made once (concurrent first callers share the same promise) */
  salesPush(): Promise<SalesPush> {
    this.pushP ??= (async () => {
      const c = this.app.config;
      const format = await this.app.host.format(c.sales.format, c.sales.options);
      const transports = await Promise.all(Array.from({ length: c.sales.connections }, () => this.app.newTransport()));
      return new SalesPush({ config: c, store: this.app.store, transports, format, logger: this.app.logger });
    })().catch((e) => {
      this.pushP = undefined; // a plugin that failed to activate is tried again on the next run
      throw e;
    });
    return this.pushP;
  }

  /** journals a sale (or an array) and wakes the push; resolves once durably journaled */
  recordSale(input: unknown): RecordOutcome[] {
    const out = recordSales(this.app.store, this.app.config.terminal!, input);
    if (out.some((o) => o.status === 'recorded')) this.wakePush();
    return out;
  }

  /**
   * A new sale: push now. From setImmediate, not through the loop's nudge (a setTimeout(0), which
   * waits at least 1 ms, a third of the latency budget). While pushes are failing the loop and its
   * back-off decide, as before; a push failing here hands over to the loop (it retries at once,
   * logs, records the run and backs off).
   */
  private wakePush(): void {
    const loop = this.salesLoop;
    if (!loop || !this.pushJob || this.stopping) return;
    if (loop.failures > 0) return loop.nudge();
    if (this.pushRun) {
      this.pushAgain = true;
      return;
    }
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      if (this.stopping) return;
      this.pushSingle().catch(() => loop.nudge());
    });
  }

  /** one push at a time, whoever asks (the loop, a new sale, cron); asked while one runs: once more after it */
  private pushSingle(): Promise<void> {
    if (this.pushRun) {
      this.pushAgain = true;
      return this.pushRun;
    }
    const job = this.pushJob!;
    const run = (async () => {
      try {
        do {
          this.pushAgain = false;
          await job();
        } while (this.pushAgain && !this.stopping);
      } finally {
        this.pushRun = undefined;
      }
    })();
    this.pushRun = run;
    return run;
  }

  /** the office's resend requests found in the inbox: resend each period, then delete the request */
  async handleResendRequests(pull: PricePull, r: PullResult, stop?: AbortSignal): Promise<void> {
    for (const name of r.requests) {
      const period = parseResendRequest(name);
      if (!period) continue;
      if (stop?.aborted) return;
      const startedAt = this.now();
      const push = await this.salesPush();
      const res = await push.resend(period.from, period.to, stop ? { stop } : {});
      // stopped half-way: the request stays in the inbox and the next pull resends the whole period
      if (stop?.aborted) return;
      this.recordRun('sales.resend', 'ok', { files: res.sent, bytes: res.bytes, details: { ...period, requestedBy: name } }, startedAt);
      fault('sales.resend:request-served');
      await pull.deleteRequest(name);
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { config: c, logger } = this.app;
    const jobs: Record<string, () => Promise<unknown>> = {
      'archive.prune': async () => {
        const removed = pruneArchive(c.dataDir, c.archive.keepDays);
        logger.info({ removed: removed.length, keepDays: c.archive.keepDays }, 'archive pruned');
      },
    };
    if (c.role === 'terminal') {
      // plugins are reached inside the jobs, not here: a plugin that fails to activate fails its
      // job (retried with back-off, shown in status), never the whole service
      let pull: PricePull | undefined;
      const pullOnce = async () => {
        this.begin('prices.pull');
        pull ??= new PricePull({ config: c, store: this.app.store, transport: await this.app.transport(), format: await this.app.host.format(c.prices.format, c.prices.options), logger });
        const r = await pull.cycle();
        this.contact('prices.pull');
        if (r.files.length) {
          const q = r.files.filter((f) => f.result === 'quarantined' || (f.result === 'applied' && f.warnings?.length)).length;
          this.recordRun('prices.pull', q ? 'partial' : 'ok', { files: r.files.length, bytes: r.bytes, details: { files: r.files.map(pullFileDetails) } });
        }
        await this.handleResendRequests(pull, r);
      };
      jobs['prices.pull'] = pullOnce;
      this.loops.push(new JobLoop('prices.pull', c.prices.pollMs, pullOnce, logger, this.failed('prices.pull')));

      const pushOnce = async () => {
        this.begin('sales.push');
        if (c.sales.spool) drainSpool(this.app.store, c.terminal!, c.sales.spool, c.dataDir, logger);
        if (this.app.store.countPending() === 0) return;
        const r = await (await this.salesPush()).flush();
        this.contact('sales.push');
        if (r.sent) this.recordRun('sales.push', 'ok', { files: r.sent, bytes: r.bytes });
      };
      this.pushJob = pushOnce;
      const pushNow = () => this.pushSingle();
      jobs['sales.push'] = pushNow;
      // the sales loop also looks at the journal every poll interval: sales journaled by another
      // process (cfx sale add, the spool dir) are picked up without a nudge
      this.salesLoop = new JobLoop('sales.push', c.prices.pollMs, pushNow, logger, this.failed('sales.push'));
      this.loops.push(this.salesLoop);
    }
    if (c.role === 'office') {
      const { runPublish, PUBLISH_JOB } = await import('../jobs/office-publish/publish.js');
      const collectOnce = async () => {
        this.begin('sales.collect');
        const r = await runCollect(this.app, { record: false });
        this.contact('sales.collect');
        if (r.collect.files.length || r.delivery.sales || r.delivery.heldBack) {
          this.recordRun('sales.collect', r.collect.quarantined || r.delivery.heldBack ? 'partial' : 'ok', {
            files: r.collect.files.length,
            bytes: r.collect.bytes,
            details: { stored: r.collect.stored, duplicates: r.collect.duplicates, quarantined: r.collect.quarantined, deliveredSales: r.delivery.sales, ...(r.delivery.heldBack ? { heldBack: r.delivery.heldBack } : {}) },
          });
        }
      };
      jobs['sales.collect'] = collectOnce;
      this.loops.push(new JobLoop('sales.collect', Math.max(c.prices.pollMs, OFFICE_POLL_MS), collectOnce, logger, this.failed('sales.collect')));

      // publish: the back office's goods exports (1C's goods file + flag) to the terminals, polled like the sales
      const publishOnce = async () => {
        this.begin(PUBLISH_JOB);
        const r = await runPublish(this.app, { record: false });
        if (r.published || r.quarantined) {
          this.recordRun(PUBLISH_JOB, r.quarantined ? 'partial' : 'ok', {
            files: r.published,
            bytes: r.bytes,
            details: { exports: r.exports, published: r.published, quarantined: r.quarantined, outcomes: r.outcomes.map((o) => ({ terminal: o.terminal, result: o.result, ...(o.result === 'published' ? { name: o.name } : {}) })) },
          });
        }
      };
      jobs[PUBLISH_JOB] = publishOnce;
      // a back office without exports (generic) gets no publish loop; one that cannot even be created gets it (its runs say why)
      let exportsGoods = true;
      try {
        const bo = await this.app.host.backoffice(c.backoffice.use, c.backoffice.options);
        exportsGoods = bo.pendingExports !== undefined;
        await bo.close?.().catch(() => undefined);
      } catch {
        /* reported by the loops' runs */
      }
      if (exportsGoods) this.loops.push(new JobLoop(PUBLISH_JOB, Math.max(c.prices.pollMs, OFFICE_POLL_MS), publishOnce, logger, this.failed(PUBLISH_JOB)));
    }
    for (const s of c.schedule) {
      const job = jobs[s.job];
      if (!job) throw new CfxError(ErrorCodes.CONFIG_INVALID, `schedule: unknown job "${s.job}" (available: ${Object.keys(jobs).join(', ')})`);
      this.tasks.push(
        cron.schedule(s.cron, () => {
          job().catch((e) => logger.error({ job: s.job, err: errorMessage(e) }, 'scheduled job failed'));
        }),
      );
    }
    for (const l of this.loops) l.start();
    logger.info({ role: c.role, terminal: c.terminal, pollMs: c.prices.pollMs, schedule: c.schedule }, 'cfx running');
    // the admin page and HTTP API (docs/admin.md); loaded only when configured
    if (c.admin) await (await import('../admin/index.js')).startAdmin(this);
  }

  async stop(): Promise<void> {
    // no new API calls while the jobs wind down; a running resend started there is waited for
    if (this.app.config.admin) await (await import('../admin/index.js')).stopAdmin(this);
    this.stopping = true;
    for (const t of this.tasks.splice(0)) t.stop();
    await Promise.all(this.loops.splice(0).map((l) => l.stop()));
    await this.pushRun?.catch(() => undefined); // one started by a new sale, outside the loop
  }
}
