import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobLoop } from './loop.js';
import { silentLogger } from '../util/logger.js';

it('never overlaps runs, backs off after failures and logs a repeated failure once', async () => {
  let running = 0;
  let maxRunning = 0;
  const starts: number[] = [];
  const planned: number[] = [];
  let fail = true;
  const failures: boolean[] = [];
  const loop = new JobLoop(
    'test',
    20,
    async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      starts.push(Date.now());
      planned.push(loop.plannedDelay);
      await sleep(5);
      running--;
      if (fail) throw new Error('server down');
    },
    silentLogger(),
    (_e, first) => failures.push(first),
  );
  loop.start();
  for (let i = 0; i < 10; i++) loop.nudge();
  while (starts.length < 4) await sleep(10);
  fail = false;
  while (loop.failures > 0) await sleep(10);
  await loop.stop();
  assert.equal(maxRunning, 1, 'runs never overlap');
  assert.deepEqual(failures.slice(0, 3), [true, false, false], 'the same error is reported as new only once');
  // 20 ms × 2^failures after each failed run, the plain interval once it succeeds
  assert.deepEqual(planned.slice(1, 4), [40, 80, 160]);
  assert.equal(loop.plannedDelay, 20);
});

it('a nudge runs the job again right after the current run', async () => {
  let runs = 0;
  const loop = new JobLoop('t', 60_000, async () => {
    runs++;
    await sleep(5);
  }, silentLogger());
  loop.start();
  await sleep(1);
  loop.nudge();
  while (runs < 2) await sleep(2);
  await loop.stop();
  assert.equal(runs, 2, 'the nudge, not the 60 s interval, caused the second run');
});
