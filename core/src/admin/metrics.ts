import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { API_VERSION } from '../api/index.js';
import type { CfxConfig } from '../config/index.js';
import type { Clock } from '../api/clock.js';
import { fleetReport } from '../fleet/report.js';
import type { RunRecord, Store } from '../store/index.js';
import { systemClock } from '../util/clock.js';

/** the jobs whose runs the store logs */
export const JOBS = ['prices.pull', 'sales.push', 'sales.resend', 'sales.collect'] as const;

/** runs looked at per scrape: more finishing between two scrapes than this are not all counted */
const WINDOW = 500;

/**
 * Prometheus metrics of one running cfx, built from what the store logs (the `runs` table, the
 * outbox, the quarantine), so every job is covered without hooks in the jobs themselves:
 * counters count the runs finished since this process started (the usual counter semantics:
 * Prometheus' rate() copes with the reset on restart); gauges read the store at scrape time.
 */
export class AdminMetrics {
  readonly registry = new Registry();
  private readonly files: Counter<'job'>;
  private readonly bytes: Counter<'job'>;
  private readonly runs: Counter<'job' | 'result'>;
  private readonly errors: Counter<'job' | 'code'>;
  private readonly duration: Histogram<'job'>;
  /** runs with a higher id than this are counted once finished */
  private readonly floor: number;
  private readonly counted = new Set<number>();

  /** office: the per-terminal gauges, set from one fleet report per scrape */
  private readonly fleet: { lastSeen: Gauge<'terminal'>; gaps: Gauge<'terminal' | 'state'>; pending: Gauge<'terminal'>; shifts: Gauge<'terminal' | 'state'> } | undefined;

