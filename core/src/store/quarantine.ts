import type { StoreConnection } from './connection.js';
import type { NewQuarantine, QuarantineEntry, QuarantineLog, QuarantineState } from './repositories.js';
import { now, type Row } from './rows.js';

const toQuarantine = (r: Row): QuarantineEntry => ({
  id: r.id as number,
  job: r.job as string,
  fileName: r.file_name as string,
  localPath: r.local_path as string,
  ...(r.remote_path !== null ? { remotePath: r.remote_path as string } : {}),
  reason: JSON.parse(r.reason as string) as Record<string, unknown>,
  createdAt: r.created_at as string,
  state: r.state as QuarantineState,
});

/** journal.db `quarantine`: the files set aside as bad input (the files themselves are under dataDir). */
export class SqliteQuarantineLog implements QuarantineLog {
  constructor(private readonly db: StoreConnection) {}

  add(q: NewQuarantine): number {
    this.db.writable();
    const info = this.db.j('INSERT INTO quarantine (job, file_name, local_path, remote_path, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      q.job, q.fileName, q.localPath, q.remotePath ?? null, JSON.stringify(q.reason), now(),
    );
    return Number(info.lastInsertRowid);
  }

  list(opts: { state?: QuarantineState } = {}): QuarantineEntry[] {
    const rows = opts.state === undefined
      ? this.db.j('SELECT * FROM quarantine ORDER BY id DESC').all()
      : this.db.j('SELECT * FROM quarantine WHERE state = ? ORDER BY id DESC').all(opts.state);
    return (rows as Row[]).map(toQuarantine);
  }

  setState(id: number, state: QuarantineState): boolean {
    this.db.writable();
    return this.db.j('UPDATE quarantine SET state = ? WHERE id = ?').run(state, id).changes > 0;
  }
}
