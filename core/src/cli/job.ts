import type { Command } from 'commander';
import { CfxError, ErrorCodes } from '../api/index.js';
import type { RunSummary } from '../api/job.js';
import type { CliContext } from './context.js';
import { Exit } from './exit.js';
import { printJson, println, table } from './output.js';

/** `--param key=value`, repeatable: a job's params (a resend's `from`/`to`), as strings */
function collectParam(v: string, prev: Record<string, string>): Record<string, string> {
  const i = v.indexOf('=');
  if (i <= 0) throw new CfxError(ErrorCodes.USAGE, `--param takes key=value, not "${v}"`);
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
}

/**
 * `cfx job list` and `cfx job run ID`: any job — core's or a plugin's — once, the way a cron entry
 * of `cfx run` runs it, for deployments driven by the system's cron or a script instead of `cfx run`
 * (a till pulling and pushing from cron also keeps its status file with `cfx job run status.publish`).
 * The run is recorded like every command's (cfx status, the admin page's log).
 */
export function registerJobCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const job = program.command('job').description("every job this deployment can run, core's and the plugins': list them, or run one once");
  job
    .command('list')
    .description('the jobs (id, owner, the roles it runs in) this config can name in schedule: or cfx job run')
    .action(async () => {
      // the host's core-job table, imported when the command runs (main.ts registers every command at start-up)
      const { CORE_JOBS } = await import('../host/host.js');
      // manifests and config only: listing needs no store
      const app = ctx.open(false);
      try {
        const role = app.config.role;
        const rows = app.host.knownJobs().map((j) => {
          const roles = CORE_JOBS[j.id];
          return { id: j.id, owner: j.plugin, roles: roles ? [...roles] : undefined, runsHere: roles ? roles.includes(role) : undefined };
        });
        if (ctx.json()) printJson(io.out, { role, jobs: rows });
        else println(io.out, table(rows.map((r) => [r.id, r.owner, r.roles?.join('/') ?? '(declared by the plugin)', r.runsHere === false ? 'not in this role' : '']), ['JOB', 'OWNER', 'ROLES', '']));
      } finally {
        void app.close();
      }
    });
  job
    .command('run')
    .argument('<id>', 'the job id (cfx job list)')
    .description('run one job once, now, and print what it did; exit 3 when it quarantined, skipped or held back input')
    .option('--param <key=value>', "a parameter of the job (repeatable), e.g. a resend's --param from=2026-12-01 --param to=2026-12-03", collectParam, {})
    .action(async (id: string, o: { param: Record<string, string> }) => {
      const { interruptible } = await import('./interrupt.js');
      const app = ctx.open('rw');
      try {
        await interruptible(ctx, app, `cfx job run ${id}`, async (stop) => {
          const params = Object.keys(o.param).length ? o.param : undefined;
          const s: RunSummary = await app.jobs.run(id, { trigger: 'cli', signal: stop, ...(params ? { params } : {}) });
          const view = { job: id, result: s.result, files: s.files ?? 0, bytes: s.bytes ?? 0, ...(s.details ? { details: s.details } : {}) };
          if (ctx.json()) printJson(io.out, view);
          else {
            println(io.out, `${id}: ${s.result}${s.files ? `, ${s.files} file(s)` : ''}${s.bytes ? `, ${s.bytes} bytes` : ''}`);
            if (s.details && Object.keys(s.details).length) println(io.out, JSON.stringify(s.details));
          }
          // no silent success: a partial run dropped or held back something
          if (s.result === 'partial') ctx.setExit(Exit.REJECTED);
        });
      } finally {
        await app.close();
      }
    });
}
