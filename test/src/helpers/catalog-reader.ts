// A till-like reader in its own process for test/src/catalog-swap.test.ts: one long-lived read-only
// store (as `cfx run`'s admin API and a till keep theirs), catalog lookups in a loop, each one
// classified. Prints `ready` after its first lookup, then one JSON summary line when it has seen
// the new catalog `settle` times in a row (or at its deadline).
//   node catalog-reader.js <cfx.yaml> <old products> <old price> <new products> <new price>
import { App, silentLogger } from '@cfx/core';
import { classifyReads, type ReadTally } from './catalog-reads.js';

const [configFile, oldN, oldPrice, newN, newPrice] = process.argv.slice(2);
const app = App.open({ configFile: configFile!, env: {}, store: 'ro', logger: silentLogger() });
const tally: ReadTally = classifyReads(app.store.catalog, { products: Number(oldN), price: Number(oldPrice) }, { products: Number(newN), price: Number(newPrice) });
const deadline = Date.now() + 120_000;
let settled = 0;
let said = false;
const step = (): void => {
  const state = tally.read();
  if (!said) {
    process.stdout.write('ready\n');
    said = true;
  }
  settled = state === 'new' ? settled + 1 : 0;
  if (settled >= 200 || Date.now() > deadline) {
    process.stdout.write(JSON.stringify({ ...tally.summary(), timedOut: settled < 200 }) + '\n');
    void app.close().then(() => process.exit(0));
    return;
  }
  setImmediate(step);
};
step();
