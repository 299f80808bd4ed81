import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { CfxError, ErrorCodes } from '../api/errors.js';
import { reachabilityOf, type StatusReport } from '../cli/status.js';
import { configFromObject, isLoopbackHost, parseAdminListen } from '../config/index.js';
import { Store } from '../store/index.js';
import { APP_JS } from './assets.js';
import { bearerMatches, hostAllowed, originAllowed } from './auth.js';
import { ApiError, toApiError } from './http-errors.js';
import { LABELS, LANGS, pickLang } from './i18n.js';
import { AdminMetrics } from './metrics.js';
import { renderCards, renderPage, serverState } from './page.js';

test('the bearer token is compared whole; anything else is refused', () => {
  const t = 'a-long-admin-token-0123';
  assert.equal(bearerMatches(t, `Bearer ${t}`), true);
  assert.equal(bearerMatches(t, `bearer ${t}`), true, 'the scheme is case-insensitive');
  assert.equal(bearerMatches(t, `Bearer ${t}x`), false);
  assert.equal(bearerMatches(t, `Bearer ${t.slice(0, -1)}`), false);
  assert.equal(bearerMatches(t, t), false, 'the scheme is required');
  assert.equal(bearerMatches(t, `Basic ${t}`), false);
  assert.equal(bearerMatches(t, undefined), false);
  assert.equal(bearerMatches(t, 'Bearer '), false);
});

test('loopback hosts, Host and Origin checks', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1', '::ffff:10.0.0.1', 'localhost.evil.com']) assert.equal(isLoopbackHost(h), false, h);
  assert.deepEqual(parseAdminListen('127.0.0.1:8730'), { host: '127.0.0.1', port: 8730, loopback: true });
  assert.deepEqual(parseAdminListen('[::]:80'), { host: '::', port: 80, loopback: false });
  assert.equal(parseAdminListen('127.0.0.1:0'), undefined);
  assert.equal(parseAdminListen('127.0.0.1'), undefined);

  assert.equal(hostAllowed(true, '127.0.0.1:8730'), true);
  assert.equal(hostAllowed(true, 'localhost:8730'), true);
  assert.equal(hostAllowed(true, '[::1]:8730'), true);
  assert.equal(hostAllowed(true, 'attacker.example:8730'), false, 'DNS rebinding');
  assert.equal(hostAllowed(true, undefined), false);
  assert.equal(hostAllowed(false, 'till-7.shop.lan:8730'), true, 'a non-loopback listener has a token instead');

  assert.equal(originAllowed(undefined, '127.0.0.1:8730'), true, 'curl, a till: no Origin');
  assert.equal(originAllowed('http://127.0.0.1:8730', '127.0.0.1:8730'), true);
  assert.equal(originAllowed('http://attacker.example', '127.0.0.1:8730'), false);
  assert.equal(originAllowed('http://127.0.0.1:9999', '127.0.0.1:8730'), false, 'another port is another origin');
  assert.equal(originAllowed('null', '127.0.0.1:8730'), false);
});

test('the page language follows Accept-Language (q values too), English by default', () => {
  assert.equal(pickLang(undefined), 'en');
  assert.equal(pickLang(''), 'en');
  assert.equal(pickLang('uk'), 'uk');
  assert.equal(pickLang('uk-UA,uk;q=0.9,en-US;q=0.8'), 'uk');
  assert.equal(pickLang('ru-RU,ru;q=0.9'), 'ru');
  assert.equal(pickLang('de-DE,de;q=0.9,ru;q=0.5,uk;q=0.7'), 'uk');
  assert.equal(pickLang('en;q=0.1,ru;q=0.2'), 'ru');
  assert.equal(pickLang('de, fr'), 'en');
  assert.equal(pickLang('ua'), 'uk');
  assert.equal(pickLang('uk;q=0, ru'), 'ru', 'q=0 means "not this one"');
  // every language has every label
  for (const l of LANGS) assert.deepEqual(Object.keys(LABELS[l]).sort(), Object.keys(LABELS.en).sort(), l);
});

test('the page script is valid JavaScript and uses no template literals of the server', () => {
  assert.doesNotThrow(() => new Script(APP_JS, { filename: 'app.js' }));
  assert.ok(!APP_JS.includes('${'));
});

