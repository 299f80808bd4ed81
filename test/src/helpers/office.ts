// The office side of the whole-system tests: a deployment delivering to the `generic` back office,
// and what that back office must hold.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sale } from '@cfx/core';
import { freshRemoteDir, type ServersEnv } from './servers.js';

export interface Office {
  dir: string;
  config: string;
  salesDir: string;
  outDir: string;
}

/** An office deployment in a temp dir for terminals box-1 and box-2, collecting from a fresh remote dir (or `salesDir`). */
/** `extra`: more top-level config lines (prices:, status:, fleet:, admin: …) */
/** `salesFormat`: the sale files' format (csv; atol for a 1C office) */
export function officeDeployment(env: ServersEnv, opts: { logToStderr?: boolean; backoffice?: string; salesDir?: string; salesFormat?: string; extra?: string } = {}): Office {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-office-'));
  const salesDir = opts.salesDir ?? `${freshRemoteDir('collect')}/sales`;
  const config = join(dir, 'cfx.yaml');
  writeFileSync(
    config,
    `role: office
terminals: [box-1, box-2]
dataDir: ./data
server: ${env.ftpUrl}
timeout: 10s
sales:
  dir: ${salesDir}
  format: ${opts.salesFormat ?? 'csv'}
${opts.backoffice ?? 'backoffice:\n  use: generic\n  options: { outDir: ./out }'}
${opts.extra ?? ''}log: { level: info${opts.logToStderr ? '' : ', file: ./cfx.log'} }
`,
  );
  return { dir, config, salesDir, outDir: join(dir, 'out') };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** the rows the generic back office must write for a sale */
export function expectedRows(s: Sale): string[] {
  const money = (v: number) => `${v < 0 ? '-' : ''}${Math.trunc(Math.abs(v) / 100)}.${pad(Math.abs(v) % 100, 2)}`;
  const qty = (v: number) => `${Math.trunc(v / 1000)}.${pad(v % 1000, 3)}`;
  return s.lines.map((l) =>
    [s.terminalId, s.saleId, s.time, s.kind, s.shift, s.receiptNo, s.cashier, l.code, l.barcode ?? '', l.name ?? '', qty(l.qty), money(l.price), money(l.discount ?? 0), money(l.amount), money(s.total)].join(';'),
  );
}
export const HEADER = 'terminal;saleId;time;kind;shift;receiptNo;cashier;code;barcode;name;qty;price;discount;amount;saleTotal';

/** outDir: file name → content (temp files excluded); no outDir yet (nothing delivered) is empty */
export function outFiles(o: Office): Map<string, string> {
  if (!existsSync(o.outDir)) return new Map();
  return new Map(
    readdirSync(o.outDir)
      .filter((n) => !n.startsWith('.'))
      .sort()
      .map((n) => [n, readFileSync(join(o.outDir, n), 'utf8')]),
  );
}

/** data rows of a generic CSV (BOM and header checked) */
export function rowsOf(content: string): string[] {
  assert.ok(content.startsWith('\ufeff'), 'UTF-8 BOM');
  const lines = content.slice(1).split('\r\n');
  assert.equal(lines.pop(), '', 'CRLF after the last row');
  assert.equal(lines.shift(), HEADER);
  return lines;
}
