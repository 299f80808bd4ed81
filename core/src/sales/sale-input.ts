import { formatMoney as money } from '../text/fixed.js';
import type { ErrorObject } from 'ajv';
import { CfxError, ErrorCodes, type Payment, type Sale, type SaleLine } from '../api/index.js';
import { parseDecimal } from './decimal.js';
import { checkSale, type SaleProblem } from './sale-check.js';

export { TOTAL_TOLERANCE_MINOR, type SaleProblem } from './sale-check.js';

// Compiled at build time (ajv standalone, scripts/gen-validators.mjs): no Ajv instance and no
// schema compile at start-up, ~50–90 ms of every `cfx sale add` (issue 20).
import { validate as generatedValidate } from './sale-input-validate.generated.js';

export { saleInputSchema } from './sale-input-schema.js';

/** what ajv's compile returned: a boolean, and the errors of the last call on itself */
const validate = generatedValidate as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** an ajv error's field as a person writes it: `lines[0].amount` (`whole`: the input itself) */
export function fieldOf(e: ErrorObject, whole = '(sale)'): string {
  const base = e.instancePath.replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
  if (e.keyword === 'required') return [base, (e.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.');
  if (e.keyword === 'additionalProperties') return [base, (e.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.');
  return base || whole;
}

/** an ajv error's rule broken, in words */
export function messageOf(e: ErrorObject): string {
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'additionalProperties') return 'is not a known field';
  if (e.keyword === 'format' && e.params && (e.params as { format: string }).format === 'date-time') return 'must be an ISO 8601 date-time with an offset, e.g. 2025-03-15T14:02:11+02:00';
  if (e.keyword === 'anyOf') return 'must be a decimal number';
  if (e.keyword === 'enum') return `must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return e.message ?? 'is invalid';
}

/** ajv's errors as one problem per field (anyOf reports its branches too; one line per field is what a person needs) */
export function schemaProblems(errors: ErrorObject[] | null | undefined, whole: string): SaleProblem[] {
  const seen = new Set<string>();
  const problems: SaleProblem[] = [];
  for (const e of errors ?? []) {
    if (e.schemaPath.includes('/anyOf/')) continue;
    const p = { field: fieldOf(e, whole), message: messageOf(e) };
    if (!seen.has(p.field)) {
      seen.add(p.field);
      problems.push(p);
    }
  }
  return problems;
}

function invalid(problems: SaleProblem[], saleId?: string): CfxError {
  return new CfxError(ErrorCodes.SALE_INVALID, `sale${saleId ? ` ${saleId}` : ''} rejected:\n${problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}`, { details: { problems, ...(saleId ? { saleId } : {}) } });
}

/**
 * Validates a till's sale JSON and turns it into the canonical Sale: integer minor units and
 * thousandths, the terminal id filled in; then the canonical rules every sale meets (`checkSale`,
 * which the office applies again to every sale file it collects). Every problem is reported, by field.
 */
export function parseSaleInput(input: unknown, terminalId: string): Sale {
  if (!validate(input)) {
    throw invalid(schemaProblems(validate.errors, '(sale)'), typeof (input as { saleId?: unknown })?.saleId === 'string' ? (input as { saleId: string }).saleId : undefined);
  }
  const i = input as Record<string, any>;
  const problems: SaleProblem[] = [];
  if (i.terminal !== undefined && i.terminal !== terminalId) problems.push({ field: 'terminal', message: `is "${i.terminal}" but this terminal is "${terminalId}"` });
  let unreadable = false;
  const num = (v: unknown, places: number, field: string): number => {
    const n = parseDecimal(v, places);
    if (n !== undefined) return n;
    problems.push({ field, message: `"${String(v)}" is not a decimal with at most ${places} decimal places` });
    unreadable = true;
    return 0;
  };
  const lines: SaleLine[] = (i.lines as any[]).map((l, k) => {
    const f = `lines[${k}]`;
    const qty = num(l.qty, 3, `${f}.qty`);
    const price = num(l.price, 2, `${f}.price`);
    const amount = num(l.amount, 2, `${f}.amount`);
    const discount = l.discount !== undefined ? num(l.discount, 2, `${f}.discount`) : undefined;
    return { code: l.code, ...(l.barcode ? { barcode: l.barcode } : {}), ...(l.name ? { name: l.name } : {}), qty, price, amount, ...(discount !== undefined ? { discount } : {}) };
  });
  const payments: Payment[] = (i.payments as any[]).map((p, k) => ({ kind: p.kind, amount: num(p.amount, 2, `payments[${k}].amount`) }));
  const sale: Sale = {
    saleId: i.saleId,
    terminalId,
    ...(i.shift !== undefined ? { shift: i.shift } : {}),
    ...(i.receiptNo !== undefined ? { receiptNo: i.receiptNo } : {}),
    ...(i.cashier !== undefined ? { cashier: i.cashier } : {}),
    time: i.time,
    kind: i.kind,
    lines,
    payments,
    total: lines.reduce((s, l) => s + l.amount, 0),
  };
  // with a number that could not be read, the sums below would only add misleading problems
  if (!unreadable) for (const p of checkSale(sale)) if (!problems.some((q) => q.field === p.field)) problems.push(p);
  // the till knows how it was paid: a sale or return without payments is refused here (the office
  // accepts none only from formats that carry none, see checkSale)
  if (sale.kind !== 'cancel' && sale.payments.length === 0 && !problems.some((q) => q.field === 'payments')) problems.push({ field: 'payments', message: 'a sale or return needs at least one payment' });
  if (problems.length) throw invalid(problems, i.saleId);
  return sale;
}

/** The till's local calendar date of a sale: the date part of its own timestamp (with its offset). */
export function saleLocalDate(sale: Sale): string {
  return sale.time.slice(0, 10);
}

/** One canonical text per sale: the de-duplication key compares these. */
export function canonicalSaleBody(sale: Sale): string {
  return JSON.stringify(sale);
}
