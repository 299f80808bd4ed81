import type { ErrorObject } from 'ajv';
import { CfxError, ErrorCodes } from '../api/index.js';
import { parseDecimal } from './decimal.js';
import { schemaProblems, type SaleProblem } from './sale-input.js';

// Compiled at build time (ajv standalone, scripts/gen-validators.mjs), like the sale input's validator.
import { validate as generatedValidate } from './shift-input-validate.generated.js';

export { shiftInputSchema } from './shift-input-schema.js';

const validate = generatedValidate as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** the format id of a pushed shift close file (docs/fleet.md) */
export const SHIFT_FORMAT = 'cfx.shift/1';

export type PaymentKindTotals = Partial<Record<'cash' | 'card' | 'other', number>>;

/** A shift close as journaled and pushed (`cfx.shift/1`): money in integer minor units. */
export interface ShiftClose {
  format: typeof SHIFT_FORMAT;
  terminal: string;
  shift: number;
  /** ISO 8601 with the till's offset */
  closedAt: string;
  firstReceiptNo?: number;
  lastReceiptNo: number;
  /** by payment kind, minor units (negative when returns exceed sales) */
  totals: PaymentKindTotals;
}

const KINDS = ['cash', 'card', 'other'] as const;

function invalid(problems: SaleProblem[], shift?: number): CfxError {
  return new CfxError(ErrorCodes.SHIFT_INVALID, `shift close${shift !== undefined ? ` of shift ${shift}` : ''} rejected:\n${problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}`, {
    details: { problems, ...(shift !== undefined ? { shift } : {}) },
  });
}

/**
 * Validates a till's shift close JSON (docs/fleet.md) and turns it into the canonical ShiftClose:
 * decimal strings → integer minor units through the one decimal parser, the terminal filled in.
 * Every problem is reported with its field; unknown keys are refused.
 */
export function parseShiftInput(input: unknown, terminal: string): ShiftClose {
  const shiftOf = typeof (input as { shift?: unknown })?.shift === 'number' ? (input as { shift: number }).shift : undefined;
  if (!validate(input)) throw invalid(schemaProblems(validate.errors, '(shift close)'), shiftOf);
  const i = input as { shift: number; closedAt: string; firstReceiptNo?: number; lastReceiptNo: number; totals: Record<string, unknown> };
  const problems: SaleProblem[] = [];
  const totals: PaymentKindTotals = {};
  // a fixed key order: the canonical body (and its sha256, which tells a repeat from a conflict) must not depend on the till's
  for (const k of KINDS) {
    if (i.totals[k] === undefined) continue;
    const n = parseDecimal(i.totals[k], 2);
    if (n === undefined) problems.push({ field: `totals.${k}`, message: `"${String(i.totals[k])}" is not a decimal with at most 2 decimal places` });
    else totals[k] = n;
  }
  if (i.firstReceiptNo !== undefined && i.firstReceiptNo > i.lastReceiptNo) {
    problems.push({ field: 'firstReceiptNo', message: `${i.firstReceiptNo} is after lastReceiptNo ${i.lastReceiptNo}` });
  }
  if (problems.length) throw invalid(problems, i.shift);
  return {
    format: SHIFT_FORMAT,
    terminal,
    shift: i.shift,
    closedAt: i.closedAt,
    ...(i.firstReceiptNo !== undefined ? { firstReceiptNo: i.firstReceiptNo } : {}),
    lastReceiptNo: i.lastReceiptNo,
    totals,
  };
}

/** the till's local date of the close: the date part of closedAt (with its own offset) */
export function shiftLocalDate(s: ShiftClose): string {
  return s.closedAt.slice(0, 10);
}

/** one canonical text per shift close: journaled, pushed byte for byte, compared by sha256 */
export function canonicalShiftBody(s: ShiftClose): string {
  return JSON.stringify(s);
}

/** the remote (and local copy) name of a shift close: `<terminal>_shift-<shift>.shift.json` */
export function shiftFileName(terminal: string, shift: number): string {
  return `${terminal}_shift-${shift}.shift.json`;
}
