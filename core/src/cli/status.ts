import { existsSync } from 'node:fs';
import type { App } from '../app/app.js';
import { redactUrl } from '../config/index.js';
import { Store, type InboxEntry, type RunRecord } from '../store/index.js';
import { join } from 'node:path';

export interface StatusReport {
  role: string;
  terminal?: string;
  terminals?: string[];
  config?: string;
  server: string;
  dataDir: string;
  prices: { dir: string; format: string; pollMs: number };
  store: 'missing' | 'ok';
  catalog?: { products: number; lastFile?: InboxEntry };
  sales?: { pending: number };
  /** office: sales collected from the terminals, and how many still wait for the back office */
  collected?: { collected: number; undelivered: number; assignedBatches: number };
  quarantine?: { count: number; files: unknown[] };
  lastRuns?: Record<string, { last: RunRecord; lastOk: RunRecord | null }>;
  plugins: { id: string; state: string; contributes: unknown }[];
}

/** Everything from the store and the manifests: status never connects anywhere or imports plugin code. */
export function collectStatus(app: App): StatusReport {
  const c = app.config;
  const report: StatusReport = {
    role: c.role,
    ...(c.role === 'terminal' ? { terminal: c.terminal } : { terminals: c.terminals }),
    ...(c.file ? { config: c.file } : {}),
    server: redactUrl(c.server),
    dataDir: c.dataDir,
    prices: { dir: c.prices.dir, format: c.prices.format, pollMs: c.prices.pollMs },
    store: 'missing',
    plugins: app.host.list().map((p) => ({ id: p.id, state: p.state, contributes: p.contributes })),
  };
  if (!existsSync(join(c.dataDir, 'journal.db')) || !existsSync(join(c.dataDir, 'catalog.db'))) return report;
  const s = Store.open(c.dataDir, { readonly: true });
  try {
    const q = s.listQuarantine({ state: 'quarantined' });
    report.store = 'ok';
    report.catalog = { products: s.catalogCount(), ...(s.lastInbox() ? { lastFile: s.lastInbox() } : {}) };
    if (c.role === 'terminal') report.sales = { pending: s.countPending() };
    else report.collected = s.collectedCounts();
    report.quarantine = { count: q.length, files: q.slice(0, 20) };
    const jobs = ['prices.pull', 'sales.push', 'sales.resend', 'sales.collect', 'office.publish'];
    report.lastRuns = {};
    for (const j of jobs) {
      const last = s.lastRun(j);
      if (last) report.lastRuns[j] = { last, lastOk: s.lastRun(j, 'ok') ?? null };
    }
  } finally {
    s.close();
  }
  return report;
}

export function renderStatus(st: StatusReport): string {
  const lines = [
    `role       ${st.role}${st.terminal ? ` (terminal ${st.terminal})` : ''}${st.terminals ? ` (terminals: ${st.terminals.join(', ') || 'none'})` : ''}`,
    `server     ${st.server}`,
    `prices     ${st.prices.format} from ${st.prices.dir}, every ${st.prices.pollMs} ms`,
    `data       ${st.dataDir}${st.store === 'missing' ? ' (no store yet: nothing exchanged)' : ''}`,
  ];
  if (st.catalog) {
    const lf = st.catalog.lastFile;
    lines.push(`catalog    ${st.catalog.products} products${lf ? `, last file ${lf.name} at ${lf.appliedAt}` : ''}`);
  }
  if (st.sales) lines.push(`sales      ${st.sales.pending} pending upload`);
  if (st.collected) lines.push(`collected  ${st.collected.collected} sale(s), ${st.collected.undelivered} not yet delivered to the back office`);
  if (st.quarantine) {
    lines.push(`quarantine ${st.quarantine.count} file(s)${st.quarantine.count ? ' — see cfx status --json, dataDir/quarantine/*.reason.json' : ''}`);
  }
  for (const [job, { last, lastOk }] of Object.entries(st.lastRuns ?? {})) {
    lines.push(`${job.padEnd(10)} last ${last.result} at ${last.finishedAt ?? last.startedAt}${last.error ? ` (${last.error.message})` : ''}${lastOk && lastOk.id !== last.id ? `; last ok ${lastOk.finishedAt}` : ''}`);
  }
  lines.push(`plugins    ${st.plugins.map((p) => `${p.id} (${p.state})`).join(', ')}`);
  return lines.join('\n');
}
