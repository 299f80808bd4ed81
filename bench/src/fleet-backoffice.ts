// The fleet bench's back office (a cfx plugin, loaded by the office from a package dir the bench
// writes: fleet.ts `writeBackOfficePlugin`): one price file for every terminal, as a back office that
// prices a whole chain at once would offer it. The office publishes it with core's real publish
// (office.publish: stage, decode, upload under a temp name, rename, archive, ack).
//   <dir>/current.json   {"round": 3, "file": "/abs/prices-3.csv"}  — written by the bench per round
//   <dir>/acks.tsv       round \t terminal \t epoch ms of ack()     — appended here, read by the bench
// ack() comes right after the terminal's copy was renamed into its inbox and archived, so its time is
// when the file landed for that terminal. An acknowledged terminal is not offered the round again.
import { appendFileSync, createReadStream, existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BackOffice, BackOfficeExport, PendingExportsOptions, PluginContext } from '@cfx/core/api';

export const FLEET_BACKOFFICE = 'fleet-bench';

export interface FleetRound {
  round: number;
  file: string;
}

/** `round → terminal → ack time` from acks.tsv */
export function readAcks(dir: string): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  const f = join(dir, 'acks.tsv');
  if (!existsSync(f)) return out;
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    const [r, t, at] = line.split('\t');
    if (!r || !t || !at) continue;
    let m = out.get(Number(r));
    if (!m) out.set(Number(r), (m = new Map()));
    m.set(t, Number(at));
  }
  return out;
}

function createFleetBackOffice(options: Record<string, unknown>): BackOffice {
  const dir = String(options['dir']);
  return {
    id: FLEET_BACKOFFICE,
    async pendingExports(o?: PendingExportsOptions): Promise<BackOfficeExport[]> {
      const cur = join(dir, 'current.json');
      if (!existsSync(cur)) return [];
      const { round, file } = JSON.parse(readFileSync(cur, 'utf8')) as FleetRound;
      const done = readAcks(dir).get(round) ?? new Map<string, number>();
      return (o?.terminals ?? [])
        .filter((t) => !done.has(t))
        .map((terminal) => ({
          terminal,
          fileName: basename(file),
          formatId: 'csv',
          open: () => createReadStream(file),
          ack: async () => appendFileSync(join(dir, 'acks.tsv'), `${round}\t${terminal}\t${performance.timeOrigin + performance.now()}\n`),
        }));
    },
  };
}

export function activate(ctx: PluginContext): void {
  ctx.registerBackOffice({ id: FLEET_BACKOFFICE, create: (options) => createFleetBackOffice(options) });
}
