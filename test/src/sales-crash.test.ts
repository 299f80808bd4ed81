// Crash safety of the sales path, proven with SIGKILL at random points against the real vsftpd.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { realServers, freshRemoteDir, ftpRootPath, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp, cfxProcess } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = servers as ServersEnv;

/** a deterministic "random" sequence, so a failing run can be replayed */
function kills(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return 600 + (x % 1400);
  };
}

describe('sales crash safety (SIGKILL, real vsftpd)', { skip }, () => {
  it('a terminal killed again and again while pushing 600 sales ends with every sale on the server once, byte-identical', async () => {
    const base = freshRemoteDir('crash-push');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base, extra: `sales: { dir: ${base}/sales }\n` });
    const sales = Array.from({ length: 600 }, (_, i) => saleJson(i + 1, `2025-03-${String(1 + (i % 28)).padStart(2, '0')}`));
    writeFileSync(join(d.dir, 'batch.json'), JSON.stringify(sales));
    assert.equal((await runCli(['sale', 'add', 'batch.json', '-c', d.config], { cwd: d.dir })).code, 0);
    const next = kills(Number(process.env.CFX_CRASH_SEED ?? 7));
    const pendingAfterKill: number[] = [];
    for (let round = 0; round < 8; round++) {
      const p = cfxProcess(['push', '--json', '-c', d.config], { cwd: d.dir });
      const timer = setTimeout(() => p.child.kill('SIGKILL'), next());
      const r = await p.done;
      clearTimeout(timer);
      if (r.signal !== 'SIGKILL') break; // it finished before its kill: nothing left to crash
      const app = openApp(d, 'ro');
      pendingAfterKill.push(app.store.countPending());
      await app.close();
    }
    const midway = pendingAfterKill.filter((n) => n > 0 && n < 600);
    assert.ok(midway.length >= 1, `at least one push was killed mid-backlog (pending after each kill: ${pendingAfterKill.join(', ')})`);
    const last = await cfxProcess(['push', '--json', '-c', d.config], { cwd: d.dir }).done;
    assert.equal(last.code, 0, last.err);
    assert.equal(JSON.parse(last.out).left, 0);
    const dir = ftpRootPath(`${base}/sales`, env);
    const names = readdirSync(dir).sort();
    const visible = names.filter((n) => !n.startsWith('.'));
    assert.deepEqual(visible, sales.map((s) => `box-1_${s.saleId}.csv`).sort(), 'each sale exactly once under its name');
    // a kill between write and rename may leave a temp name behind; the office never takes those
    assert.ok(names.filter((n) => n.startsWith('.')).every((n) => n.endsWith('.part')));
    const app = openApp(d, 'ro');
    try {
      assert.equal(app.store.countPending(), 0);
    } finally {
      await app.close();
    }
    const archive = join(d.dir, 'data', 'archive', 'sales');
    for (const s of sales.slice(0, 50)) {
      const name = `box-1_${s.saleId}.csv`;
      const day = (s.time as string).slice(0, 10);
      assert.ok(readFileSync(join(archive, day, name)).equals(readFileSync(join(dir, name))), name);
    }
  });
});
