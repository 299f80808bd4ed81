// The sale input schema alone (no ajv): scripts/gen-validators.mjs compiles it at build time into
// sale-input-validate.generated.ts, and a test compares that with a runtime-compiled one.
/** a decimal as text ("350,00", "-1.5") or a JSON number; read exactly by parseDecimal */
export const decimalInput = { anyOf: [{ type: 'string', pattern: '^\\s*[+-]?\\d+([.,]\\d*)?\\s*$' }, { type: 'number' }] };

/** The sale JSON a till hands to cfx (`cfx sale add`, recordSale, the spool dir, POST /api/sales). */
export const saleInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['saleId', 'time', 'kind', 'lines', 'payments'],
  properties: {
    saleId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
    terminal: { type: 'string' },
    time: { type: 'string', format: 'date-time' },
    receiptNo: { type: 'integer', minimum: 0 },
    shift: { type: 'integer', minimum: 0 },
    cashier: { type: 'string', maxLength: 200 },
    kind: { enum: ['sale', 'return', 'cancel'] },
    lines: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'qty', 'price', 'amount'],
        properties: {
          code: { type: 'string', minLength: 1, maxLength: 64 },
          barcode: { type: 'string', maxLength: 64 },
          name: { type: 'string', maxLength: 500 },
          qty: decimalInput,
          price: decimalInput,
          amount: decimalInput,
          discount: decimalInput,
        },
      },
    },
    payments: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'amount'],
        properties: { kind: { enum: ['cash', 'card', 'other'] }, amount: decimalInput },
      },
    },
  },
} as const;
