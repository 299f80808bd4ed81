import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CfxError, ErrorCodes, type ErrorCode } from '../api/index.js';
import type { App } from '../app/app.js';
import type { Service } from '../scheduler/service.js';
import { requireRole, type CliContext } from './context.js';
import { Exit } from './exit.js';
import { money, printJson, println } from './output.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;


function date(v: string, flag: string): string {
  if (!DATE.test(v) || Number.isNaN(Date.parse(v))) throw new CfxError(ErrorCodes.USAGE, `${flag} must be a date YYYY-MM-DD, got "${v}"`);
  return v;
}

/** the JSON of a command's file argument (`-`: stdin); not JSON is `code` (the command's input error) */
export function readJsonArg(cwd: string, file: string, code: ErrorCode): unknown {
  const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(resolve(cwd, file), 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CfxError(code, `${file === '-' ? 'stdin' : file} is not JSON: ${(e as Error).message}`);
  }
}

async function withService<T>(ctx: CliContext, fn: (svc: Service, app: App) => Promise<T>): Promise<T> {
  // the service (and with it the sales push) is imported when a sales command runs, not at start-up
  const { Service } = await import('../scheduler/service.js');
  const app = ctx.open('rw');
  try {
    return await fn(new Service(app), app);
  } finally {
    await app.close();
  }
}

/** Terminal-role sales commands: sale add, push, resend. */
export function registerSalesCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const sale = program.command('sale').description('sales of this terminal');
  sale
    .command('add')
    .argument('<file>', 'a sale JSON file (one sale or an array), or - for stdin')
    .description('journal sales durably (validated first: one bad sale journals nothing); `cfx run` uploads them at once')
    .option('--push', 'also upload them now')
    .action(async (file: string, o: { push?: boolean }) => {
      const input = readJsonArg(io.cwd, file, ErrorCodes.SALE_INVALID);
      const record = async (app: App, svc: Service | undefined) => {
        requireRole(app, 'terminal', 'sale add');
        // what Service.recordSale does in a process that runs no push loop: journal the batch
        const out = svc ? svc.recordSale(input) : (await import('../sales/intake.js')).recordSales(app.store, app.config.terminal!, input);
        const pushed = svc ? await (await svc.salesPush()).flush() : undefined;
        if (ctx.json()) printJson(io.out, { sales: out.map((s) => ({ ...s, total: money(s.total) })), ...(pushed ? { pushed: pushed.sent } : {}) });
        else {
          for (const s of out) println(io.out, `${s.status === 'recorded' ? 'recorded ' : 'duplicate'} ${s.saleId}  total ${money(s.total)}`);
          if (pushed) println(io.out, `uploaded ${pushed.sent}`);
        }
      };
      // the light path (issue 20): without --push a sale needs the config and the journal only —
      // not the service, its scheduler, the job registry or the DI container
      if (o.push) await withService(ctx, (svc, app) => record(app, svc));
      else {
        const app = ctx.open('rw');
        try {
          await record(app, undefined);
        } finally {
          await app.close();
        }
      }
    });

  program
    .command('push')
    .description('terminal: upload every journaled sale not yet on the server, now (the backlog), with progress')
    .action(() =>
      withService(ctx, async (svc, app) => {
        requireRole(app, 'terminal', 'push');
        const { interruptible } = await import('./interrupt.js');
        await interruptible(ctx, app, 'cfx push', async (stop) => {
          const push = await svc.salesPush();
          // the logins start now, while the job's run is recorded and the journal read
          if (app.store.journal.countPending() > 0) push.connect();
          const bar = ctx.json() ? undefined : (await import('./progress.js')).countBar(io.err, 'pushing sales');
          let r: { pending: number; sent: number; bytes: number; shifts?: number };
          try {
            const s = await app.jobs.run('sales.push', { trigger: 'cli', signal: stop, ...(bar ? { progress: (p: Record<string, unknown>) => bar.update(p.done as number, p.total as number) } : {}) });
            r = s.output as typeof r;
          } catch (e) {
            bar?.done();
            // the error (and with --json its details: sent, left) follows; say first what did get through
            const d = (e as { details?: { sent?: unknown; pending?: unknown; left?: unknown } }).details;
            if (!ctx.json() && typeof d?.sent === 'number' && d.sent > 0) println(io.err, `uploaded ${d.sent} of ${String(d.pending)} pending sale(s) before the failure; ${String(d.left)} left for the next push`);
            throw e;
          } finally {
            bar?.done();
          }
          if (ctx.json()) printJson(io.out, { pending: r.pending, sent: r.sent, bytes: r.bytes, left: app.store.journal.countPending(), shifts: r.shifts ?? 0, shiftsLeft: app.store.shifts.countPending() });
          else println(io.out, `uploaded ${r.sent} of ${r.pending} pending sale(s)${r.shifts ? ` and ${r.shifts} shift close(s)` : ''} to ${push.dir}`);
        });
      }),
    );

  program
    .command('resend')
    .description('terminal: upload again every journaled sale of a period (local dates, inclusive) under the same names')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD')
    .option('--dry-run', 'only tell what would be sent')
    .action((o: { from: string; to: string; dryRun?: boolean }) =>
      withService(ctx, async (svc, app) => {
        requireRole(app, 'terminal', 'resend');
        const from = date(o.from, '--from');
        const to = date(o.to, '--to');
        const push = await svc.salesPush();
        if (o.dryRun) {
          const plan = push.planResend(from, to);
          if (ctx.json()) printJson(io.out, { from, to, dryRun: true, count: plan.length, names: plan.map((s) => push.remoteName(s.terminalId, s.saleId)) });
          else println(io.out, `would resend ${plan.length} sale(s) of ${from} … ${to} to ${push.dir}`);
          return;
        }
        const bar = ctx.json() ? undefined : (await import('./progress.js')).countBar(io.err, 'resending');
        const { interruptible } = await import('./interrupt.js');
        await interruptible(ctx, app, 'cfx resend', async (stop) => {
          try {
            const s = await app.jobs.run('sales.resend', { trigger: 'cli', signal: stop, params: { from, to }, ...(bar ? { progress: (p: Record<string, unknown>) => bar.update(p.done as number, p.total as number) } : {}) });
            const r = s.output as { sent: number; bytes: number; names: string[]; shifts: number; shiftNames: string[] };
            if (ctx.json()) printJson(io.out, { from, to, sent: r.sent, bytes: r.bytes, names: r.names, shifts: r.shifts, shiftNames: r.shiftNames });
            else println(io.out, `resent ${r.sent} sale(s)${r.shifts ? ` and ${r.shifts} shift close(s)` : ''} of ${from} … ${to} to ${push.dir}`);
          } catch (e) {
            ctx.setExit(Exit.FAILED);
            throw e;
          } finally {
            bar?.done();
          }
        });
      }),
    );
}