test('errors: the stable code, the HTTP status, and the field at fault', () => {
  assert.deepEqual(toApiError(new ApiError(404, ErrorCodes.USAGE, 'no run with id 7', 'id')), { status: 404, body: { error: { code: 'CFX_E_USAGE', message: 'no run with id 7', field: 'id' } } });
  const sale = new CfxError(ErrorCodes.SALE_INVALID, 'sale #2 of 2: ...', { details: { problems: [{ field: 'time', message: 'is required' }], index: 1 } });
  assert.deepEqual(toApiError(sale).body.error.field, '[1].time');
  assert.equal(toApiError(sale).status, 400);
  assert.equal(toApiError(new CfxError(ErrorCodes.SALE_CONFLICT, 'x')).status, 409);
  assert.equal(toApiError(new CfxError(ErrorCodes.SALE_CONFLICT, 'x')).body.error.field, 'saleId');
  assert.equal(toApiError(new CfxError(ErrorCodes.TRANSPORT_UNAVAILABLE, 'down')).status, 502);
  assert.equal(toApiError(new CfxError(ErrorCodes.STORE_IO, 'disk full')).status, 503);
  assert.deepEqual(toApiError(new Error('boom')), { status: 500, body: { error: { code: 'CFX_E_INTERNAL', message: 'boom' } } });
});

const status = (over: Partial<StatusReport>): StatusReport => ({
  role: 'terminal',
  terminal: 'box-1',
  server: 'ftp://u:***@h',
  dataDir: '/d',
  prices: { dir: '/in', format: 'csv', pollMs: 1000 },
  store: 'ok',
  plugins: [],
  ...over,
});

const run = (id: number, job: string, result: 'ok' | 'failed', message?: string) => ({
  id,
  job,
  startedAt: '2025-03-15T10:00:00.000Z',
  finishedAt: '2025-03-15T10:00:01.000Z',
  result,
  files: 1,
  bytes: 10,
  ...(message ? { error: { code: 'CFX_E_TRANSPORT_UNAVAILABLE', message } } : {}),
});

test('server reachable from the heartbeat too: an idle till that polls fine is reachable; the latest event wins', () => {
  const failedAt = (at: string) => ({ ...run(5, 'prices.pull', 'failed', 'connection refused'), startedAt: at, finishedAt: at });
  assert.deepEqual(serverState(status({ lastContact: { 'prices.pull': '2025-03-15T10:05:00.000Z' } })), { state: 'ok', value: 'reachable', at: '2025-03-15T10:05:00.000Z' });
  const failed = { 'prices.pull': { last: failedAt('2025-03-15T10:03:00.000Z'), lastOk: run(1, 'prices.pull', 'ok') } };
  assert.equal(serverState(status({ lastRuns: failed, lastContact: { 'prices.pull': '2025-03-15T10:02:00.000Z' } })).value, 'unreachable', 'heartbeat before the failure');
  assert.deepEqual(serverState(status({ lastRuns: failed, lastContact: { 'prices.pull': '2025-03-15T10:04:00.000Z' } })), { state: 'ok', value: 'reachable', at: '2025-03-15T10:04:00.000Z' });
  assert.deepEqual(reachabilityOf('terminal', failed, { 'sales.push': '2025-03-15T10:04:00.000Z' }), { state: 'reachable', at: '2025-03-15T10:04:00.000Z', job: 'sales.push' });
  assert.deepEqual(reachabilityOf('terminal', failed, { 'office.publish': '2025-03-15T10:04:00.000Z' }).state, 'unreachable', 'a job that does not reach the terminal\'s server');
  assert.deepEqual(reachabilityOf('office', {}, { 'sales.collect': '2025-03-15T10:04:00.000Z' }).state, 'reachable');
});

