import type { ServiceToken } from './tokens.js';

export type JobRole = 'terminal' | 'office';

/** A job's dependencies: service refs by the names the factory receives them under. */
export type Deps = Readonly<Record<string, ServiceToken<unknown>>>;

/** The values of a deps record, resolved by core. */
export type Resolved<D extends Deps> = { readonly [K in keyof D]: D[K] extends ServiceToken<infer T> ? T : never };

/**
 * What one run of a job did. Core records it once (runs table, `cfx status`, metrics, the admin
 * page's exchange log); a job never writes run rows itself. A run that throws is recorded as failed
 * with the error's code.
 */
export interface RunSummary {
  /** ok; partial: done, but some input was quarantined, skipped or held back; idle: there was nothing to do */
  result: 'ok' | 'partial' | 'idle';
  files?: number;
  bytes?: number;
  /** small, JSON-safe facts shown in the exchange log (counts, names) */
  details?: Record<string, unknown>;
  /** the job reached the server in this run (a heartbeat for "server reachable"), even if idle */
  contacted?: boolean;
  /** the job's own result for the command that ran it (printed by the CLI); not recorded */
  output?: unknown;
}

export interface JobRunContext {
  signal: AbortSignal;
  /** who asked: a poll loop, a cron entry, a CLI command or the admin API */
  trigger: 'poll' | 'schedule' | 'cli' | 'api';
  /** what the caller asked for, when the job takes parameters (a resend's period) */
  params?: Record<string, unknown>;
  /** progress for a person watching (the CLI's progress bar); optional */
  progress?(p: Record<string, unknown>): void;
}

export interface JobRunner {
  run(ctx: JobRunContext): Promise<RunSummary>;
  /** releases what `create` opened (connections); called when the service stops */
  close?(): Promise<void>;
}

/**
 * A job, contributed by core or by a plugin (`contributes.jobs` in its manifest, `ctx.registerJob`
 * in `activate()`): what `schedule[].job` names. Core resolves `deps` from the service catalogue
 * (`coreServices`), calls `create` once per process, and runs the runner on a cron entry, a poll
 * loop or a command — never two runs of one job at once.
 */
export interface JobContribution<D extends Deps = Deps> {
  /** lower-case, dotted: `stock.upload` */
  id: string;
  /** the roles it may run in; a `schedule:` entry for another role is a config error */
  roles: readonly JobRole[];
  description?: string;
  deps: D;
  create(deps: Resolved<D>): JobRunner | Promise<JobRunner>;
}

/** Typed helper: the factory's argument is inferred from `deps`. */
export function defineJob<D extends Deps>(job: JobContribution<D>): JobContribution<D> {
  return job;
}
