import type { PaymentKind } from '../api/model.js';
import type { CfxConfig } from '../config/types.js';
import type { FleetStore, ReceiptGap } from '../store/repositories.js';
import { formatMoney } from '../text/fixed.js';
import { catalogState, reconcile, type CatalogState, type ShiftState } from './rules.js';

/** `cfx fleet --json`, `GET /api/fleet` (docs/fleet.md): one entry per terminal of `terminals:` */
export interface FleetReport {
  generatedAt: string;
  terminals: FleetTerminal[];
}

export interface FleetGapEntry {
  shift: number;
  receiptNo: number;
  state: ReceiptGap['state'];
  requests: number;
  lastRequestAt: string | null;
}

export interface FleetShiftEntry {
  shift: number;
  state: ShiftState;
  lastReceiptNo: number;
  /** shift close totals − collected per payment kind, decimal strings; null unless mismatch */
  difference: Partial<Record<PaymentKind, string>> | null;
  /** receipt numbers not collected; null unless incomplete */
  missing: number[] | null;
}

export interface FleetTerminal {
  terminal: string;
  /** when the office read its newest status (office clock); null: never seen */
  lastSeen: string | null;
  ageSeconds: number | null;
  stale: boolean;
  /** the terminal's clock − the office's, when it was read */
  clockSkewSeconds: number | null;
  cfxVersion: string | null;
  catalog: { state: CatalogState; file: string | null; products: number | null; published: string | null };
  pendingSales: number | null;
  gaps: { open: number; requested: number; lostAtTill: number };
  /** gaps still open, requested or lost (closed and acknowledged ones are history) */
  gapList: FleetGapEntry[];
  shifts: FleetShiftEntry[];
  lastError: Record<string, unknown> | null;
}

/** closed shifts shown this far back (the status lists a week of shifts) */
const SHIFT_WINDOW_DAYS = 8;

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (Number.isSafeInteger(v) ? (v as number) : null);

/** the fleet as the office sees it at `now` (its own clock) */
export function fleetReport(fleet: FleetStore, config: Pick<CfxConfig, 'terminals' | 'fleet'>, now: Date): FleetReport {
  const since = new Date(now.getTime() - SHIFT_WINDOW_DAYS * 86_400_000).toISOString().slice(0, 10);
  const terminals = config.terminals.map((terminal): FleetTerminal => {
    const st = fleet.lastStatus(terminal);
    const s = st?.status ?? {};
    const age = st ? Math.max(0, Math.round((now.getTime() - Date.parse(st.readAt)) / 1000)) : null;
    const cat = isObj(s.catalog) ? s.catalog : null;
    const published = fleet.published(terminal);
    const sales = isObj(s.sales) ? s.sales : {};
    const gaps = fleet.gaps(terminal, ['open', 'requested', 'lost']);
    const count = (state: ReceiptGap['state']) => gaps.filter((g) => g.state === state).length;

    const closes = fleet.shifts(terminal).filter((c) => c.localDate >= since);
    const receipts = closes.length ? fleet.receipts(terminal, new Date(Date.parse(since) - 86_400_000).toISOString().slice(0, 10)) : [];
    const shifts: FleetShiftEntry[] = closes.map((c) => {
      const r = reconcile(c, receipts);
      const difference = r.difference ? Object.fromEntries(Object.entries(r.difference).map(([k, v]) => [k, formatMoney(v)])) : null;
      return { shift: c.shift, state: r.state, lastReceiptNo: c.lastReceiptNo, difference, missing: r.missing ?? null };
    });
    const closed = new Set(closes.map((c) => c.shift));
    for (const x of Array.isArray(s.shifts) ? s.shifts : []) {
      const n = isObj(x) ? int(x.shift) : null;
      if (n === null || closed.has(n)) continue;
      // closed at the till but the close not collected yet: still open for the office
      shifts.push({ shift: n, state: 'open', lastReceiptNo: int((x as Record<string, unknown>).lastReceiptNo) ?? 0, difference: null, missing: null });
    }
    shifts.sort((a, b) => a.shift - b.shift);

    return {
      terminal,
      lastSeen: st?.readAt ?? null,
      ageSeconds: age,
      stale: age !== null && age * 1000 > config.fleet.staleAfterMs,
      clockSkewSeconds: st ? Math.round((Date.parse(st.writtenAt) - Date.parse(st.readAt)) / 1000) : null,
      cfxVersion: str(s.cfxVersion),
      catalog: { state: catalogState(cat, published), file: cat ? str(cat.file) : null, products: cat ? int(cat.products) : null, published: published?.name ?? null },
      pendingSales: int(sales.pending),
      gaps: { open: count('open'), requested: count('requested'), lostAtTill: count('lost') },
      gapList: gaps.map((g) => ({ shift: g.shift, receiptNo: g.receiptNo, state: g.state, requests: g.requests, lastRequestAt: g.lastRequestAt ?? null })),
      shifts,
      lastError: isObj(s.lastError) ? s.lastError : null,
    };
  });
  return { generatedAt: now.toISOString(), terminals };
}

/** an age for people: `45s ago`, `21m ago`, `3h ago`; `never seen` without one */
export function ageText(seconds: number | null): string {
  if (seconds === null) return 'never seen';
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

/** what is wrong with a shift, for people: `incomplete: receipts 3, 4 missing`, `mismatch: cash 5.00, card -1.00 (till − office)` */
export function shiftProblemText(s: FleetShiftEntry): string {
  if (s.missing?.length) return `${s.state}: receipt${s.missing.length > 1 ? 's' : ''} ${s.missing.join(', ')} missing`;
  if (s.difference) return `${s.state}: ${Object.entries(s.difference).map(([k, v]) => `${k} ${v}`).join(', ')} (till − office)`;
  return s.state;
}

/** a terminal's last failure from its status (`job code message (at …)`), for people; null when none. Its fields are the terminal's: only strings are shown */
export function lastErrorText(e: Record<string, unknown> | null): string | null {
  if (!e) return null;
  // the terminal wrote these: no control characters (an escape sequence) reach a person's console
  const clean = (x: string) => x.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').slice(0, 300);
  const words = [e.job, e.code, e.message].filter((x): x is string => typeof x === 'string' && x !== '').map(clean);
  return `${words.join(' ') || 'failed'}${typeof e.at === 'string' ? ` (at ${clean(e.at)})` : ''}`;
}

/** why a terminal needs a person (empty: all is well): stale, behind on prices, a receipt lost at the till, a closed shift not reconciled */
export function terminalProblems(t: FleetTerminal): string[] {
  const p: string[] = [];
  if (t.stale) p.push(`stale: last seen ${ageText(t.ageSeconds)}`);
  if (t.catalog.state === 'behind') p.push(`behind on prices: has ${t.catalog.file ?? 'no catalog'}, the office published ${t.catalog.published}`);
  if (t.gaps.lostAtTill) p.push(`${t.gaps.lostAtTill} receipt(s) lost at the till`);
  for (const s of t.shifts) if (s.state === 'mismatch' || s.state === 'incomplete') p.push(`shift ${s.shift} ${shiftProblemText(s)}`);
  return p;
}

/** `cfx fleet` exits 3 when this is true */
export const fleetNeedsAttention = (r: FleetReport): boolean => r.terminals.some((t) => terminalProblems(t).length > 0);
