import { putFile } from '../shared/put.js';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TransportError, type Clock, type Logger, type Transport } from '../../api/index.js';
import { dataPaths } from '../../app/paths.js';
import type { CfxConfig } from '../../config/types.js';
import { fault } from '../../faults/index.js';
import { parseStatusFile, STATUS_MAX_BYTES, statusDirOf, statusFileName } from '../../fleet/files.js';
import { detectGaps, isLostAtTill, retryDelayMs, type ServedResend } from '../../fleet/rules.js';
import type { ReceiptGap, Store } from '../../store/index.js';
import { downloadToStaging, isOverLimit } from '../shared/file-steps.js';
import { expandTemplate, remotePath } from '../shared/names.js';

/** how far back the gap detection looks at collected receipts (the status lists a week of shifts) */
export const GAP_WINDOW_DAYS = 8;

export interface StatusReadOutcome {
  terminal: string;
  /** read: a newer status stored; unchanged: not newer than the last one; missing: no file (never seen, or not yet); warning: unreadable */
  result: 'read' | 'unchanged' | 'missing' | 'warning';
  field?: string;
  message?: string;
}

export interface GapRequest {
  terminal: string;
  /** `resend-YYYYMMDD-YYYYMMDD.req`, written into the terminal's price inbox */
  request: string;
  /** `shift/receiptNo` of the gaps it asks for */
  gaps: string[];
}

export interface FleetCycleResult {
  statuses: StatusReadOutcome[];
  /** status files that could not be read (bad JSON, wrong format or terminal, too big) */
  warnings: number;
  gaps: { opened: number; closed: number; lost: number; requests: GapRequest[] };
}

export interface FleetCollectDeps {
  config: CfxConfig;
  store: Store;
  transport: Transport;
  logger: Logger;
  clock: Clock;
  signal?: AbortSignal;
}

const dayBefore = (d: Date, days: number): string => new Date(d.getTime() - days * 86_400_000).toISOString().slice(0, 10);
const compact = (date: string): string => date.replaceAll('-', '');
/** a gap that is no longer asked for */
const withoutNext = ({ nextRequestAt: _, ...g }: ReceiptGap): ReceiptGap => g;

export const resendRequestName = (from: string, to: string): string => `resend-${compact(from)}-${compact(to)}.req`;

/**
 * The office's fleet step of every collect (docs/fleet.md): each terminal's status file read, then
 * its receipt gaps found, closed, escalated and asked for (a resend request in its price inbox,
 * backing off). Shift close files are taken by the collect cycle itself (they come with the sales).
 */
export class FleetCollect {
  constructor(private readonly deps: FleetCollectDeps) {}

  async cycle(): Promise<FleetCycleResult> {
    const out: FleetCycleResult = { statuses: [], warnings: 0, gaps: { opened: 0, closed: 0, lost: 0, requests: [] } };
    // one listing per status dir (usually one for all): a file not listed is "missing" without a
    // failed download per terminal per cycle, whatever a server answers for an absent file
    const listings = new Map<string, Promise<Map<string, number>>>();
    for (const terminal of this.deps.config.terminals) {
      const dir = this.statusDir(terminal);
      if (!listings.has(dir)) listings.set(dir, this.listStatusDir(dir));
      const listed = await listings.get(dir)!;
      const s = await this.readStatus(terminal, listed);
      out.statuses.push(s);
      if (s.result === 'warning') out.warnings++;
    }
    for (const terminal of this.deps.config.terminals) {
      this.deps.signal?.throwIfAborted();
      const g = await this.heal(terminal);
      out.gaps.opened += g.opened;
      out.gaps.closed += g.closed;
      out.gaps.lost += g.lost;
      out.gaps.requests.push(...g.requests);
    }
    return out;
  }

  /** where the terminal writes it: a relative `status.dir` from the server's root, as the terminal takes it */
  statusDir(terminal: string): string {
    return statusDirOf(this.deps.config.status.dir, terminal);
  }

