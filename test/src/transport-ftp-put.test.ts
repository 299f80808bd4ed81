// transport-ftp's one-call upload (writeThenRename: STOR on its own data socket, the caller's step,
// RNFR+RNTO in one write) against the real vsftpd and pure-ftpd, checked on the server's disk.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { pino } from 'pino';
import type { Transport } from '@cfx/core/api';
import { createFtpTransport } from '@cfx/transport-ftp';
import { failure } from './helpers/transport.js';
import { freshRemoteDir, ftpRootPath, onServer, realServers } from './helpers/servers.js';

const servers = await realServers();
const env = 'skip' in servers ? undefined : servers;
// these tests read and prepare the FTP root on disk
const skip = 'skip' in servers ? servers.skip : process.getuid?.() !== 0 ? 'the direct FTP tests need root (server-side files)' : false;
const logger = pino({ level: 'silent' });

const roots: string[] = [];
after(() => {
  if (env) for (const r of roots) rmSync(ftpRootPath(r, env), { recursive: true, force: true });
});

/** What each server answers where the two differ (the codes are mapped by errors.ts). */
interface Expect {
  /** STOR onto a directory */
  storOntoDir: { kind: string; ftpCode: number };
  /** RNTO into a directory that does not exist */
  rntoMissingDir: { kind: string; ftpCode: number };
}

