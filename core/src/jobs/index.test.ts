import { it } from 'node:test';
import assert from 'node:assert/strict';
import { CORE_JOBS } from '../host/host.js';
import { FAULT_POINTS } from '../faults/index.js';
import { CORE_JOB_LOADERS } from './index.js';

const CORE_JOB_CONTRIBUTIONS = await Promise.all(Object.values(CORE_JOB_LOADERS).map((load) => load()));

// The host knows core's job ids and roles from its manifest (no job code is loaded to validate a
// config); the contributions are the truth. This keeps the two lists one.
it("the host's core jobs are exactly the contributions, with the same roles", () => {
  assert.deepEqual(
    Object.fromEntries(CORE_JOB_CONTRIBUTIONS.map((j) => [j.id, [...j.roles]])),
    Object.fromEntries(Object.entries(CORE_JOBS).map(([id, roles]) => [id, [...roles]])),
  );
});

it('every job id is unique, and every fault point belongs to a known job (or the delivery step of sales.collect)', () => {
  const ids = CORE_JOB_CONTRIBUTIONS.map((j) => j.id);
  assert.equal(new Set(ids).size, ids.length);
  const jobsOfPoints = new Set(Object.values(FAULT_POINTS).map((p) => p.job));
  for (const j of jobsOfPoints) assert.ok(ids.includes(j) || j === 'delivery', `fault points of an unknown job "${j}"`);
});

it('each loader is keyed by the id of the job it loads', async () => {
  for (const [id, load] of Object.entries(CORE_JOB_LOADERS)) assert.equal((await load()).id, id);
});