  /** name → listed size of the files in a status dir; a missing dir is an empty one */
  private async listStatusDir(dir: string): Promise<Map<string, number>> {
    const { transport, signal } = this.deps;
    try {
      return new Map((await transport.list(dir, signal ? { signal } : {})).filter((e) => e.type === 'file').map((e) => [e.name, e.size]));
    } catch (e) {
      if (e instanceof TransportError && e.kind === 'NotFound') return new Map();
      throw e;
    }
  }

  /**
   * Reads `<terminal>.status.json` (at most 64 KiB) and keeps it when newer than the last one.
   * `listed`: its dir's listing (name → size); without it the dir is listed here.
   */
  async readStatus(terminal: string, listed?: Map<string, number>): Promise<StatusReadOutcome> {
    const { config, store, logger, clock, signal, transport } = this.deps;
    const name = statusFileName(terminal);
    const remote = remotePath(this.statusDir(terminal), name);
    const files = listed ?? (await this.listStatusDir(this.statusDir(terminal)));
    if (!files.has(name)) return { terminal, result: 'missing' };
    const staging = dataPaths(config.dataDir).staging;
    mkdirSync(staging, { recursive: true });
    const staged = join(staging, `.${statusFileName(terminal)}`);
    const warn = (field: string, message: string): StatusReadOutcome => {
      logger.warn({ terminal, file: remote, field }, `status file of terminal ${terminal} not read: ${message}`);
      return { terminal, result: 'warning', field, message };
    };
    if (files.get(name)! > STATUS_MAX_BYTES) return warn('(file)', `larger than ${STATUS_MAX_BYTES} bytes (listed ${files.get(name)}); not read`);
    let text: string;
    try {
      await downloadToStaging(transport, remote, staged, { ...(signal ? { signal } : {}), maxBytes: STATUS_MAX_BYTES });
      text = readFileSync(staged, 'utf8');
    } catch (e) {
      // listed, then gone: the terminal is renaming a new one over it; read on the next cycle
      if (e instanceof TransportError && e.kind === 'NotFound') return { terminal, result: 'missing' };
      if (isOverLimit(e)) return warn('(file)', `larger than ${STATUS_MAX_BYTES} bytes; not read`);
      throw e;
    } finally {
      rmSync(staged, { force: true });
    }
    const parsed = parseStatusFile(text, terminal);
    if ('problem' in parsed) return warn(parsed.problem.field, parsed.problem.message);
    const s = parsed.ok;
    const prev = store.fleet.lastStatus(terminal);
    // a reinstalled terminal starts again at seq 1: a newer writtenAt still counts
    const newer = !prev || s.seq > prev.seq || Date.parse(s.writtenAt) > Date.parse(prev.writtenAt);
    if (!newer) return { terminal, result: 'unchanged' };
    store.fleet.saveStatus({ terminalId: terminal, seq: s.seq, writtenAt: s.writtenAt, readAt: clock.now().toISOString(), status: s.raw });
    return { terminal, result: 'read' };
  }

