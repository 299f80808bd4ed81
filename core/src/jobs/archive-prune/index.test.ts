import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromObject } from '../../config/index.js';
import { fixedClock } from '../../util/clock.js';
import { silentLogger } from '../../util/logger.js';
import { archivePruneJob } from './index.js';

it('archive.prune: "today" is the clock ref\'s, so a fixed clock moves what is old', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-prune-job-'));
  const config = configFromObject({ role: 'terminal', terminal: 'box-1', server: 'memory://x', dataDir: './data', archive: { keepDays: 10 } }, { baseDir: dir, env: {} });
  for (const day of ['2025-03-01', '2025-03-20']) mkdirSync(join(config.dataDir, 'archive', 'prices', day), { recursive: true });
  const clock = fixedClock('2025-03-25T12:00:00');
  const runner = await archivePruneJob.create({ config, clock, logger: silentLogger() });
  const ctx = { signal: new AbortController().signal, trigger: 'schedule' as const };
  const first = await runner.run(ctx);
  assert.deepEqual([first.result, first.files], ['ok', 1]);
  assert.deepEqual(readdirSync(join(config.dataDir, 'archive', 'prices')), ['2025-03-20']);
  assert.equal((await runner.run(ctx)).result, 'idle', 'nothing older than 10 days now');
  clock.set('2025-04-05T12:00:00');
  assert.deepEqual([(await runner.run(ctx)).files], [1]);
  assert.equal(existsSync(join(config.dataDir, 'archive', 'prices', '2025-03-20')), false);
});
