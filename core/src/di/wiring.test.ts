// The transports ref as core wires it: a connection per job, or the app's one for a transport that
// declares capabilities.multiplexed (NATS), lent with a close() that leaves it open.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { coreServices, type Transport } from '../api/index.js';
import type { App } from '../app/app.js';
import { configFromObject } from '../config/index.js';
import { MemoryTransport } from '../testing/memory-transport.js';
import { silentLogger } from '../util/logger.js';
import { wireCore } from './wiring.js';

/** an app whose shared transport is `shared`; every newTransport() is a fresh MemoryTransport, counted */
function appWith(shared: Transport) {
  const config = configFromObject({ role: 'terminal', terminal: 'box-1', server: 'memory://wiring', dataDir: './data' }, { baseDir: '/tmp/cfx-wiring', env: {} });
  const made: Transport[] = [];
  const app = {
    config,
    logger: silentLogger(),
    transport: async () => shared,
    newTransport: async () => {
      const t = new MemoryTransport('wiring');
      made.push(t);
      return t;
    },
  } as unknown as App;
  return { transports: wireCore(app).resolve(coreServices.transports), made };
}

it('a multiplexed transport is lent to every job (calls reach it, close() leaves it open); any other gets a connection per job', async () => {
  const shared = new MemoryTransport('wiring-shared') as MemoryTransport & { capabilities?: Transport['capabilities'] };
  Object.assign(shared, { capabilities: { atomicPut: true, multiplexed: true } });
  let closed = 0;
  shared.close = async () => {
    closed++;
  };
  const lent = appWith(shared);
  const pull = await lent.transports.open('prices.pull');
  const push = await lent.transports.open('sales.push');
  await push.mkdir('/in');
  await push.write('/in/a.csv', Buffer.from('abc'));
  assert.deepEqual((await pull.list('/in')).map((e) => [e.name, e.size]), [['a.csv', 3]], 'both reach the one transport');
  await pull.close();
  await push.close();
  assert.deepEqual([lent.made.length, closed, pull.capabilities], [0, 0, { atomicPut: true, multiplexed: true }]);

  const plain = appWith(new MemoryTransport('wiring-plain'));
  const a = await plain.transports.open('prices.pull');
  const b = await plain.transports.open('sales.push');
  assert.deepEqual([plain.made.length, a === plain.made[0], b === plain.made[1]], [2, true, true]);
});
