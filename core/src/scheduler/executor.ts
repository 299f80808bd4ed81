import {
  CfxError,
  coreServices,
  ErrorCodes,
  errorMessage,
  isCfxError,
  type JobContribution,
  type JobRole,
  type JobRunContext,
  type JobRunner,
  type RunSummary,
} from '../api/index.js';
import type { App } from '../app/app.js';
import { coreRefs } from '../di/refs.js';
import { prefixedKv } from '../di/wiring.js';
import { CORE_JOB_LOADERS } from '../jobs/index.js';

/** How a run is recorded in the runs table (status, metrics, the admin page's exchange log). */
export interface RecordPolicy {
  /** always: a command's run, even with nothing to do; active: only runs that did something (a poll loop) */
  success: 'always' | 'active';
  /** a failed run is recorded (a poll loop records only the first of a series itself) */
  failure: boolean;
  /** a row in state "running" while the run lasts (a long command shows in the admin page) */
  live?: boolean;
}

export interface RunOptions {
  trigger: JobRunContext['trigger'];
  signal?: AbortSignal;
  params?: Record<string, unknown>;
  record?: RecordPolicy;
  progress?: JobRunContext['progress'];
}

/**
 * The files and bytes a failed run still moved: a job that fails after part of its work (a sales
 * push whose connection died at file 1,000 of 1,000) puts `sent` and `bytes` in its error's details.
 */
function partialWork(e: unknown): { files?: number; bytes?: number } {
  const d = isCfxError(e) ? (e as CfxError).details : undefined;
  const n = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
  const files = n(d?.sent);
  const bytes = n(d?.bytes);
  return { ...(files !== undefined ? { files } : {}), ...(bytes !== undefined ? { bytes } : {}) };
}

/** a failed run's row: the error's catalogue code (INTERNAL for a foreign error) and message */
const runError = (e: unknown) => ({ code: isCfxError(e) ? (e as CfxError).code : ErrorCodes.INTERNAL, message: errorMessage(e) });

const COMMAND: RecordPolicy = { success: 'always', failure: true, live: true };

/**
 * Runs jobs by id — core's (core/src/jobs/<id>/) and plugins' (`contributes.jobs`) alike — and
 * records every run once, from the job's summary. A job's runner is created once per process with
 * its deps resolved from the app's service container; a plugin's job gets the narrow public refs,
 * with a kv of its own (`plugin.<id>.`). Two runs of one job never overlap: a second caller waits
 * for the run in flight and gets its summary.
 */
export class JobExecutor {
  private readonly runners = new Map<string, Promise<JobRunner>>();
  private readonly inFlight = new Map<string, Promise<RunSummary>>();

  constructor(private readonly app: App) {}

  /** every job this deployment can run, with its owner: core's and the plugins' */
  ids(): string[] {
    return this.app.host.knownJobs().map((j) => j.id);
  }

  private async contribution(id: string): Promise<{ job: JobContribution; pluginId?: string }> {
    // a core job's module (the price pull, collect, publish, …) loads when that job first runs,
    // not with the App every command opens, nor with another job (issue 20, start-up)
    const load = Object.hasOwn(CORE_JOB_LOADERS, id) ? CORE_JOB_LOADERS[id] : undefined;
    if (load) return { job: await load() };
    if (!this.app.host.knownJobs().some((j) => j.id === id)) {
      throw new CfxError(ErrorCodes.USAGE, `unknown job "${id}" (available: ${this.ids().join(', ')})`, { details: { job: id } });
    }
    return this.app.host.job(id);
  }

  /** the job's runner, created on first use (a failed creation is tried again next time) */
  runner(id: string): Promise<JobRunner> {
    let r = this.runners.get(id);
    if (!r) {
      r = (async () => {
        const { job, pluginId } = await this.contribution(id);
        const role = this.app.config.role as JobRole;
        if (!job.roles.includes(role)) throw new CfxError(ErrorCodes.USAGE, `job "${id}" runs in the ${job.roles.join('/')} role, not in this ${role} config`, { details: { job: id } });
        let services = this.app.services;
        if (pluginId !== undefined) {
          // narrow deps: the plugin's kv is its own, and core-internal refs are not in its deps' reach
          services = services.child().value(coreServices.kv, prefixedKv(this.app, `plugin.${pluginId}.`));
        }
        const deps = services.resolveDeps(job.deps, `job "${id}"`);
        return job.create(deps);
      })();
      r.catch(() => this.runners.delete(id));
      this.runners.set(id, r);
    }
    return r;
  }

  /** one run of `id`, recorded by `record` (a command's policy by default) */
  run(id: string, opts: RunOptions): Promise<RunSummary> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const p = this.runOnce(id, opts).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  private async runOnce(id: string, opts: RunOptions): Promise<RunSummary> {
    const record = opts.record ?? COMMAND;
    const clock = this.app.services.resolve(coreServices.clock);
    const runs = this.app.services.resolve(coreRefs.runs);
    const startedAt = clock.now();
    const liveId = record.live ? runs.start(id, opts.params) : undefined;
    const signal = opts.signal ?? new AbortController().signal;
    try {
      const runner = await this.runner(id);
      const s = await runner.run({ signal, trigger: opts.trigger, ...(opts.params ? { params: opts.params } : {}), ...(opts.progress ? { progress: opts.progress } : {}) });
      const finish = { result: s.result === 'idle' ? 'ok' : s.result, files: s.files ?? 0, bytes: s.bytes ?? 0, ...(s.details ? { details: s.details } : {}) } as const;
      if (liveId !== undefined) runs.finish(liveId, finish);
      else if (s.result !== 'idle' || record.success === 'always') runs.addFinished(id, finish, { startedAt, finishedAt: clock.now() });
      return s;
    } catch (e) {
      const error = runError(e);
      const failed = { result: 'failed', error, ...partialWork(e) } as const;
      if (liveId !== undefined) runs.finish(liveId, failed);
      else if (record.failure) runs.addFinished(id, failed, { startedAt, finishedAt: clock.now() });
      throw e;
    }
  }

  /** records a failure the caller decided to record (a poll loop's first failure of a series) */
  recordFailure(id: string, e: unknown, startedAt?: Date): void {
    const clock = this.app.services.resolve(coreServices.clock);
    const error = runError(e);
    this.app.services.resolve(coreRefs.runs).addFinished(id, { result: 'failed', error }, { ...(startedAt ? { startedAt } : {}), finishedAt: clock.now() });
  }

  async close(): Promise<void> {
    const rs = await Promise.all([...this.runners.values()].map((r) => r.catch(() => undefined)));
    this.runners.clear();
    await Promise.all(rs.map((r) => r?.close?.().catch(() => undefined)));
  }
}