for (const [label, url, expect] of [
  ['vsftpd', () => env!.ftpUrl, { storOntoDir: { kind: 'PermissionDenied', ftpCode: 553 }, rntoMissingDir: { kind: 'NotFound', ftpCode: 550 } }],
  ['pure-ftpd', () => env!.pureFtpdUrl, { storOntoDir: { kind: 'PermissionDenied', ftpCode: 553 }, rntoMissingDir: { kind: 'NotFound', ftpCode: 451 } }],
] as const satisfies readonly (readonly [string, () => string, Expect])[]) {
  describe(`transport-ftp writeThenRename against ${label}`, { skip }, () => {
    let t: Transport;
    let root: string;
    let disk: string;
    const p = (n: string) => `${root}/${n}`;
    before(async () => {
      root = freshRemoteDir(`ftp-put-${label}`);
      roots.push(root);
      t = createFtpTransport({ url: new URL(url()), options: {}, logger, timeoutMs: 10_000 });
      await t.mkdir(root);
      disk = ftpRootPath(root, env);
    });
    after(() => t?.close());

    it('puts the exact bytes under the target name; the temp name is gone; 200 files in a row', async () => {
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const steps: string[] = [];
      await t.writeThenRename!(p('.a.csv.part'), p('a.csv'), all, () => {
        // the bytes are complete under the temp name when the step runs, and the target is not there yet
        steps.push(`${onServer(root, env).join(',')} ${readFileSync(`${disk}/.a.csv.part`).equals(all)}`);
      });
      assert.deepEqual(steps, ['.a.csv.part true']);
      assert.deepEqual(onServer(root, env), ['a.csv']);
      assert.deepEqual(readFileSync(`${disk}/a.csv`), all);
      await t.mkdir(p('many'));
      for (let i = 0; i < 200; i++) await t.writeThenRename!(p(`many/.s${i}.part`), p(`many/s${i}.csv`), Buffer.from(`sale ${i}\r\n`), () => undefined);
      const names = onServer(`${root}/many`, env);
      assert.equal(names.length, 200);
      assert.ok(names.every((n) => /^s\d+\.csv$/.test(n)), 'no temp name left');
      assert.equal(readFileSync(`${disk}/many/s137.csv`, 'utf8'), 'sale 137\r\n');
    });

    it('replaces an existing target; an empty buffer and a 64 KiB one', async () => {
      await t.write(p('b.csv'), Buffer.from('the old, longer contents'));
      await t.writeThenRename!(p('.b.part'), p('b.csv'), Buffer.from('new'), () => undefined);
      assert.equal(readFileSync(`${disk}/b.csv`, 'utf8'), 'new');
      await t.writeThenRename!(p('.b.part'), p('b.csv'), Buffer.alloc(0), () => undefined);
      assert.equal(readFileSync(`${disk}/b.csv`).length, 0);
      const big = Buffer.alloc(64 * 1024, 0x5a);
      await t.writeThenRename!(p('.b.part'), p('b.csv'), big, () => undefined);
      assert.deepEqual(readFileSync(`${disk}/b.csv`), big);
      assert.deepEqual(onServer(root, env).filter((n) => n.startsWith('.b') || n === 'b.csv'), ['b.csv']);
    });

    it('RNTO into a missing directory: the server\'s error, the file left under its temp name, the connection usable', async () => {
      let ran = 0;
      const e = await failure(t.writeThenRename!(p('.c.part'), p('no-such-dir/c.csv'), Buffer.from('ccc'), () => void ran++));
      assert.deepEqual([e.kind, e.details.ftpCode, ran], [expect.rntoMissingDir.kind, expect.rntoMissingDir.ftpCode, 1]);
      assert.match(e.message, new RegExp(`^ftp rename ${p('.c.part')} → ${p('no-such-dir/c.csv')}: ${expect.rntoMissingDir.ftpCode} `));
      assert.equal(readFileSync(`${disk}/.c.part`, 'utf8'), 'ccc');
      await t.writeThenRename!(p('.c.part'), p('c.csv'), Buffer.from('c2'), () => undefined);
      assert.equal(readFileSync(`${disk}/c.csv`, 'utf8'), 'c2');
    });

    it('STOR refused (a directory in the way): the error, the step never run, nothing renamed', async () => {
      mkdirSync(`${disk}/.d.part`, { mode: 0o777 });
      let ran = 0;
      const e = await failure(t.writeThenRename!(p('.d.part'), p('d.csv'), Buffer.from('ddd'), () => void ran++));
      assert.deepEqual([e.kind, e.details.ftpCode, ran], [expect.storOntoDir.kind, expect.storOntoDir.ftpCode, 0]);
      assert.match(e.message, new RegExp(`^ftp write ${p('.d.part')}: ${expect.storOntoDir.ftpCode} `));
      assert.equal(existsSync(`${disk}/d.csv`), false);
      // the session stays in step: the next upload works
      await t.writeThenRename!(p('.d2.part'), p('d.csv'), Buffer.from('d2'), () => undefined);
      assert.equal(readFileSync(`${disk}/d.csv`, 'utf8'), 'd2');
    });

    it('the step throwing: no rename is sent, the bytes stay under the temp name, the error is the step\'s', async () => {
      await t.write(p('e.csv'), Buffer.from('old'));
      const mine = new Error('local copy failed');
      await assert.rejects(t.writeThenRename!(p('.e.part'), p('e.csv'), Buffer.from('eee'), () => Promise.reject(mine)), (x) => x === mine);
      assert.equal(readFileSync(`${disk}/.e.part`, 'utf8'), 'eee');
      assert.equal(readFileSync(`${disk}/e.csv`, 'utf8'), 'old', 'the target untouched');
    });

    it('aborted during the step: Aborted, no rename, the next call works (on a new connection)', async () => {
      const ac = new AbortController();
      const e = await failure(t.writeThenRename!(p('.f.part'), p('f.csv'), Buffer.from('fff'), async () => {
        ac.abort();
        await new Promise((r) => setImmediate(r));
      }, { signal: ac.signal }));
      assert.equal(e.kind, 'Aborted');
      assert.equal(readFileSync(`${disk}/.f.part`, 'utf8'), 'fff');
      assert.equal(existsSync(`${disk}/f.csv`), false);
      await t.writeThenRename!(p('.f.part'), p('f.csv'), Buffer.from('f2'), () => undefined);
      assert.equal(readFileSync(`${disk}/f.csv`, 'utf8'), 'f2');
    });
  });
}
