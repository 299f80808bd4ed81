// Precompiles the ajv validators cfx would otherwise compile at every start-up (issue 20): a new
// Ajv instance (its meta-schemas) plus one compile cost ~50–90 ms per process, paid by each
// `cfx sale add`. Writes core/src/sales/sale-input-validate.generated.ts (committed; tsc builds it
// like any source). Run after changing src/sales/sale-input-schema.ts:
//   npx tsc -b && node core/scripts/gen-validators.mjs && npx tsc -b
// core/src/sales/sale-input-validate.test.ts fails while the committed file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { saleValidatorSource } from './validator-source.mjs';

const out = fileURLToPath(new URL('../src/sales/sale-input-validate.generated.ts', import.meta.url));
writeFileSync(out, await saleValidatorSource());
console.log(`wrote ${out}`);
