import { createRequire } from 'node:module';
import { coreServices, errorMessage } from '../api/index.js';
import type { App } from '../app/app.js';
import { coreRefs } from '../di/refs.js';
import type { SalesPush } from '../jobs/sales-push/sales-push.js';
import { recordSales, recordShiftClose, type RecordOutcome, type ShiftCloseOutcome } from '../sales/intake.js';
import { JobLoop } from './loop.js';
import { wakeOnChanges } from './watch.js';
import { expandTemplate } from '../jobs/shared/names.js';

// node-cron only when a config schedules jobs (most tills do not), not for every command that opens a Service
let cronMod: typeof import('node-cron') | undefined;
const cron = (): typeof import('node-cron') => (cronMod ??= createRequire(import.meta.url)('node-cron') as typeof import('node-cron'));

/**
 * Everything `cfx run` does, startable in-process too (the library API for a till written in
 * Node): the price poll, the sales push (nudged by every new sale), the spool dir, cron jobs.
 */
/** the office looks at the sales dir less often than a till at its inbox: sales are not urgent there */
const OFFICE_POLL_MS = 5_000;

const STATUS_JOB = 'status.publish';

/**
 * How often a job that keeps reaching the server writes its heartbeat: a 1 s poll must not write
 * to disk every second. The first success after a start or a failure is written at once.
 */
export const CONTACT_EVERY_MS = 60_000;

/**
 * A change asks for a status write this much later, so a burst (a backlog pushed, a batch of sales
 * journaled) makes one write, not one per sale.
 */
export const STATUS_SETTLE_MS = 250;

export interface ServiceOptions {
  /** the clock of run times and heartbeats (tests inject one) */
  now?: () => Date;
}

export class Service {
  private readonly loops: JobLoop[] = [];
  private readonly tasks: { stop(): unknown }[] = [];
  private salesLoop: JobLoop | undefined;
  /** the status file's loop (terminal role) and the pending "something changed" write */
  private statusLoop: JobLoop | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopping = false;
  /** the push job (terminal role) and its single flight: see pushSingle */
  private pushJob: (() => Promise<void>) | undefined;
  private pushRun: Promise<void> | undefined;
  private pushAgain = false;
  private wakeQueued = false;
  private readonly now: () => Date;
  private readonly stopSignal = new AbortController();
  /** watches that wake the poll loops (transports with watch()) */
  private readonly watches: Promise<void>[] = [];
  /** cron runs in flight */
  private readonly scheduled = new Set<Promise<unknown>>();
  /** when the current (or last) run of each job began: a failure reported by its loop is logged from then */
  private readonly runStarted = new Map<string, Date>();
  /** when each job's heartbeat was last written (this.now() ms); absent: write at the next success */
  private readonly contactWritten = new Map<string, number>();

  constructor(
    readonly app: App,
    opts: ServiceOptions = {},
  ) {
    // time comes from the clock ref, so a test that fixes it moves the service's run times too
    this.now = opts.now ?? (() => app.services.resolve(coreServices.clock).now());
  }

