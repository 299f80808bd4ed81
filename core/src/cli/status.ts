import { skippedMessage } from '../jobs/prices-pull/messages.js';
import { existsSync } from 'node:fs';
import type { App } from '../app/app.js';
import { redactUrl } from '../config/index.js';
import { currentCatalog, Store, type InboxEntry, type RunError, type RunRecord } from '../store/index.js';
import { join } from 'node:path';
import { unsafeNamesReport, type UnsafeNamesReport } from '../jobs/shared/unsafe-names.js';
import { statusWriteState, type StatusWriteState } from '../jobs/status-publish/status.js';

export interface StatusReport {
  role: string;
  terminal?: string;
  terminals?: string[];
  config?: string;
  server: string;
  dataDir: string;
  prices: { dir: string; format: string; pollMs: number };
  store: 'missing' | 'ok';
  catalog?: {
    products: number;
    lastFile?: InboxEntry;
    /** recent price files applied with skipped input or no records at all ("no silent success") */
    warnings?: InboxWarning[];
  };
  sales?: { pending: number; shiftClosesPending: number };
  /** terminal: the status file for the office (docs/fleet.md): its last write, and the last failed write when no write succeeded since */
  statusFile?: StatusWriteState & { dir: string };
  /** office: sales collected from the terminals, and how many still wait for the back office */
  collected?: { collected: number; undelivered: number; assignedBatches: number };
  quarantine?: { count: number; files: unknown[] };
  /** names in the server's latest listings that are not plain names (`x/../y`, `..`, a control character): skipped, per job; absent when none */
  unsafeNames?: UnsafeNamesReport;
  lastRuns?: Record<string, { last: RunRecord; lastOk: RunRecord | null }>;
  /** the heartbeat of each job that talks to the server: when it last reached it (ISO), written at most once a minute while nothing changes */
  lastContact?: Record<string, string>;
  /** whether the server answered the last time a job tried, from the runs and the heartbeats */
  reachability?: Reachability;
  plugins: { id: string; state: string; contributes: unknown }[];
}

/** the jobs that talk to the server, per role: their runs and heartbeats tell whether it is reachable */
export const NETWORK_JOBS: Record<string, readonly string[]> = { terminal: ['prices.pull', 'sales.push', 'sales.resend'], office: ['sales.collect'] };

export interface Reachability {
  /** reachable: the latest contact with the server succeeded; unreachable: the latest attempt failed; unknown: no contact yet */
  state: 'reachable' | 'unreachable' | 'unknown';
  /** reachable: the last successful contact; unreachable: since when (the failure of the current streak) */
  at?: string;
  /** the job of that contact or failure */
  job?: string;
  error?: RunError;
}

/**
 * The latest event wins, by time: a failed run, or a success (an ok/partial run or a heartbeat).
 * Without heartbeats an idle till (no file moving) would look "never reached" forever.
 */
export function reachabilityOf(role: string, lastRuns: StatusReport['lastRuns'] = {}, lastContact: Record<string, string> = {}): Reachability {
  // events ordered by time, then run id (a heartbeat, id 0, is written before its run's row)
  type Event = { at: string; id: number; job: string; error?: RunError };
  const later = (a: Event, b: Event | undefined): boolean => !b || a.at > b.at || (a.at === b.at && a.id > b.id);
  const ofRun = (r: RunRecord): Event => ({ at: r.finishedAt ?? r.startedAt, id: r.id, job: r.job, ...(r.error ? { error: r.error } : {}) });
  let ok: Event | undefined;
  let failed: Event | undefined;
  for (const job of NETWORK_JOBS[role] ?? []) {
    const runs = lastRuns[job];
    const successes: Event[] = [];
    if (runs?.lastOk) successes.push(ofRun(runs.lastOk));
    if (runs && runs.last.result !== 'running' && runs.last.result !== 'failed') successes.push(ofRun(runs.last));
    if (lastContact[job]) successes.push({ at: lastContact[job], id: 0, job });
    for (const e of successes) if (later(e, ok)) ok = e;
    if (runs?.last.result === 'failed' && later(ofRun(runs.last), failed)) failed = ofRun(runs.last);
  }
  const out = (state: 'reachable' | 'unreachable', e: Event): Reachability => ({ state, at: e.at, job: e.job, ...(state === 'unreachable' && e.error ? { error: e.error } : {}) });
  if (failed && later(failed, ok)) return out('unreachable', failed);
  if (ok) return out('reachable', ok);
  return { state: 'unknown' };
}

export interface InboxWarning {
  name: string;
  appliedAt: string;
  records: number;
  skipped: number;
  lines: number[];
  reasons: string[];
  message: string;
}

