// The admin API beyond loopback (admin.listen 0.0.0.0, called through 127.0.0.1 over real HTTP):
// every call, reads included, needs the token; the page comes as an empty shell; wrong tokens are
// rate-limited per address (429) and logged without the token. On loopback reads stay open.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { realServers, type ServersEnv } from './helpers/servers.js';
import { TOKEN, assertError, call, runningTerminal, type Terminal } from './helpers/admin.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

/** every call a browser, a till or monitoring makes for data */
const READS = ['/api/status', '/api/runs', '/api/runs/1', '/api/sales', '/api/catalog?q=1', '/api/quarantine', '/metrics', '/ui/cards', '/ui/log', '/ui/quarantine'];

describe('admin API beyond loopback', { skip, timeout: 120_000 }, () => {
  let t: Terminal;
  const lines: string[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    t = await runningTerminal(env, { token: TOKEN, listenHost: '0.0.0.0', logger: pino({ level: 'info' }, sink) });
  });
  after(async () => {
    await t?.stop();
  });

  it('reads without the token are 401; with it 200 (404 for a run that does not exist)', async () => {
    for (const p of READS) {
      const r = await call(t, 'GET', p);
      assertError(r, 401, 'CFX_E_USAGE', 'authorization');
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="cfx"', p);
      assert.doesNotMatch(r.text, /box-1/, `${p}: nothing of the terminal in the refusal`);
    }
    assertError(await call(t, 'GET', '/no/such/route'), 401, 'CFX_E_USAGE', 'authorization');
    assertError(await call(t, 'POST', '/api/sales', { body: saleJson(1) }), 401, 'CFX_E_USAGE', 'authorization');
    for (const p of READS) {
      const r = await call(t, 'GET', p, { token: TOKEN });
      assert.equal(r.status, p === '/api/runs/1' ? 404 : 200, `${p}: ${r.text}`);
    }
    assert.equal((await call(t, 'GET', '/api/status', { token: TOKEN })).json.terminal, 'box-1');
  });

  it('the page without the token is a shell: script and styles, no terminal, server or data', async () => {
    const shell = await call(t, 'GET', '/');
    assert.equal(shell.status, 200);
    assert.match(shell.text, /"tokenRequired":true/);
    assert.match(shell.text, /"shell":true/);
    assert.match(shell.text, /id="token-panel"/);
    assert.doesNotMatch(shell.text, /box-1|ftp:\/\/|id="card-server"/);
    assert.equal((await call(t, 'GET', '/app.js')).status, 200);
    assert.equal((await call(t, 'GET', '/app.css')).status, 200);
    assert.deepEqual((await call(t, 'GET', '/api/auth')).json, { tokenRequired: true, authorized: false });
    const full = await call(t, 'GET', '/', { token: TOKEN });
    assert.match(full.text, /"shell":false/);
    assert.match(full.text, /box-1/);
    assert.match(full.text, /id="card-server"/);
  });

  it('wrong tokens: 401 and a log line without the token; past the limit 429 for every token from that address', async () => {
    const wrong = (i: number) => `wrong-token-${i}-${'z'.repeat(20)}`;
    let i = 0;
    const tries: number[] = [];
    // the page's check of a token counts like any other call
    assert.deepEqual((await call(t, 'GET', '/api/auth', { token: wrong(i++) })).json, { tokenRequired: true, authorized: false });
    for (; i < 30; i++) {
      const r = await call(t, 'GET', '/api/status', { token: wrong(i) });
      tries.push(r.status);
      if (r.status === 429) break;
      assertError(r, 401, 'CFX_E_USAGE', 'authorization');
    }
    assert.equal(tries.at(-1), 429, `refused after some wrong tokens: ${tries.join(',')}`);
    const limited = await call(t, 'GET', '/api/status', { token: TOKEN });
    assertError(limited, 429, 'CFX_E_USAGE', 'authorization');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1, 'Retry-After');
    assertError(await call(t, 'POST', '/api/sales', { body: saleJson(1), token: TOKEN }), 429, 'CFX_E_USAGE');
    assert.equal((await call(t, 'GET', '/app.js')).status, 200, 'what needs no token is still answered');

    const logged = lines.filter((l) => l.includes('admin API: wrong token'));
    assert.equal(logged.length, i, 'one line per wrong token that was compared');
    const first = JSON.parse(logged[0]!);
    assert.equal(first.level, 40, 'a warning');
    assert.equal(first.url, '/api/auth');
    assert.match(first.ip, /127\.0\.0\.1/);
    const all = lines.join('');
    assert.ok(!all.includes('wrong-token-'), 'no presented token in any log line');
    assert.ok(!all.includes(TOKEN), 'nor the real one');
  });
});

describe('admin API on loopback keeps reads open', { skip, timeout: 60_000 }, () => {
  it('with a token configured, reads need none; wrong tokens on writes are 401 but never rate-limited', async () => {
    const t = await runningTerminal(env, { token: TOKEN });
    try {
      for (const p of ['/api/status', '/metrics', '/ui/cards']) assert.equal((await call(t, 'GET', p)).status, 200, p);
      const page = await call(t, 'GET', '/');
      assert.match(page.text, /"shell":false/);
      for (let i = 0; i < 15; i++) assertError(await call(t, 'POST', '/api/resend', { body: { from: '2025-03-01', to: '2025-03-01' }, token: `nope-${i}-0123456789abcdef` }), 401, 'CFX_E_USAGE');
      // no rate limit on loopback: every local caller is 127.0.0.1, the till included
      assert.equal((await call(t, 'POST', '/api/sales', { body: saleJson(1), token: TOKEN })).status, 201);
    } finally {
      await t.stop();
    }
  });
});
