import type { FleetReport, FleetTerminal } from '../fleet/report.js';
import type { FleetStore } from '../store/repositories.js';
import { fill, type Labels } from './i18n.js';
import { esc, localTime } from './page.js';

/*
 * The admin page's Fleet section (office): one row per terminal of `terminals:` and a small SVG
 * chart of its sales per hour over the last 24 h, all rendered here — no client framework, no CDN,
 * and no inline style (the page's CSP allows none: the chart uses SVG attributes and app.css).
 */

export const CHART_HOURS = 24;

/** per terminal: sales per hour, oldest hour first, the last one the current hour */
export function salesPerHour(fleet: FleetStore, terminals: readonly string[], now: Date): Map<string, number[]> {
  const hour0 = Math.floor(now.getTime() / 3_600_000) - (CHART_HOURS - 1);
  const since = new Date(hour0 * 3_600_000).toISOString();
  const out = new Map<string, number[]>();
  for (const t of terminals) {
    const byHour = fleet.salesPerHour(t, since);
    out.set(
      t,
      Array.from({ length: CHART_HOURS }, (_, i) => byHour.get(new Date((hour0 + i) * 3_600_000).toISOString().slice(0, 13)) ?? 0),
    );
  }
  return out;
}

function ago(s: number | null, L: Labels): string {
  if (s === null) return L.neverSeen;
  if (s < 120) return fill(L.agoSeconds, { n: s });
  if (s < 7200) return fill(L.agoMinutes, { n: Math.round(s / 60) });
  return fill(L.agoHours, { n: Math.round(s / 3600) });
}

/** 24 bars, the highest hour full height; an empty day is a flat baseline */
export function chartSvg(counts: readonly number[], label: string): string {
  const W = 240;
  const H = 48;
  const bw = W / counts.length;
  const max = Math.max(1, ...counts);
  const bars = counts
    .map((c, i) => {
      const h = c === 0 ? 0 : Math.max(2, Math.round((c / max) * (H - 4)));
      return h ? `<rect x="${(i * bw + 1).toFixed(1)}" y="${H - h}" width="${(bw - 2).toFixed(1)}" height="${h}" fill="#0b5cad"><title>${c}</title></rect>` : '';
    })
    .join('');
  return `<svg class="spark" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}" preserveAspectRatio="none"><line x1="0" y1="${H - 0.5}" x2="${W}" y2="${H - 0.5}" stroke="#d9dee3" stroke-width="1"/>${bars}</svg>`;
}

function row(t: FleetTerminal, counts: readonly number[], L: Labels): string {
  const seen = `${esc(ago(t.ageSeconds, L))}${t.lastSeen ? ` <small>${esc(localTime(t.lastSeen))}</small>` : ''}${t.stale ? ` <span class="badge failed" data-testid="stale">${esc(L.stale)}</span>` : ''}`;
  const catState = t.catalog.state === 'current' ? 'ok' : t.catalog.state === 'behind' ? 'failed' : '';
  const catalog = `<span class="badge ${catState}">${esc(L[`catalog_${t.catalog.state}`])}</span>${t.catalog.file ? ` <small>${esc(t.catalog.file)}</small>` : ''}`;
  const gapsBad = t.gaps.lostAtTill > 0 ? 'failed' : t.gaps.open + t.gaps.requested > 0 ? 'partial' : 'ok';
  const gaps = `<span class="badge ${gapsBad}">${esc(fill(L.gapsText, { open: t.gaps.open, requested: t.gaps.requested, lost: t.gaps.lostAtTill }))}</span>`;
  const shifts = t.shifts.length
    ? t.shifts
        .map((s) => {
          const cls = s.state === 'reconciled' ? 'ok' : s.state === 'open' ? '' : 'failed';
          const more = s.missing ? ` (${s.missing.join(', ')})` : s.difference ? ` (${Object.entries(s.difference).map(([k, v]) => `${k} ${v}`).join(', ')})` : '';
          return `<span class="badge ${cls}">${esc(fill(L.shiftLabel, { n: s.shift }))}: ${esc(L[`shift_${s.state}`])}${esc(more)}</span>`;
        })
        .join(' ')
    : esc(L.noShifts);
  const total = counts.reduce((a, b) => a + b, 0);
  return `<tr data-terminal="${esc(t.terminal)}" class="${t.stale || t.catalog.state === 'behind' || t.gaps.lostAtTill ? 'attention' : ''}">
  <td data-label="${esc(L.colTerminal)}"><strong>${esc(t.terminal)}</strong></td>
  <td data-label="${esc(L.colLastSeen)}" data-testid="last-seen">${seen}</td>
  <td data-label="${esc(L.colCatalog)}" data-testid="catalog">${catalog}</td>
  <td data-label="${esc(L.colPending)}" class="num" data-testid="pending">${t.pendingSales === null ? '' : t.pendingSales}</td>
  <td data-label="${esc(L.colGaps)}" data-testid="gaps">${gaps}</td>
  <td data-label="${esc(L.colShifts)}" data-testid="shifts">${shifts}</td>
  <td data-label="${esc(L.colSalesPerHour)}" data-testid="chart">${chartSvg(counts, fill(L.chartLabel, { n: total }))}</td>
</tr>`;
}

export function renderFleet(report: FleetReport, perHour: Map<string, number[]>, L: Labels): string {
  if (report.terminals.length === 0) return `<p class="empty">${esc(L.fleetEmpty)}</p>`;
  return `<table class="grid" id="fleet-table">
<thead><tr><th>${esc(L.colTerminal)}</th><th>${esc(L.colLastSeen)}</th><th>${esc(L.colCatalog)}</th><th class="num">${esc(L.colPending)}</th><th>${esc(L.colGaps)}</th><th>${esc(L.colShifts)}</th><th>${esc(L.colSalesPerHour)}</th></tr></thead>
<tbody>
${report.terminals.map((t) => row(t, perHour.get(t.terminal) ?? [], L)).join('\n')}
</tbody>
</table>`;
}
