// `cfx job list|run`: any job once from the command line, for deployments driven by the system's
// cron instead of `cfx run` — here the till's status file (status.publish) and an office-style
// resend of a period (sales.resend with params), against the real vsftpd.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realServers, freshRemoteDir, ftpRootPath, onServer, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

describe('cfx job list|run (real vsftpd)', { skip, timeout: 120_000 }, () => {
  it('lists core jobs with their roles; runs status.publish once (the status file on the server) and sales.resend with --param', async () => {
    const base = freshRemoteDir('job');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base, extra: `sales: { dir: ${base}/sales, format: csv }\nstatus: { dir: ${base}/status }\n` });

    const list = await runCli(['job', 'list', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(list.code, 0, list.err);
    const jobs = list.json().jobs as { id: string; owner: string; roles?: string[]; runsHere?: boolean }[];
    assert.deepEqual(jobs.find((j) => j.id === 'status.publish'), { id: 'status.publish', owner: 'core', roles: ['terminal'], runsHere: true });
    assert.deepEqual(jobs.find((j) => j.id === 'sales.collect'), { id: 'sales.collect', owner: 'core', roles: ['office'], runsHere: false });

    writeFileSync(join(d.dir, 'sales.json'), JSON.stringify([saleJson(1, '2026-12-05', { shift: 3, receiptNo: 7 }), saleJson(2, '2026-12-05', { shift: 3, receiptNo: 8 })]));
    const add = await runCli(['sale', 'add', 'sales.json', '--push', '-c', d.config], { cwd: d.dir });
    assert.equal(add.code, 0, add.err);
    const sent = onServer(`${base}/sales`, env);
    assert.equal(sent.length, 2);

    const st = await runCli(['job', 'run', 'status.publish', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(st.code, 0, st.err);
    assert.equal(st.json().job, 'status.publish');
    assert.deepEqual(onServer(`${base}/status`, env), ['box-1.status.json']);
    const status = JSON.parse(readFileSync(ftpRootPath(`${base}/status/box-1.status.json`, env), 'utf8')) as { format: string; terminal: string; seq: number; sales: { pending: number }; shifts: { shift: number; lastReceiptNo: number }[] };
    assert.deepEqual([status.format, status.terminal, status.seq, status.sales.pending], ['cfx.status/1', 'box-1', 1, 0]);
    assert.deepEqual(status.shifts.map((s) => [s.shift, s.lastReceiptNo]), [[3, 8]]);

    // the office removed both files; a resend of the day by hand puts them back under the same names
    for (const n of sent) await import('node:fs').then((fs) => fs.rmSync(ftpRootPath(`${base}/sales/${n}`, env)));
    const rs = await runCli(['job', 'run', 'sales.resend', '--param', 'from=2026-12-05', '--param', 'to=2026-12-05', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(rs.code, 0, rs.err);
    assert.deepEqual(onServer(`${base}/sales`, env), sent);
  });

  it('an unknown job, a job of the other role and a bad --param exit 2 with what to do', async () => {
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir('job') });
    const unknown = await runCli(['job', 'run', 'prices.pul', '-c', d.config], { cwd: d.dir });
    assert.equal(unknown.code, 2, unknown.err);
    assert.match(unknown.err, /unknown job "prices\.pul" \(available: .*prices\.pull/);
    const office = await runCli(['job', 'run', 'sales.collect', '-c', d.config], { cwd: d.dir });
    assert.equal(office.code, 2, office.err);
    assert.match(office.err, /job "sales\.collect" runs in the office role, not in this terminal config/);
    const bad = await runCli(['job', 'run', 'sales.resend', '--param', 'from', '-c', d.config], { cwd: d.dir });
    assert.equal(bad.code, 2, bad.err);
    assert.match(bad.err, /--param takes key=value, not "from"/);
  });
});
