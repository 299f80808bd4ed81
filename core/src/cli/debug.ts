import type { Command } from 'commander';
import { FAULT_POINTS } from '../faults/index.js';
import type { CliContext } from './context.js';
import { printJson, println, table } from './output.js';

/**
 * `cfx debug …`: for the people and tests proving cfx, not for running it, so hidden from the
 * main `--help` list (`cfx debug --help` shows it).
 */
export function registerDebugCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const debug = program.command('debug', { hidden: true }).description('tools to prove cfx (fault points for crash tests)');
  debug
    .command('fault-points')
    .description('the named fault points: CFX_FAULT=<point>[,<point>] makes cfx SIGKILL itself the first time it reaches one (docs/reliability.md)')
    .action(() => {
      const points = Object.entries(FAULT_POINTS).map(([point, p]) => ({ point, job: p.job, after: p.after }));
      if (ctx.json()) printJson(io.out, { points });
      else println(io.out, table(points.map((p) => [p.point, p.job, p.after]), ['POINT', 'JOB', 'AFTER']));
    });
}