  /** the start of a run of `job`, remembered for its run row */
  private begin(job: string): Date {
    const at = this.now();
    this.runStarted.set(job, at);
    return at;
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
      this.app.store.runs.recordContact(job, at);
    } catch (e) {
      this.app.logger.warn({ job, err: errorMessage(e) }, 'could not record the heartbeat');
    }
  }

  /** what a loop calls when its run failed: the failure ends the heartbeat's quiet period, the first of a kind is logged */
  private failed(job: string): (e: unknown, first: boolean) => void {
    return (e, first) => {
      this.contactWritten.delete(job);
      if (first) this.app.jobs.recordFailure(job, e, this.runStarted.get(job));
      // an error is a change the office should see (its own failures would only loop)
      if (first && job !== STATUS_JOB) this.statusChanged();
    };
  }

  /** the push and its connections, made once (one for the jobs, the library and the admin API) */
  salesPush(): Promise<SalesPush> {
    return this.app.services.resolve(coreRefs.salesPush)();
  }

  /** journals a sale (or an array) and wakes the push; resolves once durably journaled */
  recordSale(input: unknown): RecordOutcome[] {
    const out = recordSales(this.app.store, this.app.config.terminal!, input);
    if (out.some((o) => o.status === 'recorded')) {
      this.wakePush();
      this.statusChanged();
    }
    return out;
  }

  /** journals a shift close and wakes the push (which uploads it after the sales); resolves once durably journaled */
  closeShift(input: unknown): ShiftCloseOutcome {
    const out = recordShiftClose(this.app.store, this.app.config.terminal!, input);
    if (out.status === 'recorded') {
      this.wakePush();
      this.statusChanged();
    }
    return out;
  }

  /**
   * Something the status file reports changed (a price file applied, a sale journaled or pushed, a
   * shift closed, a resend request served, an error): write it soon, once for a burst. The write's
   * own failure is the status loop's (logged, retried on the next change or tick), never the caller's.
   */
  statusChanged(): void {
    if (!this.statusLoop || this.stopping || this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.statusLoop?.nudge();
    }, STATUS_SETTLE_MS);
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

  /**
   * A job's run from a poll loop: recorded only when it did something (an idle poll writes no row),
   * its failures by the loop (the first of a series), its contact with the server as a heartbeat.
   */
  private poll(job: string, loop?: () => JobLoop | undefined): () => Promise<void> {
    return async () => {
      this.begin(job);
      const s = await this.app.jobs.run(job, { trigger: 'poll', signal: this.stopSignal.signal, record: { success: 'active', failure: false } });
      if (s.contacted) this.contact(job);
      // a file seen but not yet complete needs another listing at the normal pace: no watch event
      // may come for a file that only has to hold still
      if (((s.output as { waiting?: unknown[] } | undefined)?.waiting?.length ?? 0) > 0) loop?.()?.pace();
      if (s.result !== 'idle' && job !== STATUS_JOB) this.statusChanged();
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const { config: c, logger } = this.app;
    // plugins are reached inside the jobs, not here: a plugin that fails to activate fails its
    // job (retried with back-off, shown in status), never the whole service
    const loopOf = (job: string, everyMs: number, run: () => Promise<void>) => new JobLoop(job, everyMs, run, logger, this.failed(job));
    // while the watch is live the loop polls every prices.watchPoll only: the poll is the fallback then
    const watch = (job: string, loop: JobLoop, dirs: string[]) =>
      this.watches.push(wakeOnChanges({ job, transport: () => this.app.transport(), dirs, loop, logger, signal: this.stopSignal.signal, relaxMs: c.prices.watchPollMs }));
    if (c.role === 'terminal') {
      const pull: JobLoop = loopOf('prices.pull', c.prices.pollMs, this.poll('prices.pull', () => pull));
      this.loops.push(pull);
      // a new price file wakes the pull at once where the transport can say so
      watch('prices.pull', pull, [expandTemplate(c.prices.dir, { terminal: c.terminal })]);
      this.pushJob = this.poll('sales.push');
      // the sales loop also looks at the journal every poll interval: sales journaled by another
      // process (cfx sale add, the spool dir) are picked up without a nudge
      this.salesLoop = loopOf('sales.push', c.prices.pollMs, () => this.pushSingle());
      this.loops.push(this.salesLoop);
      this.statusLoop = loopOf(STATUS_JOB, c.status.everyMs, this.poll(STATUS_JOB));
      this.loops.push(this.statusLoop);
    }
    if (c.role === 'office') {
      const collect = loopOf('sales.collect', Math.max(c.prices.pollMs, OFFICE_POLL_MS), this.poll('sales.collect'));
      this.loops.push(collect);
      const tpl = c.sales.dir;
      watch('sales.collect', collect, tpl.includes('{terminal}') ? c.terminals.map((terminal) => expandTemplate(tpl, { terminal })) : [tpl]);
      // a back office without exports (generic) gets no publish loop; one that cannot even be created gets it (its runs say why)
      let exportsGoods = true;
      try {
        const bo = await this.app.host.backoffice(c.backoffice.use, c.backoffice.options);
        exportsGoods = bo.pendingExports !== undefined;
        await bo.close?.().catch(() => undefined);
      } catch {
        /* reported by the loops' runs */
      }
      if (exportsGoods) this.loops.push(loopOf('office.publish', Math.max(c.prices.pollMs, OFFICE_POLL_MS), this.poll('office.publish')));
    }
    for (const s of c.schedule) {
      // checked at config load against the known jobs; a plugin job's roles are checked here, at once
      const run = s.job === 'sales.push' && this.pushJob ? () => this.pushSingle() : () => this.app.jobs.run(s.job, { trigger: 'schedule', signal: this.stopSignal.signal, record: { success: 'always', failure: true } });
      if (s.job !== 'sales.push') await this.app.jobs.runner(s.job);
      this.tasks.push(
        cron().schedule(s.cron, () => {
          if (this.stopping) return;
          // waited for by stop(): a run in flight is finished and recorded before the process ends
          const p: Promise<unknown> = run()
            .catch((e) => logger.error({ job: s.job, err: errorMessage(e) }, 'scheduled job failed'))
            .finally(() => this.scheduled.delete(p));
          this.scheduled.add(p);
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
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = undefined;
    // a running job finishes its step (the signal is its stop, not an abort of the call in flight)
    this.stopSignal.abort();
    for (const t of this.tasks.splice(0)) t.stop();
    await Promise.all(this.loops.splice(0).map((l) => l.stop()));
    await this.pushRun?.catch(() => undefined); // one started by a new sale, outside the loop
    await Promise.all([...this.scheduled]);
    await Promise.all(this.watches.splice(0));
  }
}
