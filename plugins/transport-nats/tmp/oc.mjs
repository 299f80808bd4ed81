import { connect, consumerOpts } from 'nats';
const nc = await connect({ servers: '127.0.0.1:14222', user: 'cfx', pass: 'cfx-nats-test' });
const nc2 = await connect({ servers: '127.0.0.1:14222', user: 'cfx', pass: 'cfx-nats-test' });
const js = nc.jetstream(); const js2 = nc2.jetstream();
const bucket = 'oc' + process.pid;
const os = await js.views.os(bucket, { storage: 'memory' });
const os2 = await js2.views.os(bucket);
await os.put({ name: 'first' }, new Blob(['x']).stream());
let got = new Map(); let waiters = new Map();
const co = consumerOpts(); co.orderedConsumer(); co.deliverLastPerSubject();
co.callback((err, m) => { if (err) { console.log('err', err.message); return; } if (!m) return; const name = JSON.parse(new TextDecoder().decode(m.data)).name; got.set(name, performance.now()); waiters.get(name)?.(); });
await js.subscribe(`$O.${bucket}.M.>`, co);
const lat = [];
for (let i = 0; i < 60; i++) {
  const name = 'f' + i;
  const p = new Promise(r => waiters.set(name, r));
  const t0 = performance.now();
  await Promise.all([os2.put({ name }, new Blob([Buffer.alloc(541, 1)]).stream()), i > 0 ? os.delete('f' + (i - 1)) : null]);
  const r = await Promise.race([p.then(() => 'ok'), new Promise(r => setTimeout(() => r('STUCK'), 3000))]);
  lat.push(performance.now() - t0);
  if (r !== 'ok') console.log(i, r);
  // the terminal also deletes after applying

}
lat.sort((a, b) => a - b); console.log('p50', lat[30].toFixed(1), 'max', lat[59].toFixed(1));
await nc.close(); await nc2.close();
