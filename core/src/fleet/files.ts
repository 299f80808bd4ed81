import type { PaymentKind } from '../api/model.js';
import type { CollectedShiftClose } from '../store/repositories.js';
import { expandTemplate } from '../jobs/shared/names.js';

/*
 * Readers of the two fleet files a terminal puts on the server (docs/fleet.md): the status file
 * (`cfx.status/1`) and the pushed shift close (`cfx.shift/1`). Fields a reader does not know are
 * ignored (a newer terminal may send more); a known field of the wrong shape is a problem naming it.
 */

export const STATUS_FORMAT = 'cfx.status/1';
export const SHIFT_FORMAT = 'cfx.shift/1';
/** the office refuses a larger status file (the read stops there) */
export const STATUS_MAX_BYTES = 64 * 1024;
export const SHIFT_MAX_BYTES = 64 * 1024;

export const statusFileName = (terminal: string): string => `${terminal}.status.json`;

/**
 * The remote dir of a terminal's status file: `status.dir` with `{terminal}` expanded, a relative one
 * taken from the server's root (`status` → `/status`). The one rule for both sides: the terminal
 * writes there and the office reads there, whatever each one's login dir is (an SFTP account is not
 * chrooted: a relative path would be its home dir).
 */
export function statusDirOf(template: string, terminal: string): string {
  const d = expandTemplate(template, { terminal });
  return d.startsWith('/') ? d : `/${d}`;
}
export const shiftFileName = (terminal: string, shift: number): string => `${terminal}_shift-${shift}.shift.json`;
export const isShiftFileName = (name: string): boolean => name.endsWith('.shift.json');

export interface FileProblem {
  field: string;
  message: string;
}

export interface StatusFile {
  terminal: string;
  seq: number;
  writtenAt: string;
  raw: Record<string, unknown>;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const ISO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** JSON text → its top object when its `format` is `format`, or the problem naming the field */
function parseVersioned(text: string, format: string): { ok: Record<string, unknown> } | { problem: FileProblem } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { problem: { field: '(file)', message: `not JSON: ${(e as Error).message}` } };
  }
  if (!isObj(v)) return { problem: { field: '(file)', message: 'not a JSON object' } };
  if (v.format !== format) return { problem: { field: 'format', message: `expected "${format}", got ${JSON.stringify(v.format)}` } };
  return { ok: v };
}

/** a status file's text → its parts, or the first problem (wrong JSON, format, terminal, seq, writtenAt) */
export function parseStatusFile(text: string, terminal: string): { ok: StatusFile } | { problem: FileProblem } {
  const o = parseVersioned(text, STATUS_FORMAT);
  if ('problem' in o) return o;
  const v = o.ok;
  if (v.terminal !== terminal) return { problem: { field: 'terminal', message: `the file is terminal ${terminal}'s, but it says ${JSON.stringify(v.terminal)}` } };
  if (!isCount(v.seq)) return { problem: { field: 'seq', message: `must be an integer ≥ 0, got ${JSON.stringify(v.seq)}` } };
  if (typeof v.writtenAt !== 'string' || !ISO_OFFSET.test(v.writtenAt) || Number.isNaN(Date.parse(v.writtenAt))) {
    return { problem: { field: 'writtenAt', message: `must be an ISO 8601 time, got ${JSON.stringify(v.writtenAt)}` } };
  }
  return { ok: { terminal, seq: v.seq, writtenAt: v.writtenAt, raw: v } };
}

/** a pushed shift close as read: the record the office keeps, less what the office adds */
export type ShiftFile = Omit<CollectedShiftClose, 'terminalId' | 'sha256' | 'fileName' | 'receivedAt'> & { terminal: string };

const KINDS: readonly PaymentKind[] = ['cash', 'card', 'other'];

/** a pushed shift close (money already in minor units) → its parts, or the first problem naming the field */
export function parseShiftFile(text: string): { ok: ShiftFile } | { problem: FileProblem } {
  const o = parseVersioned(text, SHIFT_FORMAT);
  if ('problem' in o) return o;
  const v = o.ok;
  if (typeof v.terminal !== 'string' || v.terminal === '') return { problem: { field: 'terminal', message: 'required: the terminal id' } };
  if (!isCount(v.shift)) return { problem: { field: 'shift', message: `must be an integer ≥ 0, got ${JSON.stringify(v.shift)}` } };
  if (typeof v.closedAt !== 'string' || !ISO_OFFSET.test(v.closedAt) || Number.isNaN(Date.parse(v.closedAt))) {
    return { problem: { field: 'closedAt', message: `must be an ISO 8601 time with offset, got ${JSON.stringify(v.closedAt)}` } };
  }
  if (!isCount(v.lastReceiptNo)) return { problem: { field: 'lastReceiptNo', message: `must be an integer ≥ 0, got ${JSON.stringify(v.lastReceiptNo)}` } };
  if (v.firstReceiptNo !== undefined && !isCount(v.firstReceiptNo)) return { problem: { field: 'firstReceiptNo', message: `must be an integer ≥ 0, got ${JSON.stringify(v.firstReceiptNo)}` } };
  if (typeof v.firstReceiptNo === 'number' && v.firstReceiptNo > v.lastReceiptNo) return { problem: { field: 'firstReceiptNo', message: `${v.firstReceiptNo} is above lastReceiptNo ${v.lastReceiptNo}` } };
  if (!isObj(v.totals)) return { problem: { field: 'totals', message: 'required: an object of payment kind → minor units' } };
  const totals: Partial<Record<PaymentKind, number>> = {};
  for (const [k, a] of Object.entries(v.totals)) {
    if (!KINDS.includes(k as PaymentKind)) return { problem: { field: `totals.${k}`, message: `unknown payment kind (${KINDS.join(', ')})` } };
    if (!Number.isSafeInteger(a)) return { problem: { field: `totals.${k}`, message: `must be an integer in minor units, got ${JSON.stringify(a)}` } };
    totals[k as PaymentKind] = a as number;
  }
  return { ok: {
    terminal: v.terminal,
    shift: v.shift,
    closedAt: v.closedAt,
    localDate: v.closedAt.slice(0, 10),
    ...(typeof v.firstReceiptNo === 'number' ? { firstReceiptNo: v.firstReceiptNo } : {}),
    lastReceiptNo: v.lastReceiptNo,
    totals,
  } };
}