test('status cards: server reachable from the last exchange, problems, escaped values', () => {
  assert.equal(serverState(status({})).value, 'noExchangeYet');
  assert.equal(serverState(status({ lastRuns: { 'prices.pull': { last: run(1, 'prices.pull', 'ok'), lastOk: run(1, 'prices.pull', 'ok') } } })).value, 'reachable');
  const down = status({
    lastRuns: {
      'prices.pull': { last: run(3, 'prices.pull', 'failed', 'connection refused'), lastOk: run(1, 'prices.pull', 'ok') },
      'sales.push': { last: run(2, 'sales.push', 'ok'), lastOk: run(2, 'sales.push', 'ok') },
    },
    quarantine: { count: 2, files: [] },
    catalog: { products: 3, lastFile: { id: 1, name: '<script>x</script>.csv', size: 1, sha256: 'x', appliedAt: '2025-03-15T10:00:00.000Z', records: 3, mode: 'full', skipped: 0 } },
  });
  assert.deepEqual(serverState(down), { state: 'bad', value: 'unreachable', at: '2025-03-15T10:00:01.000Z', message: 'connection refused' });
  const html = renderCards(down, LABELS.en);
  assert.match(html, /id="card-server"[\s\S]*unreachable/);
  assert.match(html, /files in quarantine: 2; prices\.pull failed: connection refused/);
  assert.match(html, /&lt;script&gt;x&lt;\/script&gt;\.csv/);
  assert.ok(!html.includes('<script>'));
  const page = renderPage({ lang: 'uk', L: LABELS.uk, status: down, runs: [], quarantine: [], tokenRequired: true });
  assert.match(page, /<html lang="uk">/);
  assert.ok(!/<script>x/.test(page), 'the boot JSON cannot close its script element');
  // names the server listed that are not plain: counted among the problems, quoted, escaped
  const unsafe = renderCards(status({ unsafeNames: { count: 2, jobs: { 'prices.pull': { count: 2, names: [{ dir: '/in', name: 'x/../<b>.csv' }, { dir: '/in', name: 'a\u0001' }] } } } }), LABELS.en);
  assert.match(unsafe, /id="card-problems"[\s\S]*prices\.pull: 2 name\(s\) on the server skipped, not plain names: &quot;x\/\.\.\/&lt;b&gt;\.csv&quot;, &quot;a\\u0001&quot;/);
  assert.ok(!unsafe.includes('\u0001'));
});

test('metrics count the runs finished since start, per job; gauges read the store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-admin-metrics-'));
  const store = Store.open(dir);
  try {
    const before = store.startRun('prices.pull');
    store.finishRun(before, { result: 'ok', files: 9, bytes: 900 });
    const cfg = configFromObject({ role: 'terminal', terminal: 't1', server: 'ftp://h', admin: {} }, { baseDir: dir, env: {} });
    const m = new AdminMetrics(store, cfg);
    const a = store.startRun('sales.resend');
    store.finishRun(a, { result: 'ok', files: 4, bytes: 400 });
    const b = store.startRun('prices.pull');
    store.finishRun(b, { result: 'failed', error: { code: ErrorCodes.TRANSPORT_UNAVAILABLE, message: 'down' } });
    const running = store.startRun('sales.resend');
    let text = await m.text();
    assert.match(text, /^cfx_job_files_total\{job="sales\.resend"\} 4$/m);
    assert.match(text, /^cfx_job_files_total\{job="prices\.pull"\} 0$/m, 'the run before the start is not counted');
    assert.match(text, /^cfx_errors_total\{job="prices\.pull",code="CFX_E_TRANSPORT_UNAVAILABLE"\} 1$/m);
    assert.match(text, /^cfx_exchange_duration_seconds_count\{job="sales\.resend"\} 1$/m);
    assert.match(text, /^cfx_sales_pending 0$/m);
    assert.match(text, /^cfx_job_last_success_timestamp_seconds\{job="prices\.pull"\} \d+(\.\d+)?$/m);
    store.finishRun(running, { result: 'ok', files: 2, bytes: 200 });
    text = await m.text();
    assert.match(text, /^cfx_job_files_total\{job="sales\.resend"\} 6$/m, 'a run is counted once it finishes, and only once');
    text = await m.text();
    assert.match(text, /^cfx_job_files_total\{job="sales\.resend"\} 6$/m);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ApiError is a CfxError with a stable code', () => {
  const e = new ApiError(401, ErrorCodes.USAGE, 'needs the token', 'authorization');
  assert.ok(e instanceof CfxError);
  assert.equal(e.code, 'CFX_E_USAGE');
});
