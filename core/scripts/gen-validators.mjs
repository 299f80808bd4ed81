// Precompiles the ajv validators cfx would otherwise compile at every start-up (issue 20): a new
// Ajv instance (its meta-schemas) plus one compile cost ~50–90 ms per process, paid by each
// `cfx sale add`; the draft 2020-12 meta-schema that config validation checks every schema against
// costs ~50 ms more in every command that loads cfx.yaml. Writes
// core/src/sales/sale-input-validate.generated.ts, core/src/sales/shift-input-validate.generated.ts,
// core/src/config/meta-2020-validate.generated.cts,
// core/src/config/config-validate.generated.ts (core's config schema) and
// core/src/config/plugin-validate.generated.ts (the built-in plugins' option schemas)
// (committed; tsc builds them like any source). Run after changing src/sales/sale-input-schema.ts
// or upgrading ajv (also after changing src/config/schema.ts or a plugin's cfx.configSchema):
//   npx tsc -b && node core/scripts/gen-validators.mjs && npx tsc -b
// sales/sale-input-validate.test.ts and config/meta-validate.test.ts fail while a committed file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { coreConfigValidatorSource, metaValidatorSource, pluginValidatorsSource, saleValidatorSource, shiftValidatorSource } from './validator-source.mjs';

for (const [rel, text] of [
  ['../src/sales/sale-input-validate.generated.ts', await saleValidatorSource()],
  ['../src/sales/shift-input-validate.generated.ts', await shiftValidatorSource()],
  ['../src/config/meta-2020-validate.generated.cts', metaValidatorSource()],
  ['../src/config/config-validate.generated.ts', await coreConfigValidatorSource()],
  ['../src/config/plugin-validate.generated.ts', await pluginValidatorsSource()],
]) {
  const out = fileURLToPath(new URL(rel, import.meta.url));
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
