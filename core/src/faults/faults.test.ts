import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_POINTS, fault, faultsFromEnv, noFaults, reachedFaultPoints, setFaultHook } from './index.js';

test('no CFX_FAULT: no fault hook', () => {
  assert.equal(faultsFromEnv(undefined), noFaults);
  assert.equal(faultsFromEnv(' , '), noFaults);
});

test('a CFX_FAULT naming no known point, or a wrong action, fails at once (a typo cannot pass as "no crash happened")', () => {
  assert.throws(() => faultsFromEnv('sales.push:renamd'), /unknown fault point "sales.push:renamd"/);
  assert.throws(() => faultsFromEnv('sales.push:renamed@SIGHUP'), /after @ comes SIGKILL, SIGTERM, SIGINT/);
  assert.throws(() => faultsFromEnv('sales.push:renamed,sales.push:renamed@SIGTERM'), /named twice/);
  assert.notEqual(faultsFromEnv('sales.push:renamed, delivery:marked@SIGTERM'), noFaults);
});

test('a job reaching a point missing from FAULT_POINTS throws; a listed one goes to the hook and is remembered', () => {
  const seen: string[] = [];
  setFaultHook({ at: (p) => seen.push(p) });
  try {
    assert.throws(() => fault('sales.push:nowhere'), /not in FAULT_POINTS/);
    fault('delivery:marked');
    assert.deepEqual(seen, ['delivery:marked']);
    assert.ok(reachedFaultPoints().has('delivery:marked'));
  } finally {
    setFaultHook(undefined);
  }
});

test('every point names its job as its prefix and says what is done when it is reached', () => {
  for (const [point, { job, after }] of Object.entries(FAULT_POINTS)) {
    assert.equal(point.slice(0, point.indexOf(':')), job, point);
    assert.ok(after.length > 20, point);
  }
});
