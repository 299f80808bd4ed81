import type { StoreConnection } from './connection.js';
import type { KvStore } from './repositories.js';
import { MAX_CHAR } from './rows.js';

/** journal.db `kv`: small state (host keys, counters, forced retries, heartbeats). */
export class SqliteKv implements KvStore {
  constructor(private readonly db: StoreConnection) {}

  get(key: string): string | undefined {
    return this.db.j('SELECT value FROM kv WHERE key = ?').pluck().get(key) as string | undefined;
  }

  set(key: string, value: string): void {
    this.db.writable();
    this.db.j('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  increment(key: string): number {
    this.db.writable();
    // one statement (SQLite takes its write lock for it): a read-then-write in JS could hand
    // the same number to two processes
    const v = this.db
      .j("INSERT INTO kv (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) RETURNING value")
      .pluck()
      .get(key) as string;
    return Number(v);
  }

  delete(key: string, opts: { prefix?: boolean } = {}): number {
    this.db.writable();
    const st = opts.prefix ? this.db.j('DELETE FROM kv WHERE key >= ? AND key < ?').run(key, key + MAX_CHAR) : this.db.j('DELETE FROM kv WHERE key = ?').run(key);
    return st.changes;
  }
}
