// Deployments of the NATS whole-system tests: a 1C office that publishes goods files, a generic
// office that collects sales, and running terminals — all on nats:// buckets.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTerminal, type Terminal } from '@cfx/core';
import { runCli } from './cli.js';
import { rowsOf, outFiles, type Office } from './office.js';

export const GOODS = readFileSync(new URL('../../../plugins/backoffice-1c/fixtures/atol/goods-full.txt', import.meta.url));

/** 1C's goods file with the adult ticket (code 1, 350,00 in the fixture) at another price */
export function goodsAt(price: string): Buffer {
  const text = GOODS.toString('latin1');
  assert.ok(text.includes(';350,00;'), 'the fixture holds the adult ticket at 350,00');
  return Buffer.from(text.replace(';350,00;', `;${price};`), 'latin1');
}

const dirs: string[] = [];
export function cleanupDeployments(): void {
  // CFX_TEST_KEEP=1 keeps the deployments (their cfx.log) to look at after a failure
  if (process.env.CFX_TEST_KEEP) return void process.stderr.write(`kept: ${dirs.join(' ')}\n`);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

function yamlOptions(o: Record<string, unknown>): string {
  return JSON.stringify(o);
}

export interface NatsDeploy {
  dir: string;
  config: string;
}

/** a deployment dir (removed by cleanupDeployments) with its cfx.yaml */
export function deploy(label: string, yaml: string): NatsDeploy {
  const dir = mkdtempSync(join(tmpdir(), `cfx-nats-${label}-`));
  dirs.push(dir);
  const config = join(dir, 'cfx.yaml');
  writeFileSync(config, yaml);
  return { dir, config };
}

/** server: line + serverOptions for a nats URL with the bucket */
function serverLines(url: string, bucket: string, options: Record<string, unknown>): string {
  const u = new URL(url);
  u.pathname = `/${bucket}`;
  return `server: ${u.href}\nserverOptions: ${yamlOptions(options)}\n`;
}

/** what both offices' cfx.yaml start with: role, terminals box-1 and box-2, the server */
function officeHead(url: string, bucket: string, options: Record<string, unknown>): string {
  return `role: office\nterminals: [box-1, box-2]\ndataDir: ./data\n${serverLines(url, bucket, options)}timeout: 5s\n`;
}

/** an office on the bucket: the 1c back office publishing goods files to box-1/box-2 (exchange dir ./1c/<terminal>) */
export function publishOffice(url: string, bucket: string, options: Record<string, unknown> = {}): NatsDeploy & { exportGoods(terminal: string, goods: Buffer): void } {
  const { dir, config } = deploy(
    'office1c',
    `${officeHead(url, bucket, options)}prices: { dir: "/shop/{terminal}/inbox", format: atol }
sales: { dir: "/shop/{terminal}/sales-1c", format: atol }
backoffice:
  use: 1c
  options: { exchangeDir: "./1c/{terminal}", goodsFile: atolimp.txt, goodsFlag: atolimp.flg, reportFile: atolexp.txt, databaseId: "7" }
log: { level: info, file: ./cfx.log }
`,
  );
  return {
    dir,
    config,
    exportGoods(terminal, goods) {
      const x = join(dir, '1c', terminal);
      mkdirSync(x, { recursive: true });
      writeFileSync(join(x, 'atolimp.txt'), goods);
      writeFileSync(join(x, 'atolimp.flg'), '');
    },
  };
}

/** an office on the bucket collecting every terminal's sales dir into the generic back office (./out) */
export function collectOffice(url: string, bucket: string, options: Record<string, unknown> = {}): Office {
  const { dir, config } = deploy(
    'office',
    `${officeHead(url, bucket, options)}sales: { dir: "/shop/{terminal}/sales", format: csv }
backoffice:
  use: generic
  options: { outDir: ./out }
log: { level: info, file: ./cfx.log }
`,
  );
  return { dir, config, salesDir: '/shop/{terminal}/sales', outDir: join(dir, 'out') };
}

/** a running terminal on the bucket: goods files (atol) from /shop/<id>/inbox, sales (csv) to /shop/<id>/sales */
export async function runningTerminal(id: string, url: string, bucket: string, options: Record<string, unknown> = {}, poll = '1s'): Promise<Terminal & { dir: string }> {
  const { dir, config } = deploy(
    id,
    `role: terminal
terminal: ${id}
dataDir: ./data
${serverLines(url, bucket, options)}timeout: 3s
prices: { dir: "/shop/{terminal}/inbox", format: atol, poll: ${poll} }
sales: { dir: "/shop/{terminal}/sales", format: csv }
log: { level: info, file: ./cfx.log }
`,
  );
  const t = openTerminal({ config });
  await t.start();
  return Object.assign(t, { dir });
}

/** `cfx collect --json` of the office until `want` sales are stored in all (a deadline, not a sleep) */
export async function collectUntil(o: NatsDeploy, want: number, ms = 30_000): Promise<{ stored: number; duplicates: number; runs: number }> {
  const deadline = Date.now() + ms;
  let stored = 0;
  let duplicates = 0;
  let runs = 0;
  for (;;) {
    const r = await runCli(['collect', '--json', '-c', o.config], { cwd: o.dir });
    runs++;
    if (r.code === 0) {
      const c = r.json().counts;
      stored += c.stored;
      duplicates += c.duplicates;
    }
    if (stored >= want) return { stored, duplicates, runs };
    if (Date.now() > deadline) throw new Error(`collect: ${stored} of ${want} sales stored after ${ms} ms (last exit ${r.code}: ${r.err}${r.out.slice(0, 400)})`);
  }
}

/** the sale ids the generic back office holds, one per delivered sale line 1 (sorted) */
export function deliveredSaleIds(o: Office): string[] {
  const ids: string[] = [];
  for (const content of outFiles(o).values()) {
    const seen = new Set<string>();
    for (const row of rowsOf(content)) {
      const [terminal, saleId] = row.split(';');
      const key = `${terminal}/${saleId}`;
      // a sale has several lines: count each sale once per file
      if (!seen.has(key)) ids.push(key);
      seen.add(key);
    }
  }
  return ids.sort();
}
