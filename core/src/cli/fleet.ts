import type { Command } from 'commander';
import { CfxError, ErrorCodes, coreServices } from '../api/index.js';
import { ageText, fleetNeedsAttention, lastErrorText, fleetReport, terminalProblems, type FleetTerminal } from '../fleet/report.js';
import { requireRole, type CliContext } from './context.js';
import { Exit } from './exit.js';
import { printJson, println, table } from './output.js';

export const FLEET_DESCRIPTION = "office: every terminal's health — last seen, catalog current or behind, pending sales, receipt gaps, shifts (exit 3: needs attention)";

const count = (text: string, what: string): number => {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new CfxError(ErrorCodes.USAGE, `${what} must be a whole number ≥ 0, got "${text}"`);
  return n;
};

function shiftsText(t: FleetTerminal): string {
  return t.shifts.map((s) => `${s.shift}:${s.state}${s.missing ? `(missing ${s.missing.join(',')})` : ''}${s.difference ? `(${Object.entries(s.difference).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`).join(' ') || '-';
}

/** `cfx fleet [--json]` and `cfx fleet ack TERMINAL SHIFT NO` (docs/fleet.md); loaded only when the command line names `fleet` */
export function registerFleetCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const fleet = program
    .command('fleet')
    .description(FLEET_DESCRIPTION)
    .action(() => {
      const app = ctx.open('ro');
      try {
        requireRole(app, 'office', 'fleet');
        const r = fleetReport(app.store.fleet, app.config, app.services.resolve(coreServices.clock).now());
        if (ctx.json()) printJson(io.out, r);
        else if (r.terminals.length === 0) println(io.out, 'no terminals in the config (terminals:)');
        else {
          println(
            io.out,
            table(
              r.terminals.map((t) => [
                t.terminal,
                `${ageText(t.ageSeconds)}${t.stale ? ' STALE' : ''}`,
                t.catalog.state === 'current' ? `current ${t.catalog.file ?? ''}` : t.catalog.state === 'behind' ? `BEHIND ${t.catalog.file ?? '-'}` : `unknown ${t.catalog.file ?? ''}`,
                t.pendingSales === null ? '-' : String(t.pendingSales),
                `${t.gaps.open}/${t.gaps.requested}/${t.gaps.lostAtTill}`,
                shiftsText(t),
              ]),
              ['TERMINAL', 'LAST SEEN', 'CATALOG', 'PENDING', 'GAPS open/req/LOST', 'SHIFTS'],
            ),
          );
          for (const t of r.terminals) {
            for (const g of t.gapList.filter((x) => x.state === 'lost')) println(io.out, `LOST AT TILL  ${t.terminal} shift ${g.shift} receipt ${g.receiptNo} (cfx fleet ack ${t.terminal} ${g.shift} ${g.receiptNo} once handled)`);
            for (const p of terminalProblems(t)) println(io.out, `ATTENTION     ${t.terminal}: ${p}`);
            // the terminal's own last failure (its status): news for a person, not by itself a problem of the fleet
            const e = lastErrorText(t.lastError);
            if (e) println(io.out, `LAST ERROR    ${t.terminal}: ${e}`);
          }
        }
        if (fleetNeedsAttention(r)) ctx.setExit(Exit.REJECTED);
      } finally {
        void app.close();
      }
    });

  fleet
    .command('ack <terminal> <shift> <receiptNo>')
    .description('acknowledge a receipt lost at the till (handled by hand): it no longer needs attention')
    .action((terminal: string, shiftText: string, noText: string) => {
      const shift = count(shiftText, 'SHIFT');
      const receiptNo = count(noText, 'NO');
      const app = ctx.open('rw');
      try {
        requireRole(app, 'office', 'fleet ack');
        if (!app.config.terminals.includes(terminal)) throw new CfxError(ErrorCodes.USAGE, `terminal ${terminal} is not one of this office's terminals (${app.config.terminals.join(', ')})`);
        const g = app.store.fleet.gaps(terminal).find((x) => x.shift === shift && x.receiptNo === receiptNo);
        if (!g) throw new CfxError(ErrorCodes.USAGE, `terminal ${terminal} has no receipt gap at shift ${shift}, receipt ${receiptNo} (cfx fleet lists them)`);
        if (g.state === 'closed' || g.state === 'acked') throw new CfxError(ErrorCodes.USAGE, `receipt ${receiptNo} of shift ${shift} (terminal ${terminal}) is already ${g.state === 'closed' ? 'collected' : 'acknowledged'}`);
        const { nextRequestAt: _, ...rest } = g;
        const at = app.services.resolve(coreServices.clock).now().toISOString();
        app.store.fleet.putGap({ ...rest, state: 'acked', endedAt: at });
        app.logger.info({ terminal, shift, receiptNo, was: g.state }, 'receipt gap acknowledged');
        if (ctx.json()) printJson(io.out, { terminal, shift, receiptNo, state: 'acked', was: g.state, at });
        else println(io.out, `acknowledged  ${terminal} shift ${shift} receipt ${receiptNo} (was ${g.state})`);
      } finally {
        void app.close();
      }
    });
}
