import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../../api/index.js';
import { MAX_REMEMBERED_UNSAFE, UnsafeNames, unsafeNamesReport } from './unsafe-names.js';

function memoryKv() {
  const m = new Map<string, string>();
  return { m, get: (k: string) => m.get(k), set: (k: string, v: string) => void m.set(k, v), delete: (k: string) => Number(m.delete(k)), increment: (k: string) => {
    const v = Number(m.get(k) ?? '0') + 1;
    m.set(k, String(v));
    return v;
  } };
}

function recordingLogger(): Logger & { warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  const l = { warnings, warn: (o: Record<string, unknown>) => void warnings.push(o), info() {}, debug() {}, error() {}, trace() {}, fatal() {}, child: () => l } as unknown as Logger & { warnings: Record<string, unknown>[] };
  return l;
}

const entries = (...names: string[]) => names.map((name) => ({ name, size: 1, type: 'file' as const }));

it('skips names that are not plain, warns once per name across polls and processes, and counts them for status', () => {
  const kv = memoryKv();
  const log = recordingLogger();
  const listing = entries('prices.csv', 'x/../../other/prices.csv', 'a\\..\\b.csv', '..', 'p\u0001.csv');
  const u = new UnsafeNames(kv, log, 'prices.pull');
  assert.deepEqual(u.filter('/in', listing).map((e) => e.name), ['prices.csv']);
  assert.deepEqual(log.warnings.map((w) => w.name), ['x/../../other/prices.csv', 'a\\..\\b.csv', '..', 'p\u0001.csv']);
  // the next poll, and a new process (a one-shot command) reading the store: no new warning
  u.filter('/in', listing);
  new UnsafeNames(kv, log, 'prices.pull').filter('/in', listing);
  assert.equal(log.warnings.length, 4);
  const report = unsafeNamesReport(kv, ['prices.pull', 'sales.collect']);
  assert.equal(report?.count, 4);
  assert.deepEqual(report?.jobs['prices.pull']?.names[0], { dir: '/in', name: 'x/../../other/prices.csv' });
  // a new one is warned about; the ones gone are forgotten, and none left is none counted
  new UnsafeNames(kv, log, 'prices.pull').filter('/in', entries('..', 'b/c'));
  assert.deepEqual(log.warnings.slice(4).map((w) => w.name), ['b/c']);
  assert.equal(unsafeNamesReport(kv, ['prices.pull'])?.count, 2);
  u.filter('/in', entries('prices.csv'));
  new UnsafeNames(kv, log, 'prices.pull').filter('/in', entries('prices.csv'));
  assert.equal(unsafeNamesReport(kv, ['prices.pull']), undefined);
  assert.equal(kv.m.size, 0);
});

it('remembers at most MAX_REMEMBERED_UNSAFE names per dir; the rest are one line, once per count', () => {
  const kv = memoryKv();
  const log = recordingLogger();
  const many = entries(...Array.from({ length: MAX_REMEMBERED_UNSAFE + 500 }, (_, i) => `../${i}`));
  const u = new UnsafeNames(kv, log, 'sales.collect');
  assert.equal(u.filter('/s', many).length, 0);
  assert.equal(log.warnings.length, MAX_REMEMBERED_UNSAFE + 1);
  u.filter('/s', many);
  assert.equal(log.warnings.length, MAX_REMEMBERED_UNSAFE + 1);
  const r = unsafeNamesReport(kv, ['sales.collect'])!;
  assert.equal(r.count, MAX_REMEMBERED_UNSAFE + 500);
  assert.equal(r.jobs['sales.collect']!.names.length, 20);
});
