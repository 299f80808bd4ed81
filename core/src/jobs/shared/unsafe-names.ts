import type { Logger } from '../../api/index.js';
import type { KvStore } from '../../store/index.js';
import { unsafeNameReason } from './names.js';

/*
 * Names in a listing that are not plain names (names.ts, unsafeNameReason) are skipped by every job
 * that lists the server. A person must hear about them — once per name, not once per poll — and
 * `cfx status` / the admin page must count them. What was warned about is kept in the store (kv
 * `wire.unsafeNames.<job>`), so one-shot commands remember it too, per listed dir: the unsafe names
 * of that dir's latest listing (at most MAX_REMEMBERED_UNSAFE of them) and their count.
 */

/** names remembered, and so warned about once each, per listed dir; beyond it they are counted, and one line says how many */
export const MAX_REMEMBERED_UNSAFE = 1000;
/** names per job that `cfx status` and the admin page show */
export const UNSAFE_NAMES_SHOWN = 20;

const kvKey = (job: string) => `wire.unsafeNames.${job}`;

interface DirRecord {
  /** unsafe names in the latest listing of the dir */
  count: number;
  /** the first MAX_REMEMBERED_UNSAFE of them */
  names: string[];
  /** when the dir first listed one (ISO) */
  since: string;
}
type JobRecord = Record<string, DirRecord>;

export interface UnsafeNamesReport {
  /** over every job and dir */
  count: number;
  jobs: Record<string, { count: number; names: { dir: string; name: string }[] }>;
}

export class UnsafeNames {
  private record: JobRecord | undefined;

  constructor(
    private readonly kv: KvStore,
    private readonly logger: Logger,
    private readonly job: string,
  ) {}

  /** The plain names of a listing of `dir`; the others are skipped, and warned about the first time they are listed. */
  filter<T extends { name: string }>(dir: string, entries: readonly T[]): T[] {
    const safe: T[] = [];
    const unsafe: string[] = [];
    for (const e of entries) {
      if (unsafeNameReason(e.name) === undefined) safe.push(e);
      else unsafe.push(e.name);
    }
    const rec = (this.record ??= this.load());
    const prev = rec[dir];
    if (unsafe.length === 0 && !prev) return safe;
    const known = new Set(prev?.names);
    const names = unsafe.slice(0, MAX_REMEMBERED_UNSAFE);
    for (const name of names) {
      if (known.has(name)) continue;
      // pino writes the name JSON-escaped: a control character cannot forge a log line
      this.logger.warn({ job: this.job, dir, name, reason: unsafeNameReason(name) }, 'a name in the server listing is not a plain name: skipped (never read, moved or deleted)');
    }
    if (unsafe.length > names.length && unsafe.length !== prev?.count) {
      this.logger.warn({ job: this.job, dir, count: unsafe.length }, `${unsafe.length - names.length} more names in the server listing are not plain names: skipped, not listed one by one`);
    }
    if (unsafe.length === 0) delete rec[dir];
    else if (!prev || prev.count !== unsafe.length || prev.names.length !== names.length || prev.names.some((n, i) => n !== names[i])) {
      rec[dir] = { count: unsafe.length, names, since: prev?.since ?? new Date().toISOString() };
    } else return safe;
    this.save(rec);
    return safe;
  }

  private load(): JobRecord {
    const v = this.kv.get(kvKey(this.job));
    return v === undefined ? {} : (JSON.parse(v) as JobRecord);
  }

  private save(rec: JobRecord): void {
    if (Object.keys(rec).length) this.kv.set(kvKey(this.job), JSON.stringify(rec));
    else this.kv.delete(kvKey(this.job));
  }
}

/** What `cfx status` and the admin page show: the unsafe names of the jobs' latest listings, undefined when there are none. */
export function unsafeNamesReport(kv: Pick<KvStore, 'get'>, jobs: readonly string[]): UnsafeNamesReport | undefined {
  const report: UnsafeNamesReport = { count: 0, jobs: {} };
  for (const job of jobs) {
    const v = kv.get(kvKey(job));
    if (v === undefined) continue;
    const rec = JSON.parse(v) as JobRecord;
    const dirs = Object.entries(rec);
    const count = dirs.reduce((s, [, d]) => s + d.count, 0);
    if (count === 0) continue;
    const names = dirs.flatMap(([dir, d]) => d.names.map((name) => ({ dir, name }))).slice(0, UNSAFE_NAMES_SHOWN);
    report.jobs[job] = { count, names };
    report.count += count;
  }
  return report.count ? report : undefined;
}