  /** one terminal's gaps: closed when the sale came, new ones recorded, lost ones escalated, due ones asked for */
  async heal(terminal: string): Promise<{ opened: number; closed: number; lost: number; requests: GapRequest[] }> {
    const { config, store, logger, clock } = this.deps;
    const now = clock.now();
    const nowIso = now.toISOString();
    const r = { opened: 0, closed: 0, lost: 0, requests: [] as GapRequest[] };
    const all = store.fleet.gaps(terminal);
    const active = all.filter((g) => g.state === 'open' || g.state === 'requested' || g.state === 'lost');
    const since = [dayBefore(now, GAP_WINDOW_DAYS), ...active.map((g) => g.fromDate)].sort()[0]!;
    const receipts = store.fleet.receipts(terminal, since);
    const have = new Set(receipts.map((x) => `${x.shift}/${x.receiptNo}`));
    const key = (g: { shift: number; receiptNo: number }) => `${g.shift}/${g.receiptNo}`;

    const still: ReceiptGap[] = [];
    for (const g of active) {
      if (have.has(key(g))) {
        store.fleet.putGap({ ...withoutNext(g), state: 'closed', endedAt: nowIso });
        r.closed++;
        logger.info({ terminal, shift: g.shift, receiptNo: g.receiptNo, requests: g.requests, was: g.state }, 'receipt gap closed: the sale arrived');
      } else still.push(g);
    }
    const known = new Set(all.map(key));
    const closes = store.fleet.shifts(terminal).filter((c) => c.localDate >= since);
    for (const d of detectGaps(receipts, closes)) {
      if (known.has(key(d))) continue;
      const g: ReceiptGap = { terminalId: terminal, ...d, state: 'open', detectedAt: nowIso, requests: 0 };
      store.fleet.putGap(g);
      still.push(g);
      r.opened++;
      logger.warn({ terminal, shift: d.shift, receiptNo: d.receiptNo, from: d.fromDate, to: d.toDate }, 'receipt gap: a receipt number is missing; the terminal is asked to resend the period');
    }

    const last = store.fleet.lastStatus(terminal);
    const resends = Array.isArray(last?.status.resends) ? (last!.status.resends as ServedResend[]) : [];
    const skewMs = last ? Date.parse(last.writtenAt) - Date.parse(last.readAt) : 0;
    const due: ReceiptGap[] = [];
    for (const g of still) {
      if (g.state === 'requested' && isLostAtTill(g, resends, skewMs)) {
        store.fleet.putGap({ ...withoutNext(g), state: 'lost' });
        r.lost++;
        logger.error({ terminal, shift: g.shift, receiptNo: g.receiptNo, from: g.fromDate, to: g.toDate }, 'receipt lost at the till: the terminal resent the period and its journal does not hold this receipt (cfx fleet ack once handled)');
        continue;
      }
      if (g.state === 'open' || (g.state === 'requested' && (!g.nextRequestAt || Date.parse(g.nextRequestAt) <= now.getTime()))) due.push(g);
    }
    const byRequest = new Map<string, ReceiptGap[]>();
    for (const g of due) {
      const name = resendRequestName(g.fromDate, g.toDate);
      byRequest.set(name, [...(byRequest.get(name) ?? []), g]);
    }
    for (const [name, gaps] of byRequest) {
      await this.writeRequest(terminal, name, gaps);
      fault('sales.collect:fleet-gap-requested');
      for (const g of gaps) {
        const requests = g.requests + 1;
        store.fleet.putGap({
          ...g,
          state: 'requested',
          requests,
          firstRequestAt: g.firstRequestAt ?? nowIso,
          lastRequestAt: nowIso,
          nextRequestAt: new Date(now.getTime() + retryDelayMs(requests, config.fleet.gapRetryMs, config.fleet.gapRetryMaxMs)).toISOString(),
          requestName: name,
        });
      }
      r.requests.push({ terminal, request: name, gaps: gaps.map(key) });
      logger.info({ terminal, request: name, gaps: gaps.map(key) }, 'resend request written into the terminal\'s inbox for receipt gaps');
    }
    return r;
  }

  /** the request into the terminal's price inbox by putFile (the terminal never sees half of it) */
  private async writeRequest(terminal: string, name: string, gaps: ReceiptGap[]): Promise<void> {
    const { config, transport, signal, clock } = this.deps;
    const dir = expandTemplate(config.prices.dir, { terminal });
    const body = JSON.stringify({ requestedAt: clock.now().toISOString(), reason: 'receipt gaps', gaps: gaps.map((g) => ({ shift: g.shift, receiptNo: g.receiptNo })) }) + '\n';
    const opts = signal ? { signal } : {};
    await transport.mkdir(dir, opts);
    await putFile(transport, dir, name, Buffer.from(body, 'utf8'), opts);
  }
}
