import { putFile } from '../shared/put.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, type Logger, type Transport } from '../../api/index.js';
import { dataPaths } from '../../app/paths.js';
import type { CfxConfig } from '../../config/types.js';
import { fault } from '../../faults/index.js';
import { shiftFileName } from '../../sales/shift-input.js';
import type { ShiftCloseRecord, ShiftJournal } from '../../store/index.js';
import { remotePath, safeLocalName } from '../shared/names.js';

export interface ShiftPushDeps {
  config: CfxConfig;
  shifts: ShiftJournal;
  /** the sales push's connection: shift closes go the same way as sales, after them */
  transport: Transport;
  /** the sales dir (expanded) */
  dir: string;
  logger: Logger;
  signal?: AbortSignal;
}

export interface ShiftPushResult {
  sent: number;
  bytes: number;
  names: string[];
}

type ShiftJob = 'sales.push' | 'sales.resend';

/**
 * Shift closes (docs/fleet.md, `cfx.shift/1`) pushed like a sale: the canonical body as
 * `<terminal>_shift-<shift>.shift.json` in the sales dir, the local copy under
 * archive/sales/<local date>/ first, uploaded under a temp name and renamed, marked sent after the
 * rename. A retry or a resend overwrites the same name, so the office never sees two files of a close.
 * Kept apart from sales-push.ts: a close or two a day needs none of the sales' lanes and batching.
 */
async function pushCloses(deps: ShiftPushDeps, job: ShiftJob, closes: readonly ShiftCloseRecord[]): Promise<ShiftPushResult> {
  const { transport: t, dir, shifts, signal } = deps;
  const result: ShiftPushResult = { sent: 0, bytes: 0, names: [] };
  if (closes.length === 0) return result;
  const archive = dataPaths(deps.config.dataDir).archiveSales;
  await t.mkdir(dir, { signal });
  for (const c of closes) {
    const name = shiftFileName(c.terminalId, c.shift);
    const bytes = Buffer.from(c.body + '\n');
    const day = join(archive, c.localDate);
    mkdirSync(day, { recursive: true });
    writeFileSync(join(day, safeLocalName(name)), bytes);
    fault(`${job}:shift-local-copy`);
    try {
      await putFile(t, dir, name, bytes, { ...(signal ? { signal } : {}), afterTemp: () => fault(`${job}:shift-uploaded-temp`) });
      fault(`${job}:shift-renamed`);
    } catch (e) {
      shifts.markFailed(c.terminalId, c.shift, errorMessage(e));
      throw e;
    }
    shifts.markSent(c.terminalId, c.shift, name);
    fault(`${job}:shift-recorded`);
    result.sent++;
    result.bytes += bytes.length;
    result.names.push(name);
  }
  deps.logger.info({ job, sent: result.sent }, 'shift closes pushed');
  return result;
}

/** every shift close not yet on the server (sales.push, after the sales) */
export function pushPendingShifts(deps: ShiftPushDeps): Promise<ShiftPushResult> {
  return pushCloses(deps, 'sales.push', deps.shifts.pending().filter((c) => c.terminalId === deps.config.terminal));
}

/** the shift closes of a period (closedAt's local date, inclusive) again, under the same names (sales.resend) */
export function resendShifts(deps: ShiftPushDeps, from: string, to: string): Promise<ShiftPushResult> {
  return pushCloses(deps, 'sales.resend', deps.shifts.between(from, to).filter((c) => c.terminalId === deps.config.terminal));
}
