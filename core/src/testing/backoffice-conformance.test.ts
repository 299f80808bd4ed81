// core's own `generic` back office runs the back-office kit, reading back the CSV files it wrote.
import { after } from 'node:test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGenericBackOffice } from '../backoffice/generic.js';
import { describeBackOfficeConformance, type DeliveredSale } from './backoffice-conformance.js';

const root = mkdtempSync(join(tmpdir(), 'cfx-bo-kit-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const outDirs = new WeakMap<object, string>();

/** every sale in every file of outDir, once per file (a file has one row per sale line) */
function delivered(outDir: string): DeliveredSale[] {
  let files: string[];
  try {
    files = readdirSync(outDir).filter((f) => f.endsWith('.csv') && !f.startsWith('.'));
  } catch {
    return [];
  }
  const out: DeliveredSale[] = [];
  for (const f of files) {
    const rows = readFileSync(join(outDir, f), 'utf8').replace(/^\ufeff/, '').split('\r\n').slice(1).filter(Boolean);
    const seen = new Set<string>();
    for (const r of rows) {
      const [terminal, saleId] = r.split(';') as [string, string];
      if (seen.has(saleId)) continue;
      seen.add(saleId);
      out.push({ terminal, saleId });
    }
  }
  return out;
}

describeBackOfficeConformance('generic', {
  create: () => {
    const outDir = join(root, `out${++n}`);
    const bo = createGenericBackOffice({ outDir });
    outDirs.set(bo, outDir);
    return bo;
  },
  delivered: (bo) => delivered(outDirs.get(bo)!),
});