  constructor(
    private readonly store: Store,
    private readonly config: CfxConfig,
    private readonly clock: Clock = systemClock,
  ) {
    const registers = [this.registry];
    this.floor = store.runs.list({ limit: 1 })[0]?.id ?? 0;
    this.files = new Counter({ name: 'cfx_job_files_total', help: 'files moved by finished runs, per job', labelNames: ['job'], registers });
    this.bytes = new Counter({ name: 'cfx_job_bytes_total', help: 'bytes moved by finished runs, per job', labelNames: ['job'], registers });
    this.runs = new Counter({ name: 'cfx_job_runs_total', help: 'finished runs, per job and result (ok, partial, failed)', labelNames: ['job', 'result'], registers });
    this.errors = new Counter({ name: 'cfx_errors_total', help: 'failed runs, per job and stable error code (CFX_E_*)', labelNames: ['job', 'code'], registers });
    this.duration = new Histogram({
      name: 'cfx_exchange_duration_seconds',
      help: 'duration of an exchange run (started to finished), per job',
      labelNames: ['job'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    for (const job of JOBS) {
      // present from the first scrape, at 0
      this.files.inc({ job }, 0);
      this.bytes.inc({ job }, 0);
    }
    const s = store;
    new Gauge({
      name: 'cfx_job_last_success_timestamp_seconds',
      help: 'when the last successful run of the job finished (unix seconds); absent: never',
      labelNames: ['job'],
      registers,
      collect() {
        this.reset();
        for (const job of JOBS) {
          const at = s.runs.last(job, 'ok')?.finishedAt;
          if (at) this.set({ job }, Date.parse(at) / 1000);
        }
      },
    });
    new Gauge({
      name: 'cfx_server_last_contact_timestamp_seconds',
      help: 'when the job last reached the server (unix seconds; a heartbeat written at most once a minute while polls succeed); absent: never',
      labelNames: ['job'],
      registers,
      collect() {
        this.reset();
        for (const [job, at] of Object.entries(s.runs.lastContacts())) this.set({ job }, Date.parse(at) / 1000);
      },
    });
    if (config.role === 'terminal') {
      new Gauge({ name: 'cfx_sales_pending', help: 'journaled sales not yet on the server', registers, collect() { this.set(s.journal.countPending()); } });
    } else {
      new Gauge({ name: 'cfx_collected_undelivered', help: 'collected sales not yet delivered to the back office', registers, collect() { this.set(s.collected.counts().undelivered); } });
    }
    this.fleet =
      config.role === 'office'
        ? {
            lastSeen: new Gauge({ name: 'cfx_fleet_last_seen_timestamp_seconds', help: "when the office last read a newer status of the terminal (unix seconds, the office's clock); absent: never seen", labelNames: ['terminal'], registers }),
            gaps: new Gauge({ name: 'cfx_fleet_receipt_gaps', help: 'receipt numbers missing at the office, per terminal and state (open, requested, lost: lost at the till)', labelNames: ['terminal', 'state'], registers }),
            pending: new Gauge({ name: 'cfx_fleet_pending_sales', help: "sales journaled at the terminal, not yet on the server (its last status); absent: unknown", labelNames: ['terminal'], registers }),
            shifts: new Gauge({ name: 'cfx_fleet_shifts', help: 'shifts of the last week per terminal and state (open, reconciled, mismatch, incomplete)', labelNames: ['terminal', 'state'], registers }),
          }
        : undefined;
    new Gauge({ name: 'cfx_quarantine_files', help: 'files in quarantine (not retried)', registers, collect() { this.set(s.quarantine.list({ state: 'quarantined' }).length); } });
    new Gauge({ name: 'cfx_catalog_products', help: 'products in the local catalog', registers, collect() { this.set(s.catalog.count()); } });
    const info = new Gauge({ name: 'cfx_info', help: 'always 1; labels: role, terminal, plugin API version', labelNames: ['role', 'terminal', 'api'], registers });
    info.set({ role: config.role, terminal: config.terminal ?? '', api: API_VERSION }, 1);
    collectDefaultMetrics({ register: this.registry, prefix: 'cfx_' });
  }

  /** counts the runs finished since the last scrape */
  private sync(): void {
    const recent = this.store.runs.list({ limit: WINDOW });
    let oldest = Infinity;
    for (const r of recent) {
      oldest = Math.min(oldest, r.id);
      if (r.id <= this.floor || r.result === 'running' || this.counted.has(r.id)) continue;
      this.counted.add(r.id);
      this.count(r);
    }
    // ids below the window never come back: forget them
    for (const id of this.counted) if (id < oldest) this.counted.delete(id);
  }

  /** the fleet gauges from one report (the same as cfx fleet), reset so a terminal removed from the config disappears */
  private syncFleet(): void {
    const g = this.fleet;
    if (!g) return;
    for (const x of Object.values(g)) x.reset();
    for (const t of fleetReport(this.store.fleet, this.config, this.clock.now()).terminals) {
      const terminal = t.terminal;
      if (t.lastSeen) g.lastSeen.set({ terminal }, Date.parse(t.lastSeen) / 1000);
      g.gaps.set({ terminal, state: 'open' }, t.gaps.open);
      g.gaps.set({ terminal, state: 'requested' }, t.gaps.requested);
      g.gaps.set({ terminal, state: 'lost' }, t.gaps.lostAtTill);
      if (t.pendingSales !== null) g.pending.set({ terminal }, t.pendingSales);
      for (const state of ['open', 'reconciled', 'mismatch', 'incomplete'] as const) g.shifts.set({ terminal, state }, t.shifts.filter((s) => s.state === state).length);
    }
  }

  private count(r: RunRecord): void {
    const job = r.job;
    this.files.inc({ job }, r.files);
    this.bytes.inc({ job }, r.bytes);
    this.runs.inc({ job, result: r.result });
    if (r.error) this.errors.inc({ job, code: r.error.code });
    if (r.finishedAt) {
      const s = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
      if (Number.isFinite(s) && s >= 0) this.duration.observe({ job }, s);
    }
  }

  async text(): Promise<string> {
    this.sync();
    this.syncFleet();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
