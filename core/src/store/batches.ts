import type { StoreConnection } from './connection.js';
import type { BatchState, CollectedSale, DeliveryBatch, DeliveryBatches, NewBatchesOptions } from './repositories.js';
import { checkDate, now, toCollected, type Row } from './rows.js';

const toBatch = (r: Row): DeliveryBatch => ({
  id: r.id as string,
  seq: r.seq as number,
  terminalId: r.terminal_id as string,
  backoffice: r.backoffice as string,
  kind: r.kind as 'new' | 'redeliver',
  state: r.state as BatchState,
  sales: r.sales as number,
  ...(r.from_date !== null ? { fromDate: r.from_date as string } : {}),
  ...(r.to_date !== null ? { toDate: r.to_date as string } : {}),
  createdAt: r.created_at as string,
  ...(r.delivered_at !== null ? { deliveredAt: r.delivered_at as string } : {}),
  attempts: r.attempts as number,
  ...(r.last_error !== null ? { lastError: r.last_error as string } : {}),
});

/** `20250315T101500Z-000042`: sorts by creation, unique per store, safe in a file name */
function batchIdOf(seq: number, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${String(seq).padStart(6, '0')}`;
}

/**
 * journal.db `delivery_batches` and `delivery_items`. Assigning sales to a batch also writes
 * `collected.batch_id` (and delivering one `collected.delivered_at`): those transactions span
 * tables, so they stay here, in one repository, rather than between this and the collected sales.
 */
export class SqliteDeliveryBatches implements DeliveryBatches {
  constructor(private readonly db: StoreConnection) {}

  /**
   * In one transaction: a new batch per terminal (several when a terminal has more than
   * `maxSales` waiting) with every collected sale not yet assigned to a batch. Returns them in order.
   */
  createNew(backoffice: string, opts: NewBatchesOptions = {}): DeliveryBatch[] {
    this.db.writable();
    const max = opts.maxSales ?? 5000;
    const except = new Set(opts.exceptTerminals ?? []);
    const run = this.db.journal.transaction((): DeliveryBatch[] => {
      const created: DeliveryBatch[] = [];
      const terminals = this.db.j('SELECT DISTINCT terminal_id FROM collected WHERE batch_id IS NULL ORDER BY terminal_id').pluck().all() as string[];
      for (const terminal of terminals) {
        if (except.has(terminal)) continue;
        for (;;) {
          const ids = this.db.j('SELECT id FROM collected WHERE terminal_id = ? AND batch_id IS NULL ORDER BY local_date, time, sale_id LIMIT ?').pluck().all(terminal, max) as number[];
          if (ids.length === 0) break;
          const batch = this.insert(terminal, backoffice, 'new', ids);
          for (const id of ids) this.db.j('UPDATE collected SET batch_id = ? WHERE id = ?').run(batch.id, id);
          created.push(batch);
          if (ids.length < max) break;
        }
      }
      return created;
    });
    return run.immediate();
  }

  /**
   * An explicit re-delivery (`cfx collect --redeliver`): in one transaction, a new batch per terminal
   * with every collected sale of the local dates [from, to] that was already delivered.
   */
  createRedelivery(backoffice: string, from: string, to: string): DeliveryBatch[] {
    this.db.writable();
    checkDate(from, 'from');
    checkDate(to, 'to');
    const run = this.db.journal.transaction((): DeliveryBatch[] => {
      const created: DeliveryBatch[] = [];
      const rows = this.db.j(
        `SELECT c.id, c.terminal_id FROM collected c JOIN delivery_batches b ON b.id = c.batch_id
         WHERE b.state = 'delivered' AND c.local_date BETWEEN ? AND ? ORDER BY c.terminal_id, c.local_date, c.time, c.sale_id`,
      ).all(from, to) as Row[];
      const byTerminal = new Map<string, number[]>();
      for (const r of rows) {
        const t = r.terminal_id as string;
        if (!byTerminal.has(t)) byTerminal.set(t, []);
        byTerminal.get(t)!.push(r.id as number);
      }
      for (const [terminal, ids] of byTerminal) created.push(this.insert(terminal, backoffice, 'redeliver', ids, from, to));
      return created;
    });
    return run.immediate();
  }

  private insert(terminal: string, backoffice: string, kind: 'new' | 'redeliver', ids: number[], from?: string, to?: string): DeliveryBatch {
    const seq = ((this.db.j('SELECT max(seq) FROM delivery_batches').pluck().get() as number | null) ?? 0) + 1;
    const at = new Date();
    const id = batchIdOf(seq, at);
    this.db.j('INSERT INTO delivery_batches (id, seq, terminal_id, backoffice, kind, sales, from_date, to_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      id, seq, terminal, backoffice, kind, ids.length, from ?? null, to ?? null, at.toISOString(),
    );
    for (const cid of ids) this.db.j('INSERT INTO delivery_items (batch_id, collected_id) VALUES (?, ?)').run(id, cid);
    return toBatch(this.db.j('SELECT * FROM delivery_batches WHERE id = ?').get(id) as Row);
  }

  assigned(): DeliveryBatch[] {
    return (this.db.j("SELECT * FROM delivery_batches WHERE state = 'assigned' ORDER BY seq").all() as Row[]).map(toBatch);
  }

  get(id: string): DeliveryBatch | undefined {
    const r = this.db.j('SELECT * FROM delivery_batches WHERE id = ?').get(id) as Row | undefined;
    return r && toBatch(r);
  }

  list(opts: { limit?: number } = {}): DeliveryBatch[] {
    return (this.db.j('SELECT * FROM delivery_batches ORDER BY seq DESC LIMIT ?').all(opts.limit ?? 50) as Row[]).map(toBatch);
  }

  sales(batchId: string): CollectedSale[] {
    return (this.db.j(
      `SELECT c.* FROM delivery_items i JOIN collected c ON c.id = i.collected_id WHERE i.batch_id = ?
       ORDER BY c.local_date, c.time, c.sale_id`,
    ).all(batchId) as Row[]).map(toCollected);
  }

  markDelivered(batchId: string): boolean {
    this.db.writable();
    const run = this.db.journal.transaction((): boolean => {
      const at = now();
      const changed = this.db.j("UPDATE delivery_batches SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND state = 'assigned'").run(at, batchId).changes > 0;
      if (changed) this.db.j('UPDATE collected SET delivered_at = ? WHERE batch_id = ? AND delivered_at IS NULL').run(at, batchId);
      return changed;
    });
    return run.immediate();
  }

  markFailed(batchId: string, error: string): boolean {
    this.db.writable();
    return this.db.j("UPDATE delivery_batches SET attempts = attempts + 1, last_error = ? WHERE id = ? AND state = 'assigned'").run(error, batchId).changes > 0;
  }
}
