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

/** waits (with a deadline) until `cond` holds */
async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(2);
  }
}

it('relaxed (a live watch): successful runs are followed by the relaxed interval; pace(), a failure and the end of relax bring back its own — a wait under way re-planned', async () => {
  const HOUR = 3_600_000;
  let runs = 0;
  let paceOn = 0;
  let failOn = 0;
  const loop = new JobLoop('t', 20, async () => {
    runs++;
    if (runs === paceOn) loop.pace();
    if (runs === failOn) throw new Error('server down');
  }, silentLogger());
  loop.relax(HOUR);
  assert.equal(loop.interval, HOUR);
  loop.start();
  await waitFor('the first run', () => runs === 1 && loop.plannedDelay === HOUR);
  // a run that saw a file still to be completed asks for the normal pace once: the next run comes by itself
  paceOn = 2;
  loop.nudge();
  await waitFor('run 3 after pace()', () => runs === 3 && loop.plannedDelay === HOUR);
  // a failed run backs off from the normal interval, not from the relaxed one
  failOn = 4;
  loop.nudge();
  await waitFor('run 5 after the failure', () => runs === 5 && loop.failures === 0 && loop.plannedDelay === HOUR);
  // the watch failed: the hour's wait under way becomes the normal interval at once
  loop.relax(undefined);
  assert.equal(loop.interval, 20);
  await waitFor('run 6 without a nudge', () => runs >= 6 && loop.plannedDelay === 20);
  // live again: a normal wait under way is not lengthened, the run after it is relaxed
  loop.relax(HOUR);
  await waitFor('run 7', () => runs >= 7 && loop.plannedDelay === HOUR);
  await loop.stop();
  // a relaxed interval is never shorter than the loop's own
  loop.relax(5);
  assert.equal(loop.interval, 20);
});
