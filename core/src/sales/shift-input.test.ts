import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { CfxError, ErrorCodes } from '../api/index.js';
import { canonicalShiftBody, parseShiftInput, shiftFileName, shiftInputSchema, shiftLocalDate } from './shift-input.js';
import { validate as precompiled } from './shift-input-validate.generated.js';

const good = { shift: 12, closedAt: '2026-12-05T20:00:00+02:00', lastReceiptNo: 105, firstReceiptNo: 101, totals: { cash: '30.00', card: '20.00' } };

/** the problems of a refused input, as `field: message` */
function problems(input: unknown): string[] {
  try {
    parseShiftInput(input, 't1');
  } catch (e) {
    assert.ok(e instanceof CfxError);
    assert.equal(e.code, ErrorCodes.SHIFT_INVALID);
    return (e.details.problems as { field: string; message: string }[]).map((p) => `${p.field}: ${p.message}`);
  }
  assert.fail('accepted');
}

describe('shift close input (docs/fleet.md)', () => {
  it('turns decimal strings into minor units, fills the terminal in, in one canonical text', () => {
    const s = parseShiftInput(good, 't1');
    assert.deepEqual(s, { format: 'cfx.shift/1', terminal: 't1', shift: 12, closedAt: '2026-12-05T20:00:00+02:00', firstReceiptNo: 101, lastReceiptNo: 105, totals: { cash: 3000, card: 2000 } });
    assert.equal(canonicalShiftBody(s), '{"format":"cfx.shift/1","terminal":"t1","shift":12,"closedAt":"2026-12-05T20:00:00+02:00","firstReceiptNo":101,"lastReceiptNo":105,"totals":{"cash":3000,"card":2000}}');
    assert.equal(shiftLocalDate(s), '2026-12-05');
    assert.equal(shiftFileName('t1', 12), 't1_shift-12.shift.json');
  });

  it('the order of the totals does not change the canonical text; firstReceiptNo is optional', () => {
    const a = parseShiftInput({ ...good, totals: { card: '20', other: '0,5', cash: '30.00' } }, 't1');
    const b = parseShiftInput({ ...good, totals: { cash: '30', other: '0.50', card: '20.0' } }, 't1');
    assert.equal(canonicalShiftBody(a), canonicalShiftBody(b));
    assert.deepEqual(a.totals, { cash: 3000, card: 2000, other: 50 });
    const { firstReceiptNo: _, ...noFirst } = good;
    assert.equal(parseShiftInput(noFirst, 't1').firstReceiptNo, undefined);
  });

  it('allows negative totals (returns exceeding sales) and an empty totals object', () => {
    assert.deepEqual(parseShiftInput({ ...good, totals: { cash: '-12.50', card: '0' } }, 't1').totals, { cash: -1250, card: 0 });
    assert.deepEqual(parseShiftInput({ ...good, totals: {} }, 't1').totals, {});
  });

  it('names each bad field', () => {
    assert.deepEqual(problems({}), ['shift: is required', 'closedAt: is required', 'lastReceiptNo: is required', 'totals: is required']);
    assert.deepEqual(problems({ ...good, shift: -1 }), ['shift: must be >= 0']);
    assert.deepEqual(problems({ ...good, shift: 1.5 }), ['shift: must be integer']);
    assert.deepEqual(problems({ ...good, closedAt: '2026-12-05 20:00' }), ['closedAt: must be an ISO 8601 date-time with an offset, e.g. 2025-03-15T14:02:11+02:00']);
    assert.deepEqual(problems({ ...good, lastReceiptNo: '105' }), ['lastReceiptNo: must be integer']);
    assert.deepEqual(problems({ ...good, totals: { cash: '30.x' } }), ['totals.cash: must be a decimal number']);
    assert.deepEqual(problems({ ...good, totals: { cash: '30.001' } }), ['totals.cash: "30.001" is not a decimal with at most 2 decimal places']);
    assert.deepEqual(problems({ ...good, firstReceiptNo: 106 }), ['firstReceiptNo: 106 is after lastReceiptNo 105']);
    assert.deepEqual(problems('close'), ['(shift close): must be object']);
  });

  it('refuses unknown keys, in totals too, with their path', () => {
    assert.deepEqual(problems({ ...good, terminal: 't1', note: 'x' }), ['terminal: is not a known field', 'note: is not a known field']);
    assert.deepEqual(problems({ ...good, totals: { cash: '1', crypto: '2' } }), ['totals.crypto: is not a known field']);
  });

  it('the message names the shift and every problem', () => {
    assert.throws(
      () => parseShiftInput({ ...good, closedAt: 'yesterday', totals: { bank: '1' } }, 't1'),
      (e: unknown) => e instanceof CfxError && e.code === ErrorCodes.SHIFT_INVALID && e.message === 'shift close of shift 12 rejected:\n  closedAt: must be an ISO 8601 date-time with an offset, e.g. 2025-03-15T14:02:11+02:00\n  totals.bank: is not a known field',
    );
  });
});

// the validator as a runtime compile would make it, against the precompiled one
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv) => Ajv;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const runtime = ajv.compile(shiftInputSchema);
const shape = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, params: e.params, message: e.message }));

describe('the precompiled shift-input validator (ajv standalone, scripts/gen-validators.mjs)', () => {
  const inputs: [string, unknown][] = [
    ['good', good],
    ['missing fields', {}],
    ['unknown keys', { ...good, x: 1, totals: { y: '1' } }],
    ['bad types', { shift: 'a', closedAt: 1, lastReceiptNo: -1, totals: [] }],
  ];
  for (const [what, input] of inputs) {
    it(`agrees with a runtime-compiled one: ${what}`, () => {
      const v = precompiled as ((d: unknown) => boolean) & { errors?: ErrorObject[] | null };
      assert.equal(v(input), runtime(input));
      assert.deepEqual(shape(v.errors), shape(runtime.errors));
    });
  }
  it('is up to date with shift-input-schema.ts (else: node core/scripts/gen-validators.mjs)', async () => {
    const { shiftValidatorSource } = (await import(new URL('../../scripts/validator-source.mjs', import.meta.url).href)) as { shiftValidatorSource(): Promise<string> };
    const committed = readFileSync(new URL('../../src/sales/shift-input-validate.generated.ts', import.meta.url), 'utf8');
    assert.equal(committed, await shiftValidatorSource());
  });
});