/** what a person should know about an applied price file, or undefined */
export function inboxWarning(e: InboxEntry): InboxWarning | undefined {
  const lines = e.skippedLines ?? [];
  const reasons = e.skippedReasons ?? [];
  let message: string;
  if (e.skipped > 0) message = skippedMessage(e.skipped, lines, reasons);
  else if (e.records === 0 && e.size > 0) message = `not empty (${e.size} bytes) but applied no records`;
  else return undefined;
  return { name: e.name, appliedAt: e.appliedAt, records: e.records, skipped: e.skipped, lines, reasons, message };
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
  if (!existsSync(join(c.dataDir, 'journal.db')) || !existsSync(join(c.dataDir, currentCatalog(c.dataDir).name))) return report;
  const s = Store.open(c.dataDir, { readonly: true });
  try {
    const q = s.quarantine.list({ state: 'quarantined' });
    report.store = 'ok';
    const last = s.inbox.last();
    const warnings = s.inbox.recent(10).flatMap((e) => inboxWarning(e) ?? []);
    report.catalog = { products: s.catalog.count(), ...(last ? { lastFile: last } : {}), ...(warnings.length ? { warnings } : {}) };
    if (c.role === 'terminal') {
      report.sales = { pending: s.journal.countPending(), shiftClosesPending: s.shifts.countPending() };
      report.statusFile = { dir: c.status.dir, ...statusWriteState(s) };
    }
    else report.collected = s.collected.counts();
    report.quarantine = { count: q.length, files: q.slice(0, 20) };
    // every job this deployment knows, core's and the plugins' (contributes.jobs)
    const jobs = app.host.knownJobs().map((j) => j.id);
    const unsafe = unsafeNamesReport(s.kv, jobs);
    if (unsafe) report.unsafeNames = unsafe;
    report.lastRuns = {};
    for (const j of jobs) {
      const last = s.runs.last(j);
      if (last) report.lastRuns[j] = { last, lastOk: s.runs.last(j, 'ok') ?? null };
    }
    report.lastContact = s.runs.lastContacts();
    report.reachability = reachabilityOf(c.role, report.lastRuns, report.lastContact);
  } finally {
    s.close();
  }
  return report;
}

/** one line about the skipped names; each JSON-quoted, so a control character shows as \u0001, never acts */
export function unsafeNamesText(u: UnsafeNamesReport): string {
  const jobs = Object.entries(u.jobs).map(([job, j]) => `${job}: ${j.names.map((n) => JSON.stringify(n.name)).join(', ')}${j.count > j.names.length ? `, … (${j.count})` : ''}`);
  return `${u.count} name(s) on the server skipped, not plain names (never read, moved or deleted) — ${jobs.join('; ')}`;
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
    for (const w of st.catalog.warnings ?? []) lines.push(`  WARNING  ${w.name} (${w.appliedAt}): ${w.message}`);
  }
  if (st.sales) lines.push(`sales      ${st.sales.pending} pending upload${st.sales.shiftClosesPending ? `, ${st.sales.shiftClosesPending} shift close(s) pending` : ''}`);
  if (st.statusFile) {
    const w = st.statusFile.written;
    lines.push(`status     ${w ? `file ${w.path} written at ${w.at} (seq ${w.seq}, ${w.bytes} bytes)` : `file not written yet (${st.statusFile.dir}; cfx run writes it)`}`);
    if (st.statusFile.error) lines.push(`  ERROR    the last write failed at ${st.statusFile.error.at}: ${st.statusFile.error.message}`);
  }
  if (st.collected) lines.push(`collected  ${st.collected.collected} sale(s), ${st.collected.undelivered} not yet delivered to the back office`);
  if (st.quarantine) {
    lines.push(`quarantine ${st.quarantine.count} file(s)${st.quarantine.count ? ' — see cfx status --json, dataDir/quarantine/*.reason.json' : ''}`);
  }
  if (st.unsafeNames) lines.push(`unsafe     ${unsafeNamesText(st.unsafeNames)}`);
  for (const [job, { last, lastOk }] of Object.entries(st.lastRuns ?? {})) {
    lines.push(`${job.padEnd(10)} last ${last.result} at ${last.finishedAt ?? last.startedAt}${last.error ? ` (${last.error.message})` : ''}${lastOk && lastOk.id !== last.id ? `; last ok ${lastOk.finishedAt}` : ''}`);
  }
  const r = st.reachability;
  if (r) {
    lines.push(
      `reachable  ${r.state === 'reachable' ? `yes, last contact ${r.at} (${r.job})` : r.state === 'unreachable' ? `NO, since ${r.at} (${r.job}${r.error ? `: ${r.error.message}` : ''})` : 'not contacted yet'}`,
    );
  }
  lines.push(`plugins    ${st.plugins.map((p) => `${p.id} (${p.state})`).join(', ')}`);
  return lines.join('\n');
}
