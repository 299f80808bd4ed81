import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localDate } from '../app/paths.js';

const LOGGER = new URL('./logger.js', import.meta.url).href;
const LINE = 'x'.repeat(120);

/**
 * Logs `lines` lines in a child process (a real process exit, as under `cfx run`), one per event-loop
 * turn like a service's log (a burst in one synchronous loop rolls only when the loop yields).
 */
function logInChild(file: string, lines: number, rotate: object | false): void {
  const code = `
    const { createLogger } = await import(${JSON.stringify(LOGGER)});
    const log = createLogger({ file: ${JSON.stringify(file)}, rotate: ${JSON.stringify(rotate)}, secrets: ['s3cret-value'] });
    for (let i = 0; i < ${lines}; i++) {
      log.info({ i, password: 'hunter2', pad: ${JSON.stringify(LINE)} }, 'line ' + i + ' login s3cret-value');
      await new Promise((r) => setImmediate(r));
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
}

const rotated = (dir: string) => readdirSync(dir).filter((n) => /^cfx\.\d{4}-\d{2}-\d{2}\.\d+\.log$/.test(n)).sort((a, b) => num(a) - num(b));
const num = (n: string) => Number(n.split('.').at(-2));

test('log.file rotates by size, keeps keep+1 files, cfx.log links to the current one, secrets stay out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-logroll-'));
  const file = join(dir, 'logs', 'cfx.log');
  const size = 16 * 1024;
  const keep = 3;
  // ~250 bytes a line: 600 lines are ~150 KB, nine files' worth
  logInChild(file, 600, { sizeBytes: size, frequency: 'daily', keep });
  const logs = join(dir, 'logs');
  let files = rotated(logs);
  assert.ok(files.length <= keep + 1, `at most keep+1 = ${keep + 1} files, found ${files.join(', ')}`);
  assert.ok(num(files.at(-1)!) >= 8, `it rotated several times (last file ${files.at(-1)})`);
  assert.ok(files.every((n) => n.startsWith(`cfx.${localDate()}.`)), 'named by day');
  const lineMax = Math.max(...readFileSync(join(logs, files[0]!), 'utf8').trim().split('\n').map((l) => l.length + 1));
  for (const n of files.slice(0, -1)) {
    const s = statSync(join(logs, n)).size;
    assert.ok(s >= size && s <= size + lineMax, `${n}: ${s} bytes, rotated at the first line past ${size}`);
  }
  assert.ok(lstatSync(file).isSymbolicLink(), 'cfx.log is a link');
  assert.equal(readlinkSync(file), files.at(-1), 'to the current file');
  const last = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { i: number; password: string; msg: string });
  assert.equal(last.at(-1)!.i, 599, 'the last line is in the current file');
  const all = files.map((n) => readFileSync(join(logs, n), 'utf8')).join('');
  assert.ok(!all.includes('hunter2') && !all.includes('s3cret-value'), 'redaction and scrubbing work in rotated files');
  assert.equal(last.at(-1)!.password, '***');
  assert.match(last.at(-1)!.msg, /login \*\*\*/);

  // a restart goes on from the newest file, and retention counts the earlier run's files
  logInChild(file, 200, { sizeBytes: size, frequency: 'daily', keep });
  files = rotated(logs);
  assert.ok(files.length <= keep + 1, `after a restart still at most ${keep + 1}: ${files.join(', ')}`);
  assert.equal(readlinkSync(file), files.at(-1));
});

test('a plain log file from before joins the rotation (and is deleted in turn), rotate:false appends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-logroll-'));
  const file = join(dir, 'cfx.log');
  writeFileSync(file, '{"msg":"from an older cfx"}\n');
  logInChild(file, 5, { sizeBytes: 1024 * 1024, frequency: 'daily', keep: 2 });
  assert.deepEqual(rotated(dir), [`cfx.${localDate()}.0.log`, `cfx.${localDate()}.1.log`]);
  assert.match(readFileSync(join(dir, `cfx.${localDate()}.0.log`), 'utf8'), /older cfx/);

  const plainDir = join(dir, 'plain');
  mkdirSync(plainDir);
  const plain = join(plainDir, 'cfx.log');
  logInChild(plain, 3, false);
  logInChild(plain, 3, false);
  assert.deepEqual(readdirSync(plainDir), ['cfx.log']);
  assert.equal(readFileSync(plain, 'utf8').trim().split('\n').length, 6);
});
