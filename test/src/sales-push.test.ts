// Whole-system tests of the terminal's sales journal, push and resend against a real vsftpd.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { realServers, freshRemoteDir, ftpRootPath, onServer, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, officeClient, cfxProcess } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { saleJson, SwitchableRelay } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

function salesDeployment(server: string, extra = '') {
  const base = freshRemoteDir('sales');
  const d = terminalDeployment({ server, remoteBase: base, extra: `sales: { dir: ${base}/sales, format: csv }\n${extra}` });
  return { ...d, salesDir: `${base}/sales` };
}

describe('sales: journal, push, resend (real vsftpd)', { skip }, () => {
  const relays: SwitchableRelay[] = [];
  after(async () => {
    for (const r of relays) await r.down();
  });

  it('rejects a malformed sale with the field named and journals nothing', async () => {
    const d = salesDeployment(env.ftpUrl);
    const bad = [saleJson(1), { ...saleJson(2), lines: [{ code: '1', qty: '1', price: '350.00', amount: '35O.00' }] }, { ...saleJson(3), time: '2025-03-15 10:00' }];
    writeFileSync(join(d.dir, 'bad.json'), JSON.stringify(bad));
    const r = await runCli(['sale', 'add', 'bad.json', '-c', d.config], { cwd: d.dir });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /sale #2 of 3: sale S000002 rejected:\n\s+lines\[0\]\.amount: must be a decimal number/);
    const totals = { ...saleJson(4), payments: [{ kind: 'cash', amount: '100.00' }] };
    writeFileSync(join(d.dir, 'totals.json'), JSON.stringify(totals));
    const t = await runCli(['sale', 'add', 'totals.json', '-c', d.config], { cwd: d.dir });
    assert.match(t.err, /payments: lines total 720\.00 but payments total 100\.00/);
    const app = openApp(d, 'rw');
    try {
      assert.equal(app.store.countPending(), 0, 'nothing journaled');
    } finally {
      await app.close();
    }
  });

  it('500 sales recorded while the server is down are all on it afterwards, once each, byte-identical to the local copies', async () => {
    const port = await SwitchableRelay.freePort();
    const relay = new SwitchableRelay(port, { host: '127.0.0.1', port: Number(new URL(env.ftpUrl).port) });
    relays.push(relay);
    const d = salesDeployment(`ftp://cfxftp:cfxftp@127.0.0.1:${port}`);
    const sales = Array.from({ length: 500 }, (_, i) => saleJson(i + 1, `2025-03-${String(1 + (i % 20)).padStart(2, '0')}`));
    writeFileSync(join(d.dir, 'batch.json'), JSON.stringify(sales));
    const rec = await runCli(['sale', 'add', 'batch.json', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(rec.code, 0, rec.err);
    assert.equal(rec.json().sales.length, 500);
    const again = await runCli(['sale', 'add', 'batch.json', '--json', '-c', d.config], { cwd: d.dir });
    assert.deepEqual([...new Set(again.json().sales.map((s: any) => s.status))], ['duplicate'], 'recording the same sales again is a no-op');

    const down = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(down.code, 1, 'push fails while the server is down');
    assert.equal(existsSync(ftpRootPath(d.salesDir, env)), false, 'nothing reached the server, not even the sales dir');

    await relay.up();
    const up = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(up.code, 0, up.err);
    assert.equal(up.json().sent, 500);
    assert.equal(up.json().left, 0);
    const names = onServer(d.salesDir, env);
    assert.equal(names.length, 500);
    assert.deepEqual(names, sales.map((s) => `box-1_${s.saleId}.csv`).sort());
    // byte-identical to the archive copies
    const archive = join(d.dir, 'data', 'archive', 'sales');
    let compared = 0;
    for (const day of readdirSync(archive)) {
      for (const f of readdirSync(join(archive, day))) {
        assert.ok(readFileSync(join(archive, day, f)).equals(readFileSync(ftpRootPath(`${d.salesDir}/${f}`, env))), f);
        compared++;
      }
    }
    assert.equal(compared, 500);
    const body = readFileSync(ftpRootPath(`${d.salesDir}/box-1_S000007.csv`, env), 'utf8');
    assert.match(body, /Квиток дорослий/);
    assert.match(body, /^H;S000007;box-1;2025-03-07T17:07:00\+02:00;sale;7;7;Олена;;;;;;;;;720\.00\r$/m, 'sale 7: 2 adult tickets + a programme');
    const nothing = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(nothing.json().sent, 0, 'a second push sends nothing');
  });

  it('resend re-uploads exactly the sales of the period, under the same names', async () => {
    const d = salesDeployment(env.ftpUrl);
    const sales = Array.from({ length: 40 }, (_, i) => saleJson(i + 1, `2025-03-${String(1 + (i % 20)).padStart(2, '0')}`));
    writeFileSync(join(d.dir, 'batch.json'), JSON.stringify(sales));
    assert.equal((await runCli(['sale', 'add', 'batch.json', '--push', '-c', d.config], { cwd: d.dir })).code, 0);
    assert.equal(onServer(d.salesDir, env).length, 40);
    // the office collects: the server dir is emptied
    const office = officeClient(env);
    try {
      for (const n of onServer(d.salesDir, env)) await office.delete(`${d.salesDir}/${n}`);
    } finally {
      await office.close();
    }
    const dry = await runCli(['resend', '--from', '2025-03-05', '--to', '2025-03-06', '--dry-run', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(dry.json().count, 4);
    assert.deepEqual(onServer(d.salesDir, env), [], 'a dry run sends nothing');
    const r = await runCli(['resend', '--from', '2025-03-05', '--to', '2025-03-06', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(r.code, 0, r.err);
    const expected = sales.filter((s) => /2025-03-0[56]T/.test(s.time as string)).map((s) => `box-1_${s.saleId}.csv`).sort();
    assert.equal(expected.length, 4);
    assert.deepEqual(onServer(d.salesDir, env), expected);
    const bad = await runCli(['resend', '--from', '2025-03-10', '--to', '2025-03-01', '-c', d.config], { cwd: d.dir });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /backwards/);
  });

  it('a resend request dropped in the inbox is honoured by the poll and then deleted', async () => {
    const d = salesDeployment(env.ftpUrl);
    writeFileSync(join(d.dir, 'batch.json'), JSON.stringify([saleJson(1, '2025-03-01'), saleJson(2, '2025-03-02'), saleJson(3, '2025-03-03')]));
    assert.equal((await runCli(['sale', 'add', 'batch.json', '--push', '-c', d.config], { cwd: d.dir })).code, 0);
    const office = officeClient(env);
    try {
      for (const n of onServer(d.salesDir, env)) await office.delete(`${d.salesDir}/${n}`);
      await office.drop(d.inbox, 'resend-20250302-20250303.req', '');
    } finally {
      await office.close();
    }
    const r = await runCli(['pull', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(onServer(d.salesDir, env), ['box-1_S000002.csv', 'box-1_S000003.csv']);
    assert.deepEqual(onServer(d.inbox, env), [], 'the request is gone');
  });

  /**
   * A backlog of `count` sales pushed over two connections by a child cfx with CFX_FAULT=`faults`
   * (`<point>@<signal>`: the real signal, sent by the process to itself exactly at that step rather
   * than whenever a timer fires), and the checks after it.
   */
  async function interruptedPush(faults: string, count: number) {
    const d = salesDeployment(env.ftpUrl, '');
    writeFileSync(d.config, readFileSync(d.config, 'utf8').replace('format: csv }', 'format: csv, connections: 2 }'));
    const sales = Array.from({ length: count }, (_, i) => saleJson(i + 1, `2025-04-0${1 + (i % 5)}`));
    writeFileSync(join(d.dir, 'batch.json'), JSON.stringify(sales));
    assert.equal((await runCli(['sale', 'add', 'batch.json', '-c', d.config], { cwd: d.dir })).code, 0);
    const r = await cfxProcess(['push', '--json', '-c', d.config], { cwd: d.dir, env: { CFX_FAULT: faults }, deadlineMs: 60_000 }).done;
    const dayOf = new Map(sales.map((s) => [`box-1_${String(s.saleId)}.csv`, String(s.time).slice(0, 10)]));
    const names = [...dayOf.keys()].sort();
    return {
      r,
      /** the names on the server, temp names included */
      onServer: () => onServer(d.salesDir, env),
      /** every sale either whole on the server (the till's bytes under its name) or still pending (or both); returns the pending ones */
      async wholeOrPending(): Promise<Set<string>> {
        const visible = onServer(d.salesDir, env).filter((n) => !n.startsWith('.'));
        for (const n of visible) {
          const till = readFileSync(join(d.dir, 'data', 'archive', 'sales', dayOf.get(n)!, n));
          assert.ok(readFileSync(ftpRootPath(`${d.salesDir}/${n}`, env)).equals(till), `${n} on the server is the till's copy, whole`);
        }
        const app = openApp(d, 'ro');
        try {
          const pending = new Set(app.store.pendingOutbox(count).map((e) => `box-1_${e.saleId}.csv`));
          assert.deepEqual(names.filter((n) => !visible.includes(n) && !pending.has(n)), [], 'sales neither on the server nor pending');
          return pending;
        } finally {
          await app.close();
        }
      },
      /** the next push, without a signal, sends the rest: each sale on the server once, no temp name left */
      async secondPushFinishes(left: number): Promise<void> {
        const again = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
        assert.equal(again.code, 0, again.err);
        assert.deepEqual([again.json().sent, again.json().left], [left, 0]);
        assert.deepEqual(onServer(d.salesDir, env), names);
      },
    };
  }

  it('SIGTERM during cfx push of a backlog: the sale in flight is renamed and recorded, no other is started, exit 130; a second push sends the rest', async () => {
    // the signal arrives while a sale is on the server under its temp name, not yet renamed
    const p = await interruptedPush('sales.push:uploaded-temp@SIGTERM', 120);
    assert.equal(p.r.code, 130, `exit 130 after finishing the step: ${p.r.err}`);
    assert.match(p.r.err, /cfx push: interrupted by SIGTERM after the current step/);
    const j = JSON.parse(p.r.out);
    assert.ok(j.sent >= 1 && j.left > 0 && j.sent + j.left === 120, `stopped early, the sale in flight finished: ${p.r.out}`);
    assert.deepEqual(p.onServer().filter((n) => n.startsWith('.')), [], 'the sales in flight were renamed, no temp name left');
    assert.equal((await p.wholeOrPending()).size, j.left, 'every sale sent is recorded as sent');
    await p.secondPushFinishes(j.left);
  });

  it('a second signal stops cfx push at once (exit 130): every sale whole on the server or still pending; a second push sends the rest', async () => {
    // the first signal before the first upload starts, the second while that upload is between its temp name and the rename
    const p = await interruptedPush('sales.push:local-copy@SIGTERM,sales.push:uploaded-temp@SIGINT', 120);
    assert.equal(p.r.code, 130, p.r.err);
    assert.match(p.r.err, /cfx push: second signal \(SIGINT\), stopping now/);
    assert.equal(p.r.out, '', 'no result printed: it stopped at once');
    const pending = await p.wholeOrPending();
    assert.ok(pending.size > 0);
    await p.secondPushFinishes(pending.size);
  });

  it('cfx run uploads a sale at once when it is journaled, and spooled sale files too', async () => {
    const d = salesDeployment(env.ftpUrl, '');
    const spool = join(d.dir, 'spool');
    writeFileSync(d.config, readFileSync(d.config, 'utf8').replace(/sales: \{ dir: ([^,]+), format: csv \}/, `sales: { dir: $1, format: csv, spool: ./spool }`));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(spool);
    const proc = cfxProcess(['run', '-c', d.config], { cwd: d.dir });
    try {
      writeFileSync(join(d.dir, 's.json'), JSON.stringify(saleJson(77)));
      assert.equal((await runCli(['sale', 'add', 's.json', '-c', d.config], { cwd: d.dir })).code, 0);
      writeFileSync(join(spool, '.s78.json.tmp'), JSON.stringify(saleJson(78)));
      const { renameSync } = await import('node:fs');
      renameSync(join(spool, '.s78.json.tmp'), join(spool, 's78.json'));
      for (let i = 0; i < 100 && onServer(d.salesDir, env, { mayBeMissing: true }).length < 2; i++) await sleep(100);
      assert.deepEqual(onServer(d.salesDir, env), ['box-1_S000077.csv', 'box-1_S000078.csv']);
      assert.deepEqual(readdirSync(spool), [], 'the spooled file was taken');
    } finally {
      proc.child.kill('SIGTERM');
    }
    assert.equal((await proc.done).code, 0);
  });
});
