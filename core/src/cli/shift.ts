import type { Command } from 'commander';
import { ErrorCodes } from '../api/index.js';
import { requireRole, type CliContext } from './context.js';
import { readJsonArg } from './sales.js';
import { money, printJson, println } from './output.js';

/** minor units by payment kind → decimal strings, as the till wrote them */
const decimals = (t: Record<string, number | undefined>): Record<string, string> => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, money(v ?? 0)]));

/** Terminal-role shift commands: `cfx shift close FILE.json` (docs/fleet.md, "Shift close"). */
export function registerShiftCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const shift = program.command('shift').description('shifts of this terminal');
  shift
    .command('close')
    .argument('<file>', 'the shift close JSON (shift, closedAt, lastReceiptNo, totals by payment kind), or - for stdin')
    .description('journal a shift close durably (validated first); `cfx run` or `cfx push` uploads it after the sales. The same close again changes nothing')
    .option('--push', 'also upload it (and any sale waiting) now')
    .action(async (file: string, o: { push?: boolean }) => {
      const input = readJsonArg(io.cwd, file, ErrorCodes.SHIFT_INVALID);
      // the service (and the push with it) is imported when the command runs, not at start-up
      const { Service } = await import('../scheduler/service.js');
      const app = ctx.open('rw');
      try {
        requireRole(app, 'terminal', 'shift close');
        const out = new Service(app).closeShift(input);
        const pushed = o.push ? ((await app.jobs.run('sales.push', { trigger: 'cli' })).output as { sent: number; shifts: number }) : undefined;
        if (ctx.json()) printJson(io.out, { ...out, totals: decimals(out.totals), ...(pushed ? { pushed: { sales: pushed.sent, shifts: pushed.shifts } } : {}) });
        else {
          const totals = Object.entries(decimals(out.totals)).map(([k, v]) => `${k} ${v}`).join(', ') || 'no totals';
          println(io.out, out.status === 'recorded' ? `recorded the close of shift ${out.shift} (receipts up to ${out.lastReceiptNo}; ${totals}) as ${out.remoteName}` : `shift ${out.shift} was already closed with the same content: nothing changed`);
          if (pushed) println(io.out, `uploaded ${pushed.sent} sale(s) and ${pushed.shifts} shift close(s)`);
        }
      } finally {
        await app.close();
      }
    });
}
