import { putFile } from '../shared/put.js';
import { readFileSync } from 'node:fs';
import { errorMessage, type Clock, type Logger, type Transport } from '../../api/index.js';
import type { CfxConfig } from '../../config/types.js';
import { localDate } from '../../app/paths.js';
import type { Store, RunRecord, ServedResend, ShiftSummary } from '../../store/index.js';
import { STATUS_FORMAT, STATUS_MAX_BYTES, statusDirOf, statusFileName } from '../../fleet/files.js';
import { remotePath } from '../shared/names.js';

// the format id and the size cap are the office reader's (fleet/files.ts): one contract
export { STATUS_FORMAT, STATUS_MAX_BYTES };
/** served resend requests listed */
export const STATUS_RESENDS = 20;
/** shifts of this many days are listed */
export const STATUS_SHIFT_DAYS = 7;

/** kv keys (the store's own space): the write counter, the last write, the last failed write */
export const STATUS_KV = { seq: 'status.seq', written: 'status.written', error: 'status.error' } as const;

const CFX_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface StatusDoc {
  format: typeof STATUS_FORMAT;
  terminal: string;
  seq: number;
  writtenAt: string;
  cfxVersion: string;
  catalog: { file: string; sha256: string; appliedAt: string; products: number } | null;
  sales: { pending: number; journaled: number; lastSaleAt: string | null };
  shifts: ShiftSummary[];
  resends: ServedResend[];
  lastError: { at: string; job: string; code: string; message: string } | null;
}

/** what `cfx status` shows of the status file: its last write and the last failed one (cleared by a success) */
export interface StatusWriteState {
  written?: { at: string; seq: number; path: string; bytes: number };
  error?: { at: string; message: string };
}

export function statusWriteState(store: Store): StatusWriteState {
  const parse = (k: string) => {
    const v = store.kv.get(k);
    return v === undefined ? undefined : JSON.parse(v);
  };
  const written = parse(STATUS_KV.written);
  const error = parse(STATUS_KV.error);
  return { ...(written ? { written } : {}), ...(error ? { error } : {}) };
}

/**
 * The last failed run of any job, unless a later run of that job succeeded. Poll loops record only
 * runs that did something, so a success is also a heartbeat (a contact with the server) after it.
 */
export function lastErrorOf(runs: readonly RunRecord[], contacts: Record<string, string>): StatusDoc['lastError'] {
  // the status file's own failed write is not news in the next one that succeeds
  const seen = new Set<string>(['status.publish']);
  for (const r of runs) {
    if (r.result === 'running' || seen.has(r.job)) continue;
    seen.add(r.job);
    if (r.result !== 'failed') continue;
    const at = r.finishedAt ?? r.startedAt;
    const contact = contacts[r.job];
    if (contact !== undefined && contact > at) continue;
    return { at, job: r.job, code: r.error?.code ?? 'CFX_E_JOB_FAILED', message: r.error?.message ?? 'failed' };
  }
  return null;
}

/** The status document from the store, as of `now` (docs/fleet.md: `cfx.status/1`). */
export function buildStatus(store: Store, terminal: string, seq: number, now: Date): StatusDoc {
  const last = store.inbox.last();
  const summary = store.shifts.salesSummary();
  const since = localDate(new Date(now.getTime() - STATUS_SHIFT_DAYS * 86_400_000));
  return {
    format: STATUS_FORMAT,
    terminal,
    seq,
    writtenAt: now.toISOString(),
    cfxVersion: CFX_VERSION,
    catalog: last ? { file: last.name, sha256: last.sha256, appliedAt: last.appliedAt, products: store.catalog.count() } : null,
    sales: { pending: store.journal.countPending() + store.shifts.countPending(), journaled: summary.journaled, lastSaleAt: summary.lastSaleAt ?? null },
    shifts: store.shifts.lastReceipts(terminal, since),
    resends: store.shifts.recentServed(STATUS_RESENDS),
    lastError: lastErrorOf(store.runs.list({ limit: 500 }), store.runs.lastContacts()),
  };
}

/**
 * The document as the bytes written, at most STATUS_MAX_BYTES: when too big, the oldest served
 * resends go first, then the oldest shifts (a till with thousands of receipts a day in a resent
 * week would otherwise make a file the office refuses as a whole).
 */
export function statusBytes(doc: StatusDoc): Uint8Array {
  const d = { ...doc, resends: [...doc.resends], shifts: [...doc.shifts] };
  for (;;) {
    const bytes = Buffer.from(JSON.stringify(d) + '\n');
    if (bytes.length <= STATUS_MAX_BYTES) return bytes;
    if (d.resends.length > 0) d.resends.pop();
    else if (d.shifts.length > 0) d.shifts.shift();
    else if (d.lastError && d.lastError.message.length > 200) d.lastError = { ...d.lastError, message: d.lastError.message.slice(0, 200) };
    else return bytes; // cannot happen: what is left is a few hundred bytes
  }
}

export interface StatusPublisherDeps {
  config: CfxConfig;
  store: Store;
  transport: Transport;
  clock: Clock;
  logger: Logger;
}

/**
 * Writes the terminal's status file: `<terminal>.status.json` in `status.dir`, under a temp name
 * renamed over the old one, so the office never reads half a file. Every write takes the next
 * `seq` (kept in kv); the last write and the last failure are kept in kv for `cfx status`.
 */
export class StatusPublisher {
  private dirReady = false;

  constructor(private readonly deps: StatusPublisherDeps) {}

  /** `status.dir` expanded, a relative one from the server's root: where the office reads it (statusDirOf) */
  get dir(): string {
    return statusDirOf(this.deps.config.status.dir, this.deps.config.terminal!);
  }

  get name(): string {
    return statusFileName(this.deps.config.terminal!);
  }

  async publish(signal?: AbortSignal): Promise<{ path: string; seq: number; bytes: number }> {
    const { store, transport, clock, config } = this.deps;
    // taken before the write: a failed or crashed write never makes a later file repeat a number,
    // and in one statement: a `cfx job run status.publish` beside `cfx run` never repeats one either
    const seq = store.kv.increment(STATUS_KV.seq);
    const now = clock.now();
    const bytes = statusBytes(buildStatus(store, config.terminal!, seq, now));
    const path = remotePath(this.dir, this.name);
    try {
      if (!this.dirReady) {
        await transport.mkdir(this.dir, { signal });
        this.dirReady = true;
      }
      await putFile(transport, this.dir, this.name, bytes, signal ? { signal } : {});
    } catch (e) {
      this.dirReady = false;
      store.kv.set(STATUS_KV.error, JSON.stringify({ at: clock.now().toISOString(), message: errorMessage(e) }));
      throw e;
    }
    store.kv.set(STATUS_KV.written, JSON.stringify({ at: now.toISOString(), seq, path, bytes: bytes.length }));
    store.kv.delete(STATUS_KV.error);
    return { path, seq, bytes: bytes.length };
  }
}
