// The terminal's side of the fleet contract (docs/fleet.md) written by the test, in the documented
// formats: its status file (cfx.status/1) and a pushed shift close (cfx.shift/1). The terminal's
// own writer (`status.every`, `cfx shift close`) is being built on another branch; once it is
// merged, the tests using these helpers (test/src/fleet.test.ts, test/src/admin-fleet-browser.test.ts)
// switch to the real terminal here, in this one file.
import { App, silentLogger } from '@cfx/core';
import type { Deployment } from './helpers/deploy.js';

export interface Dropper {
  drop(dir: string, name: string, data: Buffer | string): Promise<void>;
}

export interface ServedResend {
  request: string;
  servedAt: string;
  from: string;
  to: string;
  sales: number;
  receipts: { shift: number; receiptNos: number[] }[];
}

export interface StatusInput {
  seq: number;
  writtenAt?: string;
  catalog?: { file: string; sha256: string; appliedAt: string; products: number } | null;
  pending?: number;
  shifts?: { shift: number; lastReceiptNo: number; closed: boolean }[];
  resends?: ServedResend[];
  lastError?: Record<string, unknown> | null;
}

/** `<terminal>.status.json` into the status dir, temp name then rename, as the terminal writes it */
export async function writeStatus(client: Dropper, statusDir: string, terminal: string, s: StatusInput): Promise<Record<string, unknown>> {
  const body = {
    format: 'cfx.status/1',
    terminal,
    seq: s.seq,
    writtenAt: s.writtenAt ?? new Date().toISOString(),
    cfxVersion: '1.4.0',
    catalog: s.catalog ?? null,
    sales: { pending: s.pending ?? 0, journaled: 0, lastSaleAt: null },
    shifts: s.shifts ?? [],
    resends: s.resends ?? [],
    lastError: s.lastError ?? null,
  };
  await client.drop(statusDir, `${terminal}.status.json`, JSON.stringify(body, null, 2));
  return body;
}

/** the status's `catalog` from the terminal's real store: the inbox log's last delivery and the product count */
export function catalogOf(d: Deployment): StatusInput['catalog'] {
  const app = App.open({ configFile: d.config, env: {}, store: 'ro', logger: silentLogger() });
  try {
    const last = app.store.inbox.last();
    return last ? { file: last.name, sha256: last.sha256, appliedAt: last.appliedAt, products: app.store.catalog.count() } : null;
  } finally {
    void app.close();
  }
}

/** the status's entry for a served resend request: every receipt number the terminal's journal holds in the period, per shift */
export function servedResend(d: Deployment, request: string): ServedResend {
  const m = /^resend-(\d{4})(\d{2})(\d{2})-(\d{4})(\d{2})(\d{2})\.req$/.exec(request)!;
  const from = `${m[1]}-${m[2]}-${m[3]}`;
  const to = `${m[4]}-${m[5]}-${m[6]}`;
  const app = App.open({ configFile: d.config, env: {}, store: 'ro', logger: silentLogger() });
  try {
    const sales = app.store.journal.salesBetween(from, to);
    const byShift = new Map<number, number[]>();
    for (const s of sales) {
      const b = JSON.parse(s.body) as { shift?: number; receiptNo?: number };
      if (b.shift === undefined || b.receiptNo === undefined) continue;
      byShift.set(b.shift, [...(byShift.get(b.shift) ?? []), b.receiptNo]);
    }
    return { request, servedAt: new Date().toISOString(), from, to, sales: sales.length, receipts: [...byShift].map(([shift, nos]) => ({ shift, receiptNos: nos.sort((a, b) => a - b) })) };
  } finally {
    void app.close();
  }
}

export interface ShiftCloseInput {
  shift: number;
  closedAt: string;
  firstReceiptNo?: number;
  lastReceiptNo: number;
  /** minor units per payment kind */
  totals: Record<string, number>;
}

/** a shift close pushed like a sale: `<terminal>_shift-<n>.shift.json` into the terminal's sales dir */
export async function pushShiftClose(client: Dropper, salesDir: string, terminal: string, s: ShiftCloseInput): Promise<string> {
  const name = `${terminal}_shift-${s.shift}.shift.json`;
  await client.drop(salesDir, name, JSON.stringify({ format: 'cfx.shift/1', terminal, ...s }));
  return name;
}
