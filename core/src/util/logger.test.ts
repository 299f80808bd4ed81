import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeLogger, createLogger, silentLogger } from './logger.js';

/** the file's lines once it has `n` (a plain log.file is an async write stream), or a failure after 5 s */
async function lines(file: string, n: number): Promise<string[]> {
  const until = Date.now() + 5000;
  for (;;) {
    const got = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
    if (got.length >= n) return got;
    if (Date.now() > until) assert.fail(`${file}: ${got.length} of ${n} lines after 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('createLogger makes nothing until a line at its level is written; then it is pino with redaction, children included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-lazylog-'));
  const file = join(dir, 'cfx.log');
  const log = createLogger({ level: 'warn', file, secrets: ['s3cret-value'] });
  log.info({ a: 1 }, 'below the level');
  log.debug('below the level');
  const child = log.child({ plugin: 'ftp' });
  child.info('below the level too');
  assert.equal(log.isLevelEnabled('info'), false);
  assert.equal(log.isLevelEnabled('error'), true);
  assert.equal(log.level, 'warn');
  assert.equal(existsSync(file), false, 'no file: nothing was written');
  child.warn({ password: 'hunter2' }, 'login with s3cret-value failed');
  log.error({ n: 2 }, 'second');
  await closeLogger(log);
  const got = (await lines(file, 2)).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(got.map((l) => [l.level, l.msg, l.plugin ?? null]), [[40, 'login with *** failed', 'ftp'], [50, 'second', null]]);
  assert.equal(got[0]!.password, '***');
});

test('a lazy logger whose level is raised later logs at the new level', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-lazylog-'));
  const file = join(dir, 'cfx.log');
  const log = createLogger({ level: 'warn', file });
  log.level = 'debug';
  log.debug('now visible');
  await closeLogger(log);
  assert.match((await lines(file, 1))[0]!, /"msg":"now visible"/);
  assert.equal(silentLogger().isLevelEnabled('fatal'), false);
});
