import { reachabilityOf, type StatusReport } from '../cli/status.js';
import type { QuarantineEntry, RunRecord } from '../store/index.js';
import { fill, type Labels, type Lang } from './i18n.js';

/*
 * The admin page, rendered on the server: the whole page at `/`, and the parts that refresh
 * (status cards, exchange log, quarantine) at `/ui/*`, which the page's script swaps in every few
 * seconds. Every value is HTML-escaped here; the script only inserts what these functions return.
 */

export const REFRESH_MS = 5000;

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);

/** an ISO time as the till's local wall clock, `2025-03-15 14:02:11` */
export function localTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

type CardState = 'ok' | 'bad' | 'warn' | 'idle';

function card(id: string, state: CardState, title: string, value: string, sub: string): string {
  return `<section class="card ${state}" id="${id}" aria-labelledby="${id}-title">
  <h3 id="${id}-title">${esc(title)}</h3>
  <p class="value" data-testid="${id}-value">${esc(value)}</p>
  <p class="sub">${esc(sub)}</p>
</section>`;
}

/** Server reachable: the latest contact with the server, by time: a failed run, or a success (a run or a heartbeat). */
export function serverState(st: StatusReport): { state: CardState; value: 'reachable' | 'unreachable' | 'noExchangeYet'; at?: string; message?: string } {
  const r = st.reachability ?? reachabilityOf(st.role, st.lastRuns, st.lastContact);
  if (r.state === 'unknown') return { state: 'idle', value: 'noExchangeYet' };
  if (r.state === 'unreachable') return { state: 'bad', value: 'unreachable', ...(r.at ? { at: r.at } : {}), ...(r.error ? { message: r.error.message } : {}) };
  return { state: 'ok', value: 'reachable', ...(r.at ? { at: r.at } : {}) };
}

export function renderCards(st: StatusReport, L: Labels): string {
  const srv = serverState(st);
  const srvSub = srv.value === 'unreachable' ? [fill(L.since, { time: localTime(srv.at) }), srv.message].filter(Boolean).join(' — ') : srv.at ? fill(L.lastOk, { time: localTime(srv.at) }) : '';
  const lf = st.catalog?.lastFile;
  const products = st.catalog ? fill(L.products, { n: st.catalog.products }) : '';
  const pending = st.role === 'terminal' ? (st.sales?.pending ?? 0) : (st.collected?.undelivered ?? 0);
  const quarantined = st.quarantine?.count ?? 0;
  const failures = Object.entries(st.lastRuns ?? {})
    .filter(([, r]) => r.last.result === 'failed')
    .map(([job, r]) => fill(L.jobFailed, { job, message: r.last.error?.message ?? '' }));
  const skipped = (st.catalog?.warnings ?? []).map((w) => fill(L.fileWarning, { file: w.name, message: w.message }));
  // names JSON-quoted: a control character is shown as \u0001, not passed on (esc() does the HTML)
  const unsafe = Object.entries(st.unsafeNames?.jobs ?? {}).map(([job, u]) => fill(L.unsafeNames, { job, n: u.count, names: u.names.map((x) => JSON.stringify(x.name)).join(', ') }));
  const problems = [quarantined ? fill(L.inQuarantine, { n: quarantined }) : '', ...failures, ...skipped, ...unsafe].filter(Boolean);
  const lfWarning = lf && st.catalog?.warnings?.find((w) => w.name === lf.name && w.appliedAt === lf.appliedAt);
  return [
    card('card-server', srv.state, L.server, L[srv.value], srvSub),
    card('card-price-file', lfWarning ? 'warn' : lf ? 'ok' : 'idle', L.lastPriceFile, lf ? lf.name : L.none, lf ? [localTime(lf.appliedAt), products, lfWarning?.message].filter(Boolean).join(' · ') : products),
    card('card-pending', pending > 0 ? 'warn' : 'ok', st.role === 'terminal' ? L.pendingSales : L.undelivered, String(pending), ''),
    card('card-problems', problems.length ? 'bad' : 'ok', L.problems, problems.length ? String(problems.length) : L.noProblems, problems.join('; ')),
  ].join('\n');
}

