import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pruneArchive } from './prune.js';

it('removes archive day folders older than keepDays, keeps the rest', () => {
  const d = mkdtempSync(join(tmpdir(), 'cfx-prune-'));
  for (const day of ['2025-03-01', '2025-03-09', '2025-03-10', '2025-03-15']) {
    mkdirSync(join(d, 'archive', 'prices', day), { recursive: true });
    writeFileSync(join(d, 'archive', 'prices', day, 'p.csv'), 'x');
  }
  mkdirSync(join(d, 'archive', 'sales', '2025-02-01'), { recursive: true });
  mkdirSync(join(d, 'archive', 'prices', 'not-a-day'), { recursive: true });
  const removed = pruneArchive(d, 5, new Date(2025, 2, 15, 12));
  assert.deepEqual(removed.map((r) => r.slice(d.length + 1)).sort(), ['archive/prices/2025-03-01', 'archive/prices/2025-03-09', 'archive/sales/2025-02-01']);
  assert.ok(existsSync(join(d, 'archive', 'prices', '2025-03-10', 'p.csv')));
  assert.ok(existsSync(join(d, 'archive', 'prices', 'not-a-day')));
});
