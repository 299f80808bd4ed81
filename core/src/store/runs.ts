import type { StoreConnection } from './connection.js';
import type { KvStore, RunFinish, RunLog, RunRecord, RunResult } from './repositories.js';
import { MAX_CHAR, now, type Row } from './rows.js';

/** kv keys of the heartbeats: `contact.prices.pull` … */
const CONTACT_KEY = 'contact.';

const toRun = (r: Row): RunRecord => ({
  id: r.id as number,
  job: r.job as string,
  startedAt: r.started_at as string,
  ...(r.finished_at !== null ? { finishedAt: r.finished_at as string } : {}),
  result: r.result as RunResult,
  files: r.files as number,
  bytes: r.bytes as number,
  ...(r.error_code !== null ? { error: { code: r.error_code as string, message: (r.error_message ?? '') as string } } : {}),
  ...(r.details !== null ? { details: JSON.parse(r.details as string) as Record<string, unknown> } : {}),
});

const detailsJson = (d: Record<string, unknown> | undefined): string | null => (d === undefined ? null : JSON.stringify(d));

/** journal.db `runs`, and the heartbeats kept in `kv` under `contact.<job>`. */
export class SqliteRunLog implements RunLog {
  constructor(
    private readonly db: StoreConnection,
    private readonly kv: KvStore,
  ) {}

  start(job: string, details?: Record<string, unknown>): number {
    this.db.writable();
    const info = this.db.j('INSERT INTO runs (job, started_at, details) VALUES (?, ?, ?)').run(job, now(), detailsJson(details));
    return Number(info.lastInsertRowid);
  }

  finish(id: number, f: RunFinish): void {
    this.db.writable();
    this.db.j(
      `UPDATE runs SET finished_at = ?, result = ?, files = coalesce(?, files), bytes = coalesce(?, bytes),
         error_code = ?, error_message = ?, details = coalesce(?, details) WHERE id = ?`,
    ).run(now(), f.result, f.files ?? null, f.bytes ?? null, f.error?.code ?? null, f.error?.message ?? null, detailsJson(f.details), id);
  }

  /**
   * start + finish of a run that is already over, in ONE statement (one journal sync instead
   * of two). `times.startedAt` is when the run began (default: now, a run of no duration), so the
   * exchange log and the duration histogram show how long it took.
   */
  addFinished(job: string, f: RunFinish, times: { startedAt?: Date; finishedAt?: Date } = {}): number {
    this.db.writable();
    const finished = times.finishedAt?.toISOString() ?? now();
    const started = times.startedAt?.toISOString() ?? finished;
    const info = this.db.j(
      `INSERT INTO runs (job, started_at, finished_at, result, files, bytes, error_code, error_message, details)
       VALUES (?, ?, ?, ?, coalesce(?, 0), coalesce(?, 0), ?, ?, ?)`,
    ).run(job, started, finished, f.result, f.files ?? null, f.bytes ?? null, f.error?.code ?? null, f.error?.message ?? null, detailsJson(f.details));
    return Number(info.lastInsertRowid);
  }

  updateDetails(id: number, details: Record<string, unknown>): boolean {
    this.db.writable();
    return this.db.j("UPDATE runs SET details = ? WHERE id = ? AND result = 'running'").run(JSON.stringify(details), id).changes > 0;
  }

  get(id: number): RunRecord | undefined {
    const r = this.db.j('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return r && toRun(r);
  }

  list(opts: { limit?: number; job?: string } = {}): RunRecord[] {
    const limit = opts.limit ?? 50;
    const rows = opts.job === undefined
      ? this.db.j('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit)
      : this.db.j('SELECT * FROM runs WHERE job = ? ORDER BY id DESC LIMIT ?').all(opts.job, limit);
    return (rows as Row[]).map(toRun);
  }

  last(job: string, result?: RunResult): RunRecord | undefined {
    const r = (result === undefined
      ? this.db.j('SELECT * FROM runs WHERE job = ? ORDER BY id DESC LIMIT 1').get(job)
      : this.db.j('SELECT * FROM runs WHERE job = ? AND result = ? ORDER BY id DESC LIMIT 1').get(job, result)) as Row | undefined;
    return r && toRun(r);
  }

  /**
   * A heartbeat, committed without a sync of its own (like markSentMany): a heartbeat lost to a
   * power cut is only an older one shown.
   */
  recordContact(job: string, at: Date): void {
    this.db.writable();
    this.db.journalUnsynced(() => this.kv.set(`${CONTACT_KEY}${job}`, at.toISOString()));
  }

  lastContacts(): Record<string, string> {
    const rows = this.db.j('SELECT key, value FROM kv WHERE key > ? AND key < ? ORDER BY key').raw().all(CONTACT_KEY, CONTACT_KEY + MAX_CHAR) as [string, string][];
    return Object.fromEntries(rows.map(([k, v]) => [k.slice(CONTACT_KEY.length), v]));
  }
}