function resultLabel(r: RunRecord, L: Labels): string {
  const label = L[`result_${r.result}` as keyof Labels] ?? r.result;
  const p = r.details?.progress as { done?: number; total?: number } | undefined;
  if (r.result === 'running' && p && typeof p.total === 'number') return `${label} ${p.done ?? 0}/${p.total}`;
  return label;
}

export function renderLog(runs: RunRecord[], L: Labels): string {
  if (runs.length === 0) return `<p class="empty">${esc(L.logEmpty)}</p>`;
  const rows = runs
    .map(
      (r) => `<tr class="r-${esc(r.result)}" data-run="${r.id}">
  <td data-label="${esc(L.colJob)}">${esc(r.job)}</td>
  <td data-label="${esc(L.colStarted)}">${esc(localTime(r.startedAt))}</td>
  <td data-label="${esc(L.colFinished)}">${esc(localTime(r.finishedAt))}</td>
  <td data-label="${esc(L.colFiles)}" class="num">${r.files}</td>
  <td data-label="${esc(L.colResult)}"><span class="badge ${esc(r.result)}">${esc(resultLabel(r, L))}</span></td>
  <td data-label="${esc(L.colError)}" class="err">${esc(r.error ? `${r.error.message} [${r.error.code}]` : '')}</td>
</tr>`,
    )
    .join('\n');
  return `<table class="grid" id="log-table">
<thead><tr><th>${esc(L.colJob)}</th><th>${esc(L.colStarted)}</th><th>${esc(L.colFinished)}</th><th class="num">${esc(L.colFiles)}</th><th>${esc(L.colResult)}</th><th>${esc(L.colError)}</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

function reasonText(q: QuarantineEntry): string {
  const r = q.reason;
  const where = [r.line !== undefined ? `line ${String(r.line)}` : '', r.field ? `field ${String(r.field)}` : ''].filter(Boolean).join(', ');
  return [where, r.message ? String(r.message) : ''].filter(Boolean).join(': ');
}

export function renderQuarantine(entries: QuarantineEntry[], L: Labels): string {
  if (entries.length === 0) return `<p class="empty">${esc(L.quarantineEmpty)}</p>`;
  const rows = entries
    .map(
      (q) => `<tr data-quarantine="${q.id}">
  <td data-label="${esc(L.colFile)}">${esc(q.fileName)}<br><small>${esc(q.job)}</small></td>
  <td data-label="${esc(L.colReason)}">${esc(reasonText(q))}</td>
  <td data-label="${esc(L.colWhen)}">${esc(localTime(q.createdAt))}</td>
  <td><button type="button" class="retry" data-id="${q.id}" data-file="${esc(q.fileName)}">${esc(L.retry)}</button></td>
</tr>`,
    )
    .join('\n');
  return `<table class="grid" id="quarantine-table">
<thead><tr><th>${esc(L.colFile)}</th><th>${esc(L.colReason)}</th><th>${esc(L.colWhen)}</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

export interface PageInput {
  lang: Lang;
  L: Labels;
  status: StatusReport;
  runs: RunRecord[];
  quarantine: QuarantineEntry[];
  tokenRequired: boolean;
  /**
   * the page without data (no terminal, server, cards, log or quarantine): what a browser gets
   * beyond loopback before it sends the token; the script fills the parts in with it
   */
  shell?: boolean;
  /** office: the Fleet section's rendered rows (admin/fleet.ts); absent on a terminal */
  fleet?: string;
}

/** JSON safe inside a <script> element */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

export function renderPage(p: PageInput): string {
  const { L, status: st } = p;
  const who = st.role === 'terminal' ? `${L.terminal} ${st.terminal ?? ''}` : L.office;
  const shell = p.shell === true;
  const boot = { lang: p.lang, role: st.role, tokenRequired: p.tokenRequired, shell, refreshMs: REFRESH_MS, t: L };
  const terminal = st.role === 'terminal';
  return `<!doctype html>
<html lang="${p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(L.title)}</title>
<link rel="stylesheet" href="/app.css">
<script type="application/json" id="cfx-boot">${scriptJson(boot)}</script>
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>${esc(L.title)}</h1>
  ${shell ? '' : `<p class="who"><span id="who">${esc(who)}</span> · <span id="server-url">${esc(st.server)}</span></p>`}
  <p class="refreshed" id="refreshed" role="status"></p>
</header>

<section id="token-panel" class="panel" hidden>
  <h2>${esc(L.tokenTitle)}</h2>
  <p>${esc(L.tokenHelp)}</p>
  <form id="token-form" autocomplete="off">
    <input type="password" id="token-input" name="token" autocomplete="off" aria-label="${esc(L.tokenTitle)}" required>
    <button type="submit">${esc(L.tokenSave)}</button>
    <p class="msg" id="token-message" role="alert"></p>
  </form>
</section>

<main>
<div class="cards" id="cards">
${shell ? '' : renderCards(st, L)}
</div>

${
  terminal
    ? `<section class="panel" id="resend">
  <h2>${esc(L.resend)}</h2>
  <p class="help">${esc(L.resendHelp)}</p>
  <form id="resend-form" novalidate>
    <label>${esc(L.from)} <input type="date" id="resend-from" name="from" required></label>
    <label>${esc(L.to)} <input type="date" id="resend-to" name="to" required></label>
    <button type="submit" id="resend-submit">${esc(L.resendButton)}</button>
  </form>
  <div id="resend-confirm" class="confirm" hidden>
    <p id="resend-confirm-text"></p>
    <button type="button" id="resend-yes">${esc(L.confirm)}</button>
    <button type="button" id="resend-no" class="secondary">${esc(L.cancel)}</button>
  </div>
  <div id="resend-progress" hidden>
    <progress id="resend-bar" max="1" value="0"></progress>
    <span id="resend-progress-text"></span>
  </div>
  <p class="msg" id="resend-message" role="alert"></p>
</section>`
    : ''
}

${
  st.role === 'office'
    ? `<section class="panel" id="fleet">
  <h2>${esc(L.fleet)} <small>${esc(fill(L.autoRefresh, { n: REFRESH_MS / 1000 }))}</small></h2>
  <p class="help">${esc(L.fleetHelp)}</p>
  <div id="fleet-body">
${shell ? '' : (p.fleet ?? '')}
  </div>
</section>
`
    : ''
}<section class="panel" id="log">
  <h2>${esc(L.log)} <small>${esc(fill(L.autoRefresh, { n: REFRESH_MS / 1000 }))}</small></h2>
  <div id="log-body">
${shell ? '' : renderLog(p.runs, L)}
  </div>
</section>

<section class="panel" id="quarantine">
  <h2>${esc(L.quarantine)}</h2>
  <p class="help">${esc(L.quarantineHelp)}</p>
  <div id="quarantine-body">
${shell ? '' : renderQuarantine(p.quarantine, L)}
  </div>
  <p class="msg" id="quarantine-message" role="alert"></p>
</section>

<section class="panel" id="catalog">
  <h2>${esc(L.catalog)}</h2>
  <form id="catalog-form" role="search">
    <input type="search" id="catalog-q" name="q" placeholder="${esc(L.searchPlaceholder)}" aria-label="${esc(L.searchPlaceholder)}">
    <button type="submit">${esc(L.search)}</button>
  </form>
  <div id="catalog-body"></div>
  <button type="button" id="catalog-more" class="secondary" hidden>${esc(L.more)}</button>
</section>
</main>
${p.tokenRequired ? `<footer><button type="button" id="token-forget" class="link">${esc(L.tokenForget)}</button></footer>` : ''}
</body>
</html>
`;
}
