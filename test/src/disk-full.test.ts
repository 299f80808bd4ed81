// A full disk at the till: a sale that cannot be journaled is refused with an error, never reported
// as recorded, and nothing of its batch is kept; once there is room again it is journaled and pushed.
// The terminal's data dir is a small tmpfs mounted for the test (needs root; skipped with a message
// where mounting is not allowed).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realServers, freshRemoteDir, onServer, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, openApp } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { saleJson } from './helpers/sales.js';

const servers = await realServers();
const env = servers as ServersEnv;

/** mounts a tmpfs of `size` at a new dir, or says why it cannot */
function smallDisk(size: string): { dir: string; unmount(): void } | { why: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { why: `cannot mount a tmpfs (${String((e as { stderr?: Buffer }).stderr ?? e).trim()})` };
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** writes zeros to `file` until the filesystem is full */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

const disk = 'skip' in servers ? undefined : smallDisk('16m');
const skip = 'skip' in servers ? servers.skip : disk && 'why' in disk ? `DISK-FULL TEST NOT RUN: ${disk.why}` : false;
if (typeof skip === 'string' && disk && 'why' in disk) process.stderr.write(`\n*** ${skip} ***\n\n`);

describe('a full disk at the till (tmpfs, real vsftpd)', { skip }, () => {
  const mounted = disk as { dir: string; unmount(): void };
  after(() => mounted?.unmount?.());

  it('a sale that cannot be journaled is refused (exit 1, nothing of its batch kept); a push that cannot write locally sends nothing; both go once there is room', async () => {
    const base = freshRemoteDir('full');
    const d = terminalDeployment({ server: env.ftpUrl, remoteBase: base, extra: `sales: { dir: ${base}/sales, format: csv }\n` });
    // the data dir on the small disk
    const data = join(mounted.dir, 'data');
    mkdirSync(data);
    writeFileSync(d.config, readFileSync(d.config, 'utf8').replace('dataDir: ./data', `dataDir: ${data}`));
    writeFileSync(join(d.dir, 'one.json'), JSON.stringify(saleJson(1, '2025-05-01')));
    assert.equal((await runCli(['sale', 'add', 'one.json', '-c', d.config], { cwd: d.dir })).code, 0, 'journaled while there is room');

    fill(join(mounted.dir, 'filler'));
    // nothing can be written locally (on a disk this full not even the journal's shared memory file):
    // the push fails and sends nothing, the sale stays pending
    const push = await runCli(['push', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(push.code, 1, `the push fails: ${push.out}${push.err}`);
    assert.deepEqual(onServer(`${base}/sales`, env, { mayBeMissing: true }).filter((n) => !n.startsWith('.')), [], 'no sale on the server without its local copy');

    const batch = Array.from({ length: 300 }, (_, i) => saleJson(100 + i, '2025-05-02'));
    writeFileSync(join(d.dir, 'batch.json'), JSON.stringify(batch));
    const full = await runCli(['sale', 'add', 'batch.json', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(full.code, 1, `refused on a full disk: ${full.out}${full.err}`);
    assert.doesNotMatch(full.out, /"recorded"/, 'no sale reported as recorded');
    assert.match(full.json().error.message, /full|SQLITE_FULL|ENOSPC/i);

    rmSync(join(mounted.dir, 'filler'));
    const app = openApp(d, 'ro');
    try {
      assert.deepEqual(app.store.pendingOutbox(1000).map((e) => e.saleId), ['S000001'], 'nothing of the refused batch was kept; the sale whose copy failed is still pending');
    } finally {
      await app.close();
    }
    const again = await runCli(['sale', 'add', 'batch.json', '--push', '--json', '-c', d.config], { cwd: d.dir });
    assert.equal(again.code, 0, again.err + again.out);
    assert.deepEqual([...new Set(again.json().sales.map((s: { status: string }) => s.status))], ['recorded']);
    assert.equal(again.json().pushed, 301);
    assert.equal(onServer(`${base}/sales`, env).length, 301);
  });
});
