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
});
