// The admin HTTP API served by `cfx run` (admin: in cfx.yaml), against a running terminal and the
// real vsftpd: every route's success and bad-input path, the token, the refusal to listen beyond
// loopback without one, and /metrics as Prometheus text.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Service } from '@cfx/core';
import { realServers, freshRemoteDir, ftpRootPath, onServer, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, officeClient, cfxProcess } from './helpers/deploy.js';
import { TOKEN, assertError, call, runningTerminal as runningTerminalOn, type Res, type Terminal } from './helpers/admin.js';
import { runCli } from './helpers/cli.js';
import { saleJson, SwitchableRelay } from './helpers/sales.js';

/** when this file began, in whole seconds: timestamps cfx reports for its runs come after it */
const FILE_STARTED_S = Math.floor(Date.now() / 1000);
const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;
const runningTerminal = (opts: Parameters<typeof runningTerminalOn>[1] = {}) => runningTerminalOn(env, opts);

/** a request with headers fetch() will not send (Host) */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** sale files on the server, temp names left out */
const onServerVisible = (dir: string, opts: { mayBeMissing?: boolean } = {}) => onServer(dir, env, opts).filter((n) => !n.startsWith('.'));

/** Prometheus text format 0.0.4: every sample line is `name{labels} value` */
function parseProm(text: string): { types: Map<string, string>; samples: { name: string; labels: Record<string, string>; value: number }[] } {
  const types = new Map<string, string>();
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) {
      assert.match(line, /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*/, `bad comment line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
      let lm: RegExpExecArray | null;
      let consumed = 0;
      while ((lm = LABEL.exec(m[3])) !== null) {
        labels[lm[1]!] = lm[2]!;
        consumed = LABEL.lastIndex;
      }
      assert.equal(consumed, m[3].length, `bad labels in: ${line}`);
    }
    const value = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    assert.ok(!Number.isNaN(value) || m[4] === 'NaN', `bad value in: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}

const PRICES = 'code;barcodes;name;price\n1;4820000000011;Квиток дорослий;350,00\n2;4820000000028;Квиток дитячий;175,00\n3;;Кава американо;45,50\n';

describe('admin API (cfx run with admin:, real vsftpd)', { skip, timeout: 180_000 }, () => {
  let t: Terminal;
  let office: ReturnType<typeof officeClient>;
  before(async () => {
    t = await runningTerminal();
    office = officeClient(env);
  });
  after(async () => {
    await t?.stop();
    await office?.close();
  });

  it('GET /api/status is the data of `cfx status --json`', async () => {
    await office.drop(t.inbox, 'prices-001.csv', PRICES);
    const st = await until('the price file applied', async () => {
      const r = await call(t, 'GET', '/api/status');
      return r.json?.catalog?.lastFile ? r.json : undefined;
    });
    assert.equal(st.role, 'terminal');
    assert.equal(st.terminal, 'box-1');
    assert.equal(st.catalog.products, 3);
    assert.equal(st.catalog.lastFile.name, 'prices-001.csv');
    assert.deepEqual(st.sales, { pending: 0, shiftClosesPending: 0 });
    assert.equal(st.lastRuns['prices.pull'].last.result, 'ok');
    const cli = await runCli(['status', '--json', '-c', t.config], { cwd: t.dir });
    assert.equal(cli.code, 0, cli.err);
    // the plugins this process activated are active here, not in a fresh CLI process
    // (the status file may be written again between the two reads)
    const noStates = (s: any) => ({ ...s, statusFile: undefined, plugins: s.plugins.map((p: any) => ({ id: p.id, contributes: p.contributes })) });
    assert.deepEqual(noStates(st), noStates(cli.json()));
    assert.match(st.server, /^ftp:\/\/cfxftp:\*\*\*@/, 'the password is not served');
  });

  it('GET /api/runs and /api/runs/:id; bad input names the parameter', async () => {
    const r = await call(t, 'GET', '/api/runs?job=prices.pull&limit=5');
    assert.equal(r.status, 200);
    assert.ok(r.json.runs.length >= 1);
    const run = r.json.runs[0];
    assert.equal(run.job, 'prices.pull');
    assert.equal(run.result, 'ok');
    assert.equal(run.files, 1);
    assert.ok(run.startedAt && run.finishedAt);
    const one = await call(t, 'GET', `/api/runs/${run.id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.json, run);
    assert.equal((await call(t, 'GET', '/api/runs')).status, 200);

    assertError(await call(t, 'GET', '/api/runs?limit=0'), 400, 'CFX_E_USAGE', 'limit');
    assertError(await call(t, 'GET', '/api/runs?limit=abc'), 400, 'CFX_E_USAGE', 'limit');
    assertError(await call(t, 'GET', '/api/runs?job=../x'), 400, 'CFX_E_USAGE', 'job');
    assertError(await call(t, 'GET', '/api/runs?jobs=prices.pull'), 400, 'CFX_E_USAGE', 'jobs');
    assertError(await call(t, 'GET', '/api/runs/999999'), 404, 'CFX_E_USAGE', 'id');
    assertError(await call(t, 'GET', '/api/runs/abc'), 400, 'CFX_E_USAGE', 'id');
    assertError(await call(t, 'GET', '/api/nothing'), 404, 'CFX_E_USAGE');
  });

  it('GET /api/catalog searches by code, barcode and name prefix, page by page', async () => {
    const byBarcode = await call(t, 'GET', '/api/catalog?q=4820000000028');
    assert.equal(byBarcode.status, 200);
    assert.deepEqual(byBarcode.json.items.map((p: any) => [p.code, p.price]), [['2', '175.00']]);
    const byName = await call(t, 'GET', `/api/catalog?q=${encodeURIComponent('квиток')}`);
    // by name after code and barcode matches: "квиток дитячий" sorts before "квиток дорослий"
    assert.deepEqual(byName.json.items.map((p: any) => p.name), ['Квиток дитячий', 'Квиток дорослий']);
    assert.deepEqual((await call(t, 'GET', `/api/catalog?q=${encodeURIComponent('КВИТОК ДО')}`)).json.items.map((p: any) => p.code), ['1']);
    assert.deepEqual((await call(t, 'GET', '/api/catalog?q=3')).json.items.map((p: any) => p.code), ['3']);
    const page1 = await call(t, 'GET', '/api/catalog?limit=2');
    assert.deepEqual([page1.json.items.map((p: any) => p.code), page1.json.hasMore], [['1', '2'], true]);
    const page2 = await call(t, 'GET', '/api/catalog?limit=2&offset=2');
    assert.deepEqual([page2.json.items.map((p: any) => p.code), page2.json.hasMore], [['3'], false]);
    assert.deepEqual((await call(t, 'GET', '/api/catalog?q=zzz')).json.items, []);

    assertError(await call(t, 'GET', '/api/catalog?limit=0'), 400, 'CFX_E_USAGE', 'limit');
    assertError(await call(t, 'GET', '/api/catalog?limit=501'), 400, 'CFX_E_USAGE', 'limit');
    assertError(await call(t, 'GET', '/api/catalog?offset=-1'), 400, 'CFX_E_USAGE', 'offset');
    assertError(await call(t, 'GET', `/api/catalog?q=${'x'.repeat(201)}`), 400, 'CFX_E_USAGE', 'q');
  });

  it('POST /api/sales records like `cfx sale add`: 201 recorded, 200 duplicate, 400 naming the field, 409 on a conflicting repeat', async () => {
    const ok = await call(t, 'POST', '/api/sales', { body: saleJson(1, '2025-03-01') });
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.json, { sales: [{ saleId: 'S000001', status: 'recorded', total: '720.00' }] });
    const again = await call(t, 'POST', '/api/sales', { body: saleJson(1, '2025-03-01') });
    assert.equal(again.status, 200);
    assert.equal(again.json.sales[0].status, 'duplicate');
    // a batch, as an array: all journaled at once (S000002 on 03-01, S000003 on 03-02, ...)
    const batch = await call(t, 'POST', '/api/sales', { body: [2, 3, 4, 5].map((n) => saleJson(n, `2025-03-0${n - 1}`)) });
    assert.equal(batch.status, 201, batch.text);
    assert.deepEqual(batch.json.sales.map((s: any) => s.status), ['recorded', 'recorded', 'recorded', 'recorded']);
    // the running service uploads them at once
    await until('5 sale files on the server', () => onServerVisible(t.salesDir, { mayBeMissing: true }).length === 5 || undefined);

    const badAmount = await call(t, 'POST', '/api/sales', { body: { ...saleJson(9), lines: [{ code: '1', qty: '1', price: '350.00', amount: '35O.00' }] } });
    assertError(badAmount, 400, 'CFX_E_SALE_INVALID', 'lines[0].amount');
    assert.deepEqual(badAmount.json.error.problems, [{ field: 'lines[0].amount', message: 'must be a decimal number' }]);
    const badTotals = await call(t, 'POST', '/api/sales', { body: { ...saleJson(9), payments: [{ kind: 'cash', amount: '1.00' }] } });
    assertError(badTotals, 400, 'CFX_E_SALE_INVALID', 'payments');
    const badInBatch = await call(t, 'POST', '/api/sales', { body: [saleJson(10), { ...saleJson(11), time: '2025-03-15 10:00' }] });
    assertError(badInBatch, 400, 'CFX_E_SALE_INVALID', '[1].time');
    assertError(await call(t, 'POST', '/api/sales', { body: { ...saleJson(12), extra: 1 } }), 400, 'CFX_E_SALE_INVALID', 'extra');
    assertError(await call(t, 'POST', '/api/sales', { raw: '{"saleId": ' }), 400, 'CFX_E_SALE_INVALID', '(body)');
    assertError(await call(t, 'POST', '/api/sales', { body: 'a sale' }), 400, 'CFX_E_SALE_INVALID', '(body)');
    assert.equal((await call(t, 'POST', '/api/sales', { raw: 'saleId=1', type: 'application/x-www-form-urlencoded' })).status, 415);
    assert.equal((await call(t, 'POST', '/api/sales', { raw: '{}', type: 'text/plain' })).status, 415);
    const conflict = await call(t, 'POST', '/api/sales', { body: { ...saleJson(1, '2025-03-01'), cashier: 'someone else' } });
    assertError(conflict, 409, 'CFX_E_SALE_CONFLICT', 'saleId');
    const st = await call(t, 'GET', '/api/sales');
    assert.equal(st.json.count, 5, 'nothing of the bad calls was journaled');
  });

  it('POST /api/shifts records a shift close like `cfx shift close`: 201, 200 for the same again, 400 naming the field, 409 on a different one; uploaded at once', async () => {
    const close = { shift: 3, closedAt: '2025-03-01T20:00:00+02:00', lastReceiptNo: 5, totals: { cash: '720.00', card: '-1.50' } };
    const ok = await call(t, 'POST', '/api/shifts', { body: close });
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.json, { shift: 3, status: 'recorded', closedAt: close.closedAt, lastReceiptNo: 5, totals: { cash: '720.00', card: '-1.50' }, remoteName: 'box-1_shift-3.shift.json' });
    const again = await call(t, 'POST', '/api/shifts', { body: close });
    assert.equal(again.status, 200);
    assert.equal(again.json.status, 'duplicate');
    await until('the shift close on the server', () => onServerVisible(t.salesDir, { mayBeMissing: true }).includes('box-1_shift-3.shift.json') || undefined);
    const bad = await call(t, 'POST', '/api/shifts', { body: { ...close, shift: 4, totals: { cash: '1.001' } } });
    assertError(bad, 400, 'CFX_E_SHIFT_INVALID', 'totals.cash');
    assertError(await call(t, 'POST', '/api/shifts', { body: { ...close, shift: 4, note: 1 } }), 400, 'CFX_E_SHIFT_INVALID', 'note');
    assertError(await call(t, 'POST', '/api/shifts', { body: [close] }), 400, 'CFX_E_SHIFT_INVALID', '(body)');
    assertError(await call(t, 'POST', '/api/shifts', { body: { ...close, lastReceiptNo: 6 } }), 409, 'CFX_E_SHIFT_CONFLICT', 'shift');
  });

  it('GET /api/sales?from&to&pending counts the period; a backwards or impossible period is refused', async () => {
    const r = await call(t, 'GET', '/api/sales?from=2025-03-01&to=2025-03-02');
    assert.equal(r.status, 200);
    assert.equal(r.json.count, 3);
    assert.deepEqual(r.json.sales.map((s: any) => s.saleId), ['S000001', 'S000002', 'S000003']);
    assert.equal(r.json.total, '2160.00', '720 + 1070 + 370');
    assert.equal((await call(t, 'GET', '/api/sales?from=2025-03-01&to=2025-03-02&limit=0')).json.sales.length, 0);
    assert.equal((await call(t, 'GET', '/api/sales?from=2025-03-01&to=2025-03-02&limit=0')).json.count, 3, 'the count does not depend on the page');
    assert.equal((await call(t, 'GET', '/api/sales?pending=true')).json.count, 0, 'all uploaded');
    assert.equal((await call(t, 'GET', '/api/sales?pending=false')).json.count, 5);

    assertError(await call(t, 'GET', '/api/sales?from=2025-03-05&to=2025-03-01'), 400, 'CFX_E_USAGE', 'from');
    assertError(await call(t, 'GET', '/api/sales?from=2025-02-30'), 400, 'CFX_E_USAGE', 'from');
    const shape = await call(t, 'GET', '/api/sales?to=15.03.2025');
    assertError(shape, 400, 'CFX_E_USAGE', 'to');
    assert.match(shape.json.error.message, /to: must be a date YYYY-MM-DD/);
    assertError(await call(t, 'GET', '/api/sales?pending=maybe'), 400, 'CFX_E_USAGE', 'pending');
    assertError(await call(t, 'GET', '/api/sales?limit=-1'), 400, 'CFX_E_USAGE', 'limit');
  });

  it('POST /api/resend runs in the background: 202 with a run id; GET /api/runs/:id shows its progress; the files are on the server again', async () => {
    for (const n of onServerVisible(t.salesDir)) await office.delete(`${t.salesDir}/${n}`);
    const r = await call(t, 'POST', '/api/resend', { body: { from: '2025-03-02', to: '2025-03-03' } });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.headers.get('location'), `/api/runs/${r.json.runId}`);
    assert.deepEqual({ ...r.json, runId: 0 }, { runId: 0, from: '2025-03-02', to: '2025-03-03', total: 2 });
    const run = await until('the resend to finish', async () => {
      const x = await call(t, 'GET', `/api/runs/${r.json.runId}`);
      assert.equal(x.status, 200);
      assert.equal(x.json.job, 'sales.resend');
      assert.ok(x.json.details.progress, 'progress from the start');
      return x.json.result === 'running' ? undefined : x.json;
    });
    assert.equal(run.result, 'ok');
    assert.equal(run.files, 2);
    assert.deepEqual(run.details.progress, { done: 2, total: 2 });
    assert.deepEqual(run.details.from, '2025-03-02');
    assert.deepEqual(onServerVisible(t.salesDir), ['box-1_S000003.csv', 'box-1_S000004.csv']);

    assertError(await call(t, 'POST', '/api/resend', { body: { from: '2025-03-03', to: '2025-03-02' } }), 400, 'CFX_E_USAGE', 'from');
    assertError(await call(t, 'POST', '/api/resend', { body: { from: '2025-03-03' } }), 400, 'CFX_E_USAGE', 'to');
    assertError(await call(t, 'POST', '/api/resend', { body: { from: '3/3/2025', to: '2025-03-04' } }), 400, 'CFX_E_USAGE', 'from');
    assertError(await call(t, 'POST', '/api/resend', { body: { from: '2025-03-01', to: '2025-02-31' } }), 400, 'CFX_E_USAGE', 'to');
    assertError(await call(t, 'POST', '/api/resend', { body: { from: '2025-03-01', to: '2025-03-02', force: true } }), 400, 'CFX_E_USAGE', 'force');
    assertError(await call(t, 'POST', '/api/resend', { raw: 'from=2025-03-01' }), 400, 'CFX_E_USAGE', '(body)');
  });

  it('a second resend while one runs is refused (409); the running one reports progress as it goes', async () => {
    const many = Array.from({ length: 300 }, (_, i) => saleJson(1000 + i, '2025-04-01'));
    assert.equal((await call(t, 'POST', '/api/sales', { body: many })).status, 201);
    await until('the 300 sales uploaded', async () => ((await call(t, 'GET', '/api/sales?pending=true&limit=0')).json.count === 0 ? true : undefined), 60_000);
    const first = await call(t, 'POST', '/api/resend', { body: { from: '2025-04-01', to: '2025-04-01' } });
    assert.equal(first.status, 202);
    assert.equal(first.json.total, 300);
    const second = await call(t, 'POST', '/api/resend', { body: { from: '2025-03-01', to: '2025-03-01' } });
    assertError(second, 409, 'CFX_E_USAGE');
    assert.match(second.json.error.message, new RegExp(`already running \\(run ${first.json.runId}\\)`));
    const seen = new Set<number>();
    const run = await until(
      'the big resend to finish',
      async () => {
        const x = (await call(t, 'GET', `/api/runs/${first.json.runId}`)).json;
        seen.add(x.details.progress.done);
        return x.result === 'running' ? undefined : x;
      },
      60_000,
    );
    assert.equal(run.result, 'ok');
    assert.deepEqual(run.details.progress, { done: 300, total: 300 });
    assert.ok(seen.size >= 2, `progress moved while it ran (seen: ${[...seen].join(', ')})`);
  });

  it('GET /api/quarantine and POST /api/quarantine/:id/retry put a bad price file back through the price pull', async () => {
    await office.drop(t.inbox, 'prices-002.csv', 'code;barcodes;name;price\n7;;Чай;abc\n');
    const q = await until('the bad file in quarantine', async () => {
      const r = await call(t, 'GET', '/api/quarantine');
      assert.equal(r.status, 200);
      return r.json.files.find((f: any) => f.fileName === 'prices-002.csv');
    });
    assert.equal(q.state, 'quarantined');
    assert.equal(q.job, 'prices.pull');
    assert.equal(q.reason.field, 'price');
    assert.equal(q.remotePath, `${t.inbox}/rejected/prices-002.csv`);

    const retry = await call(t, 'POST', `/api/quarantine/${q.id}/retry`);
    assert.equal(retry.status, 200, retry.text);
    assert.deepEqual(retry.json, { id: q.id, job: 'prices.pull', fileName: 'prices-002.csv', action: 'uploaded', to: `${t.inbox}/prices-002.csv` });
    // it went through the pull again: still bad, so quarantined again as a new entry
    const again = await until('the retried file quarantined again', async () => {
      const r = await call(t, 'GET', '/api/quarantine');
      return r.json.files.find((f: any) => f.fileName === 'prices-002.csv' && f.id !== q.id);
    });
    assert.equal(again.state, 'quarantined');
    const all = (await call(t, 'GET', '/api/quarantine?state=all')).json.files;
    assert.equal(all.find((f: any) => f.id === q.id).state, 'retried');
    assert.equal((await call(t, 'GET', '/api/quarantine?state=retried')).json.files.length, 1);

    assertError(await call(t, 'POST', `/api/quarantine/${q.id}/retry`), 409, 'CFX_E_USAGE', 'id');
    assertError(await call(t, 'POST', '/api/quarantine/999999/retry'), 404, 'CFX_E_USAGE', 'id');
    assertError(await call(t, 'POST', '/api/quarantine/abc/retry'), 400, 'CFX_E_USAGE', 'id');
    assertError(await call(t, 'GET', '/api/quarantine?state=lost'), 400, 'CFX_E_USAGE', 'state');
  });

  it('GET /metrics is Prometheus text: files and bytes per job, durations, pending sales, last success, errors by code', async () => {
    const r = await call(t, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const { types, samples } = parseProm(r.text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.equal(types.get('cfx_job_files_total'), 'counter');
    assert.equal(types.get('cfx_job_bytes_total'), 'counter');
    assert.equal(types.get('cfx_exchange_duration_seconds'), 'histogram');
    assert.equal(types.get('cfx_sales_pending'), 'gauge');
    assert.equal(types.get('cfx_job_last_success_timestamp_seconds'), 'gauge');
    assert.equal(types.get('cfx_errors_total'), 'counter');
    assert.equal(value('cfx_sales_pending'), 0);
    assert.equal(value('cfx_job_files_total', { job: 'sales.resend' }), 302, 'the two resends of this process: 2 + 300 files');
    assert.ok(value('cfx_job_bytes_total', { job: 'sales.resend' })! > 302 * 100);
    assert.ok(value('cfx_job_files_total', { job: 'prices.pull' })! >= 3, 'prices-001, prices-002 twice');
    assert.equal(value('cfx_exchange_duration_seconds_count', { job: 'sales.resend' }), 2);
    assert.equal(value('cfx_exchange_duration_seconds_bucket', { job: 'sales.resend', le: '+Inf' }), 2);
    const lastOk = value('cfx_job_last_success_timestamp_seconds', { job: 'sales.resend' })!;
    assert.ok(lastOk >= FILE_STARTED_S && lastOk <= Date.now() / 1000 + 1, `the last success is one of this file's resends (${lastOk})`);
    assert.equal(value('cfx_quarantine_files'), 1);
    assert.equal(value('cfx_catalog_products'), 3);
    assert.equal(value('cfx_info', { role: 'terminal', terminal: 'box-1' }), 1);
  });

  it('the page and its parts are served; Host and Origin from elsewhere are refused', async () => {
    const page = await call(t, 'GET', '/', { headers: { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.5' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.text, /<html lang="ru">/);
    assert.match(page.text, /Повторно отправить продажи/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match((await call(t, 'GET', '/')).text, /<html lang="en">[\s\S]*Resend sales/);
    assert.match((await call(t, 'GET', '/?lang=uk')).text, /<html lang="uk">/);
    assertError(await call(t, 'GET', '/?lang=de'), 400, 'CFX_E_USAGE', 'lang');
    assert.match((await call(t, 'GET', '/app.js')).headers.get('content-type') ?? '', /javascript/);
    assert.match((await call(t, 'GET', '/app.css')).text, /\.cards/);
    assert.match((await call(t, 'GET', '/ui/cards')).text, /id="card-server"/);
    assert.match((await call(t, 'GET', '/ui/log?lang=uk')).text, /Завдання/);
    assert.match((await call(t, 'GET', '/ui/quarantine')).text, /prices-002\.csv/);

    const rebound = await rawGet(t.port, '/api/status', { host: 'attacker.example:8730' });
    assert.equal(rebound.status, 403);
    assert.equal(JSON.parse(rebound.body).error.code, 'CFX_E_USAGE');
    assert.equal((await rawGet(t.port, '/api/status', { host: `localhost:${t.port}` })).status, 200);
    const cross = await call(t, 'POST', '/api/resend', { body: { from: '2025-03-01', to: '2025-03-01' }, headers: { origin: 'http://attacker.example' } });
    assertError(cross, 403, 'CFX_E_USAGE');
  });
});

describe('admin: server reachable without a file moving', { skip, timeout: 120_000 }, () => {
  it('a terminal whose polls find nothing is reachable from its heartbeat (status, cfx status --json, the card); no run is logged', async () => {
    const t = await runningTerminal();
    try {
      const st = await until('the heartbeat', async () => {
        const r = await call(t, 'GET', '/api/status');
        return r.json?.lastContact?.['prices.pull'] ? r.json : undefined;
      });
      assert.equal(st.reachability.state, 'reachable');
      assert.equal(st.reachability.job, 'prices.pull');
      assert.equal(st.reachability.at, st.lastContact['prices.pull']);
      assert.deepEqual(st.lastRuns, {}, 'nothing moved, nothing logged');
      assert.deepEqual((await call(t, 'GET', '/api/runs')).json.runs, []);
      const cli = await runCli(['status', '--json', '-c', t.config], { cwd: t.dir });
      assert.equal(cli.code, 0, cli.err);
      assert.deepEqual(cli.json().reachability, st.reachability);
      const text = await runCli(['status', '-c', t.config], { cwd: t.dir });
      assert.match(text.out, /reachable {2}yes, last contact .* \(prices\.pull\)/);
      assert.match((await call(t, 'GET', '/ui/cards')).text, /id="card-server"[^>]*>[\s\S]*?card-server-value">reachable</);
    } finally {
      await t.stop();
    }
  });
});

describe('admin API with a token', { skip, timeout: 120_000 }, () => {
  let t: Terminal;
  before(async () => {
    t = await runningTerminal({ token: TOKEN });
  });
  after(async () => {
    await t?.stop();
  });

  it('every state-changing call needs the token; reads do not', async () => {
    for (const [path, body] of [
      ['/api/resend', { from: '2025-03-01', to: '2025-03-01' }],
      ['/api/sales', saleJson(1)],
      ['/api/shifts', { shift: 1, closedAt: '2025-03-01T20:00:00+02:00', lastReceiptNo: 1, totals: {} }],
      ['/api/quarantine/1/retry', undefined],
    ] as const) {
      const none = await call(t, 'POST', path, body !== undefined ? { body } : {});
      assertError(none, 401, 'CFX_E_USAGE', 'authorization');
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="cfx"');
      assertError(await call(t, 'POST', path, { ...(body !== undefined ? { body } : {}), token: TOKEN.slice(0, -1) + 'x' }), 401, 'CFX_E_USAGE', 'authorization');
      assertError(await call(t, 'POST', path, { ...(body !== undefined ? { body } : {}), token: TOKEN + 'x' }), 401, 'CFX_E_USAGE', 'authorization');
      assertError(await call(t, 'POST', path, { ...(body !== undefined ? { body } : {}), headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } }), 401, 'CFX_E_USAGE');
    }
    assert.equal((await call(t, 'GET', '/api/sales')).json.count, 0, 'nothing was recorded without the token');
    const sale = await call(t, 'POST', '/api/sales', { body: saleJson(1), token: TOKEN });
    assert.equal(sale.status, 201, sale.text);
    const resend = await call(t, 'POST', '/api/resend', { body: { from: '2025-03-15', to: '2025-03-15' }, token: TOKEN });
    assert.equal(resend.status, 202, resend.text);
    assertError(await call(t, 'POST', '/api/quarantine/1/retry', { token: TOKEN }), 404, 'CFX_E_USAGE', 'id');
    for (const p of ['/api/status', '/api/runs', '/api/sales', '/api/catalog', '/api/quarantine', '/metrics', '/']) assert.equal((await call(t, 'GET', p)).status, 200, p);
    assert.deepEqual((await call(t, 'GET', '/api/auth')).json, { tokenRequired: true, authorized: false });
    assert.deepEqual((await call(t, 'GET', '/api/auth', { token: TOKEN })).json, { tokenRequired: true, authorized: true });
    assert.match((await call(t, 'GET', '/')).text, /"tokenRequired":true/);
  });
});

describe('admin: where it may listen', { skip, timeout: 120_000 }, () => {
  it('cfx run refuses a non-loopback admin.listen without a token, naming admin.token, and listens nowhere', async () => {
    const port = await SwitchableRelay.freePort();
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('admin-wide'), extra: `admin: { listen: "0.0.0.0:${port}" }\n` });
    // cfxProcess's own deadline guards a hang and says so in err; no timer of this test decides anything
    const r = await cfxProcess(['run', '-c', d.config], { cwd: d.dir }).done;
    assert.equal(r.code, 2, `exit code (config invalid)\n${r.err}`);
    assert.match(r.err, /admin\.token: is required when admin\.listen is not a loopback address \(0\.0\.0\.0\)/);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/api/status`), 'nothing listens');
    const check = await runCli(['config', 'check', '-c', d.config], { cwd: d.dir });
    assert.notEqual(check.code, 0);
    assert.match(check.out + check.err, /admin\.token/);
  });

  it('the server itself refuses too when handed such a config (defence in depth), and a busy port fails the start', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('admin-guard') });
    const app = openApp(d);
    try {
      (app.config as { admin?: unknown }).admin = { listen: '0.0.0.0:1', host: '0.0.0.0', port: 1, loopback: false };
      const svc = new Service(app);
      await assert.rejects(svc.start(), (e: any) => e.code === 'CFX_E_CONFIG_INVALID' && /admin\.token/.test(e.message));
      await svc.stop();
    } finally {
      await app.close();
    }
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const d2 = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('admin-busy'), extra: `admin: { listen: "127.0.0.1:${port}" }\n` });
      // cfxProcess's own deadline guards a hang and says so in err; no timer of this test decides anything
      const r = await cfxProcess(['run', '-c', d2.config], { cwd: d2.dir }).done;
      assert.notEqual(r.code, 0);
      assert.match(r.err, new RegExp(`admin\\.listen: cannot listen on 127\\.0\\.0\\.1:${port}: 127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      busy.close();
    }
  });

  it('a price file refused for its size is retried from the server copy once the limit is raised', async () => {
    const remote = freshRemoteDir('admin-big');
    const port = await SwitchableRelay.freePort();
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: remote, extra: `admin: { listen: "127.0.0.1:${port}" }\n` });
    const base = { base: `http://127.0.0.1:${port}` };
    const office = officeClient(env);
    const withLimit = readFileSync(d.config, 'utf8').replace('prices:\n', 'prices:\n  maxFileSize: 64\n');
    writeFileSync(d.config, withLimit);
    let app = openApp(d);
    let svc = new Service(app);
    try {
      await svc.start();
      await office.drop(d.inbox, 'big.csv', PRICES);
      const q = await until('the big file in quarantine', async () => (await call(base, 'GET', '/api/quarantine')).json.files[0]);
      assert.equal(q.reason.code, 'CFX_E_FILE_TOO_LARGE');
      assert.ok(existsSync(ftpRootPath(`${d.inbox}/rejected/big.csv`, env)));
      await svc.stop();
      await app.close();
      // the admin raises the limit and restarts cfx run
      writeFileSync(d.config, withLimit.replace('  maxFileSize: 64\n', ''));
      app = openApp(d);
      svc = new Service(app);
      await svc.start();
      const r = await call(base, 'POST', `/api/quarantine/${q.id}/retry`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.action, 'moved', 'no local copy of a file refused before download: the server copy goes back');
      await until('the file applied', async () => ((await call(base, 'GET', '/api/status')).json.catalog?.products === 3 ? true : undefined));
      assert.ok(!existsSync(ftpRootPath(`${d.inbox}/rejected/big.csv`, env)));
      assert.deepEqual((await call(base, 'GET', '/api/quarantine')).json.files, []);
    } finally {
      await svc.stop();
      await app.close();
      await office.close();
    }
  });
});
