// The shift-close input schema alone (no ajv): scripts/gen-validators.mjs compiles it at build time
// into shift-input-validate.generated.ts, and a test compares that with a runtime-compiled one.
import { decimalInput } from './sale-input-schema.js';

/** The shift close a till hands to cfx (`cfx shift close`, closeShift, POST /api/shifts): docs/fleet.md. */
export const shiftInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['shift', 'closedAt', 'lastReceiptNo', 'totals'],
  properties: {
    shift: { type: 'integer', minimum: 0 },
    closedAt: { type: 'string', format: 'date-time' },
    firstReceiptNo: { type: 'integer', minimum: 0 },
    lastReceiptNo: { type: 'integer', minimum: 0 },
    totals: {
      type: 'object',
      additionalProperties: false,
      properties: { cash: decimalInput, card: decimalInput, other: decimalInput },
    },
  },
} as const;
