import type { Command } from 'commander';
import { CfxError, ErrorCodes } from '../api/index.js';
import type { CliContext } from './context.js';
import { printJson, println, table } from './output.js';

/** `cfx quarantine list|retry`: what the admin page's quarantine panel does, for a shell or cron. */
export function registerQuarantineCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const q = program.command('quarantine').description('files refused with a reason (file, line, field): list them, or send one back to be taken again');

  q.command('list')
    .description('quarantined files, newest first')
    .option('--all', 'also the ones already retried or deleted')
    .action((o: { all?: boolean }) => {
      const app = ctx.open('ro');
      try {
        const files = app.store.quarantine.list(o.all ? {} : { state: 'quarantined' });
        if (ctx.json()) printJson(io.out, { files });
        else if (files.length === 0) println(io.out, 'no quarantined files');
        else {
          const why = (r: Record<string, unknown>) => [r.line !== undefined ? `line ${String(r.line)}` : '', r.field ? `field ${String(r.field)}` : '', String(r.message ?? '')].filter(Boolean).join(', ');
          println(io.out, table(files.map((f) => [String(f.id), f.job, f.fileName, f.state, f.createdAt, why(f.reason)]), ['ID', 'JOB', 'FILE', 'STATE', 'WHEN', 'REASON']));
        }
      } finally {
        void app.close();
      }
    });

  q.command('retry <id>')
    .description('put a quarantined file back where its job takes files from (after fixing the cause); --force applies a full price file that a guard refused (empty, or removing more than prices.maxRemovedShare)')
    .option('--force', 'apply it anyway: lifts the full-file guards for exactly these bytes')
    .action(async (idText: string, o: { force?: boolean }) => {
      const id = Number(idText);
      if (!Number.isSafeInteger(id) || id < 1) throw new CfxError(ErrorCodes.USAGE, `the id must be a positive whole number, got "${idText}"`);
      const app = ctx.open('rw');
      try {
        // the retry (the admin's, with the price pull's keys) is loaded only by this command
        const { retryQuarantined } = await import('../admin/quarantine.js');
        const r = await retryQuarantined({ app }, id, { force: o.force === true });
        if (ctx.json()) printJson(io.out, r);
        else println(io.out, `${r.action}  ${r.fileName} → ${r.to}${r.forced ? ' (forced: the full-file guards are lifted for it)' : ''}`);
      } finally {
        await app.close();
      }
    });
}
