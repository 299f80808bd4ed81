import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TransportError, type Transport, type TransportChange } from '../api/index.js';
import { MemoryTransport } from '../testing/memory-transport.js';
import { silentLogger } from '../util/logger.js';
import type { JobLoop } from './loop.js';
import { wakeOnChanges } from './watch.js';

/** a loop that only counts its nudges */
function countingLoop(): JobLoop & { nudges: number } {
  const l = { nudges: 0, nudge() { l.nudges++; } };
  return l as unknown as JobLoop & { nudges: number };
}

/** a memory transport whose watch yields `events` per dir, then fails or waits for the abort */
function watching(events: TransportChange[], end: 'wait' | 'fail', seen: string[]): Transport {
  const t = new MemoryTransport('watch') as Transport & { watch?: Transport['watch'] };
  t.watch = async function* (dir, opts) {
    seen.push(dir);
    yield* events;
    if (end === 'fail') throw new TransportError('Unavailable', 'the link is down');
    await new Promise<void>((r) => opts.signal.addEventListener('abort', () => r(), { once: true }));
  };
  return t;
}

function capture(): { logger: ReturnType<typeof silentLogger>; warnings: string[] } {
  const warnings: string[] = [];
  const logger = silentLogger();
  const orig = logger.warn.bind(logger);
  logger.warn = ((obj: unknown, msg?: string) => {
    warnings.push(String(msg ?? obj));
    return orig(obj as object, msg);
  }) as typeof logger.warn;
  return { logger, warnings };
}

describe('wakeOnChanges', () => {
  it('nudges the loop once per new file in every watched dir, not for deletes', async () => {
    const loop = countingLoop();
    const dirs: string[] = [];
    const t = watching([{ name: 'a.csv', kind: 'put' }, { name: 'a.csv', kind: 'delete' }, { name: 'b.csv', kind: 'put' }], 'wait', dirs);
    const ac = new AbortController();
    const { logger } = capture();
    const done = wakeOnChanges({ job: 'prices.pull', transport: async () => t, dirs: ['/in/box-1', '/in/box-2'], loop, logger, signal: ac.signal });
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await done;
    assert.deepEqual(dirs.sort(), ['/in/box-1', '/in/box-2']);
    assert.equal(loop.nudges, 4);
  });

  it('does nothing for a transport without watch (FTP, SFTP): polling alone', async () => {
    const loop = countingLoop();
    const ac = new AbortController();
    await wakeOnChanges({ job: 'prices.pull', transport: async () => new MemoryTransport('nowatch'), dirs: ['/in'], loop, logger: silentLogger(), signal: ac.signal });
    assert.equal(loop.nudges, 0);
  });

  it('says once that a failed watch leaves polling alone, and stops at the signal', async () => {
    const loop = countingLoop();
    const { logger, warnings } = capture();
    const ac = new AbortController();
    const done = wakeOnChanges({ job: 'sales.collect', transport: async () => watching([{ name: 'S1.csv', kind: 'put' }], 'fail', []), dirs: ['/s'], loop, logger, signal: ac.signal });
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await done;
    assert.equal(loop.nudges, 1);
    assert.deepEqual(warnings, ['the watch for changes failed: polling only, until it works again']);
  });

  it('relaxes the loop while every dir\'s watch is live, and only then; back the moment one is not (live false, a failure, the end); a watch going live nudges once', async () => {
    const calls: (number | undefined)[] = [];
    const l = { nudges: 0, nudge() { l.nudges++; }, relax(ms: number | undefined) { calls.push(ms); } };
    const loop = l as unknown as JobLoop & { nudges: number };
    const gates = new Map<string, () => void>();
    const gate = (name: string) => new Promise<void>((r) => gates.set(name, r));
    const t = new MemoryTransport('live') as Transport & { watch?: Transport['watch'] };
    t.watch = async function* (dir, opts) {
      opts.onLive?.(true);
      if (dir === '/a') {
        await gate('a-lost');
        opts.onLive?.(false); // a lost connection: the iterable goes on
        await gate('a-back');
        opts.onLive?.(true);
        yield { name: '', kind: 'put' }; // re-synchronised
        await gate('a-fail');
        throw new TransportError('Unavailable', 'the link is down');
      }
      await new Promise<void>((r) => opts.signal.addEventListener('abort', () => r(), { once: true }));
    };
    const ac = new AbortController();
    const done = wakeOnChanges({ job: 'sales.collect', transport: async () => t, dirs: ['/a', '/b'], loop, logger: silentLogger(), signal: ac.signal, relaxMs: 30_000 });
    const step = async (name: string, want: (number | undefined)[]) => {
      for (let i = 0; i < 1000 && !gates.has(name); i++) await new Promise((r) => setImmediate(r));
      gates.get(name)!();
      for (let i = 0; i < 1000 && calls.length < want.length; i++) await new Promise((r) => setImmediate(r));
      assert.deepEqual(calls, want, name);
    };
    // both live: one dir alone does not relax the loop
    await step('a-lost', [undefined, 30_000, undefined]);
    await step('a-back', [undefined, 30_000, undefined, 30_000]);
    await step('a-fail', [undefined, 30_000, undefined, 30_000, undefined]);
    ac.abort();
    await done;
    // nudges: /a live, /b live, /a live again, its re-synchronisation
    assert.equal(l.nudges, 4);
    assert.deepEqual(calls.at(-1), undefined, 'ended: not relaxed');
  });

  it('a transport that never says its watch is live leaves the poll at its pace', async () => {
    const calls: (number | undefined)[] = [];
    const l = { nudges: 0, nudge() { l.nudges++; }, relax(ms: number | undefined) { calls.push(ms); } };
    const ac = new AbortController();
    const done = wakeOnChanges({ job: 'prices.pull', transport: async () => watching([{ name: 'p.csv', kind: 'put' }], 'wait', []), dirs: ['/in'], loop: l as unknown as JobLoop, logger: silentLogger(), signal: ac.signal, relaxMs: 30_000 });
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await done;
    assert.deepEqual([calls, l.nudges], [[], 1]);
  });
});
