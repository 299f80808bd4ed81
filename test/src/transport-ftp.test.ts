// @cfx/transport-ftp against a real vsftpd (plain FTP and explicit FTPS), checked on the server's disk too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { pino } from 'pino';
import type { Transport } from '@cfx/core/api';
import { describeTransportConformance } from '@cfx/core/testing';
import { createFtpTransport, type FtpTransportOptions } from '@cfx/transport-ftp';
import { readAll, failure } from './helpers/transport.js';
import { freshRemoteDir, ftpRootPath, realServers, sessionPids } from './helpers/servers.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : false;
const env = 'skip' in servers ? undefined : servers;
// the direct tests read and write the FTP root on disk and signal vsftpd sessions
const skipDirect = skip || (process.getuid?.() !== 0 ? 'the direct vsftpd tests need root (server-side files and signals)' : false);
const logger = pino({ level: 'silent' });

function ftp(url: string | undefined, options: FtpTransportOptions = {}, timeoutMs = 10_000): Transport {
  return createFtpTransport({ url: new URL(url ?? 'ftp://unused'), options: options as Record<string, unknown>, logger, timeoutMs });
}
const ftps = (options: FtpTransportOptions = {}, timeoutMs?: number) => ftp(env?.ftpsUrl, { tls: { ca: env?.ftpsCa }, ...options }, timeoutMs);



const roots: string[] = [];
function fresh(label: string): string {
  const d = freshRemoteDir(`ftp-${label}`);
  roots.push(d);
  return d;
}
after(() => {
  if (env) for (const r of roots) rmSync(ftpRootPath(r, env), { recursive: true, force: true });
});

// ---------- the shared conformance suite ----------
describeTransportConformance('ftp (vsftpd)', { create: () => ftp(env?.ftpUrl), root: fresh('conf'), skip });
describeTransportConformance('ftps (vsftpd, explicit TLS, test CA)', { create: () => ftps(), root: fresh('conf-tls'), skip, largeBytes: 4 * 1024 * 1024 });
describeTransportConformance('ftp (vsftpd, encoding cp1251)', { create: () => ftp(env?.ftpUrl, { encoding: 'cp1251' }), root: fresh('conf-1251'), skip, largeBytes: 1024 * 1024 });
// pure-ftpd answers MLSD (basic-ftp then lists with it instead of LIST) and hides dot files
describeTransportConformance('ftp (pure-ftpd, MLSD)', { create: () => ftp(env?.pureFtpdUrl), root: fresh('conf-pure'), skip });
// the other listing mode of each (auto = STAT on vsftpd, MLSD on pure-ftpd)
describeTransportConformance('ftp (vsftpd, listing: list)', { create: () => ftp(env?.ftpUrl, { listing: 'list' }), root: fresh('conf-list'), skip });
describeTransportConformance('ftps (vsftpd, explicit TLS, listing: list)', { create: () => ftps({ listing: 'list' }), root: fresh('conf-tls-list'), skip, largeBytes: 1024 * 1024 });
describeTransportConformance('ftp (pure-ftpd, listing: stat)', { create: () => ftp(env?.pureFtpdUrl, { listing: 'stat' }), root: fresh('conf-pure-stat'), skip });

/** PIDs of the vsftpd processes serving this transport's control connection (and no other). */
function sessionPidsOf(t: Transport, serverUrl: string): number[] {
  // the control socket is private; tests may look, nothing else does
  const port = (t as unknown as { client?: { ftp: { socket: { localPort?: number } } } }).client?.ftp.socket.localPort;
  assert.ok(port, 'the transport has an open control connection');
  return sessionPids(serverUrl, port);
}

describe('transport-ftp against vsftpd', { skip: skipDirect }, () => {
  let t: Transport;
  let root: string;
  const p = (n: string) => `${root}/${n}`;
  const disk = (n: string) => ftpRootPath(p(n), env);

  before(async () => {
    root = fresh('direct');
    t = ftp(env!.ftpUrl);
    await t.mkdir(root);
  });
  after(() => t?.close());

  it('round-trips all 256 byte values, byte-exact on the server disk', async () => {
    const data = Buffer.from(Array.from({ length: 256 * 3 }, (_, i) => (i * 7) % 256));
    assert.equal(await t.write(p('all.bin'), data), data.length);
    assert.ok(readFileSync(disk('all.bin')).equals(data), 'server disk has the exact bytes (binary mode, no CRLF games)');
    assert.ok((await readAll(t.read(p('all.bin')))).equals(data));
    const crlf = Buffer.from('a\r\nb\nc\r');
    await t.write(p('crlf.txt'), crlf);
    assert.ok(readFileSync(disk('crlf.txt')).equals(crlf), 'line ends untouched');
  });

  it('Cyrillic file names in cp1251: the bytes on the server are cp1251, both ways', async () => {
    const t1251 = ftp(env!.ftpUrl, { encoding: 'cp1251' });
    try {
      const dir = 'каталог-1251';
      const name = 'Ціни №1 Ёё ґ.csv';
      await t1251.mkdir(p(dir));
      await t1251.write(p(`${dir}/${name}`), Buffer.from('Квиток;350,00'));
      const onDisk = readdirSync(ftpRootPath(root, env), { encoding: 'buffer' }).map((b) => b.toString('hex'));
      assert.ok(onDisk.includes(iconv.encode(dir, 'win1251').toString('hex')), 'directory name is cp1251 on disk');
      const files = readdirSync(Buffer.from(ftpRootPath(root, env) + '/' + iconv.encode(dir, 'win1251').toString('latin1'), 'latin1'), { encoding: 'buffer' });
      assert.deepEqual(files.map((b) => b.toString('hex')), [iconv.encode(name, 'win1251').toString('hex')]);
      assert.deepEqual((await t1251.list(p(dir))).map((e) => e.name), [name]);
      assert.equal((await readAll(t1251.read(p(`${dir}/${name}`)))).toString(), 'Квиток;350,00');
      // a file the back office dropped on the server by itself, named in cp1251
      const dirOnDisk = Buffer.concat([Buffer.from(ftpRootPath(root, env) + '/'), iconv.encode(dir, 'win1251')]);
      writeFileSync(Buffer.concat([dirOnDisk, Buffer.from('/'), iconv.encode('Товари.xml', 'win1251')]), 'x');
      assert.deepEqual((await t1251.list(p(dir))).map((e) => e.name).sort(), ['Товари.xml', name].sort());
      await t1251.rename(p(`${dir}/Товари.xml`), p(`${dir}/Товари-old.xml`));
      await t1251.delete(p(`${dir}/Товари-old.xml`));
    } finally {
      await t1251.close();
    }
  });

  it('Cyrillic file names in utf8: the bytes on the server are utf8', async () => {
    const name = 'Прайс Ёё №2.csv';
    await t.mkdir(p('каталог-utf8'));
    await t.write(p(`каталог-utf8/${name}`), Buffer.from('ok'));
    assert.deepEqual(readdirSync(disk('каталог-utf8'), { encoding: 'buffer' }).map((b) => b.toString('hex')), [Buffer.from(name).toString('hex')]);
    assert.deepEqual((await t.list(p('каталог-utf8'))).map((e) => e.name), [name]);
  });

  it('rename replaces an existing target', async () => {
    await t.write(p('target.csv'), Buffer.from('old'));
    await t.write(p('.target.csv.part'), Buffer.from('new contents'));
    await t.rename(p('.target.csv.part'), p('target.csv'));
    assert.equal(readFileSync(disk('target.csv'), 'utf8'), 'new contents');
    assert.deepEqual(readdirSync(ftpRootPath(root, env)).filter((n) => n.includes('target')), ['target.csv']);
    // the temp name shows in listings while it exists (LIST -a), so the read side can skip it
    await t.write(p('.x.part'), Buffer.from('1'));
    assert.ok((await t.list(root)).some((e) => e.name === '.x.part'));
  });

  it('mkdir creates parents, accepts an existing dir, and refuses when a file is in the way', async () => {
    await t.mkdir(p('m/a/b/c'));
    await t.mkdir(p('m/a/b/c'));
    await t.mkdir(p('m/a') + '/');
    assert.ok(statSync(disk('m/a/b/c')).isDirectory());
    await t.write(p('m/file'), Buffer.from('x'));
    const e = await failure(t.mkdir(p('m/file/sub')));
    assert.equal(e.kind, 'PermissionDenied');
    assert.match(e.message, /mkdir .*m\/file\/sub/);
  });

  it('lists a directory of 1000 files with names, sizes, types and minute-precision mtimes', async () => {
    const dir = disk('thousand');
    mkdirSync(dir);
    for (let i = 0; i < 1000; i++) writeFileSync(`${dir}/f${String(i).padStart(4, '0')} name.csv`, 'x'.repeat(i % 50));
    const entries = await t.list(p('thousand'));
    assert.equal(entries.length, 1000);
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (let i = 0; i < 1000; i += 37) {
      const e = byName.get(`f${String(i).padStart(4, '0')} name.csv`);
      assert.ok(e, `entry ${i}`);
      assert.equal(e.type, 'file');
      assert.equal(e.size, i % 50);
      assert.ok(e.mtime && Math.abs(e.mtime.getTime() - Date.now()) < 5 * 60_000, `mtime ${e.mtime?.toISOString()} is about now`);
    }
  });

  it('NotFound for a missing file or directory, and the connection stays usable', async () => {
    assert.equal((await failure(readAll(t.read(p('nope.csv'))))).kind, 'NotFound');
    assert.equal((await failure(t.delete(p('nope.csv')))).kind, 'NotFound');
    assert.equal((await failure(t.list(p('no-dir')))).kind, 'NotFound');
    assert.equal((await failure(t.rename(p('nope.csv'), p('x.csv')))).kind, 'NotFound');
    const e = await failure(t.list(p('no-dir/deeper')));
    assert.equal(e.path, p('no-dir/deeper'));
    assert.match(e.message, /no-dir\/deeper: 550/);
    await t.write(p('after.txt'), Buffer.from('ok'));
  });

  it('concurrent calls on one transport all succeed (one mutex per connection)', async () => {
    await t.write(p('c0.txt'), Buffer.from('zero'));
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const results = await Promise.all([
      t.write(p('c1.bin'), big),
      t.list(root),
      readAll(t.read(p('c0.txt'))),
      t.mkdir(p('c-dir/x')),
      t.write(p('c2.txt'), Readable.from([Buffer.from('two')])),
      readAll(t.read(p('c1.bin'))),
    ]);
    assert.equal(results[0], big.length);
    assert.equal((results[2] as Buffer).toString(), 'zero');
    assert.equal(results[4], 3);
    assert.ok((results[5] as Buffer).equals(big));
  });

  it('reconnects after the control connection was dropped under it', async () => {
    await t.list(root);
    const sock = (t as unknown as { client: { ftp: { socket: { destroy(): void } } } }).client.ftp.socket;
    sock.destroy();
    assert.ok((await t.list(root)).length > 0);
    await t.write(p('after-drop.txt'), Buffer.from('ok'));
    assert.equal(readFileSync(disk('after-drop.txt'), 'utf8'), 'ok');
  });

  it('reconnects (one transparent retry for list) when the server process dies while the connection is idle', async () => {
    await t.list(root);
    const pids = sessionPidsOf(t, env!.ftpUrl);
    assert.ok(pids.length > 0, 'found the vsftpd session');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    // same tick: the client has not seen the FIN yet and sends on a dead connection
    const entries = await t.list(root);
    assert.ok(entries.some((e) => e.name === 'after.txt'));
    await t.write(p('after-kill.txt'), Buffer.from('ok'));
  });

  it('a server that stops answering becomes Timeout; the next call reconnects', async () => {
    const slow = ftp(env!.ftpUrl, {}, 700);
    try {
      await slow.list(root);
      const pids = sessionPidsOf(slow, env!.ftpUrl);
      for (const pid of pids) process.kill(pid, 'SIGSTOP');
      try {
        const e = await failure(slow.list(root));
        assert.equal(e.kind, 'Timeout', 'the 700 ms deadline ended the call to the stopped session');
        assert.ok(e.retryable);
      } finally {
        for (const pid of pids) process.kill(pid, 'SIGKILL');
      }
      assert.ok((await slow.list(root)).length > 0, 'reconnected');
    } finally {
      await slow.close();
    }
  });

  it('a reader that stops early frees the connection for the next call', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 1);
    await t.write(p('big.bin'), big);
    const s = t.read(p('big.bin'));
    for await (const _ of s) break; // destroys the stream after the first chunk
    assert.ok((await t.list(root)).some((e) => e.name === 'big.bin'));
  });

  it('keepAliveMs sends NOOP while idle, stops after close; traces never show the password', async () => {
    const lines: string[] = [];
    const traced = pino({ level: 'trace' }, { write: (l: string) => void lines.push(l) });
    const u = new URL(env!.ftpUrl);
    const k = createFtpTransport({ url: u, options: { keepAliveMs: 100, password: 'cfxftp' }, logger: traced, timeoutMs: 5000 });
    await k.list(root);
    await new Promise((r) => setTimeout(r, 450));
    const noops = () => lines.filter((l) => l.includes('> NOOP')).length;
    assert.ok(noops() >= 2, `NOOPs sent while idle: ${noops()}`);
    await k.close();
    const after = noops();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(noops(), after, 'no NOOP after close');
    assert.ok(lines.some((l) => l.includes('PASS ###')), 'basic-ftp output reaches logger.trace');
    assert.ok(!lines.some((l) => l.includes(`PASS ${u.password}`)));
  });

  it('wrong password: PermissionDenied, and the password is nowhere in the error', async () => {
    const u = new URL(env!.ftpUrl);
    u.password = 'Wr0ng-S3cret';
    const bad = ftp(u.toString());
    const e = await failure(bad.list('/'));
    assert.equal(e.kind, 'PermissionDenied');
    assert.match(e.message, /530/);
    assert.ok(!JSON.stringify({ m: e.message, s: e.stack, d: e.details, c: String((e.cause as Error)?.message) }).includes('Wr0ng-S3cret'));
    await bad.close();
  });

  it('FTPS with the test CA works and the data is encrypted end to end', async () => {
    const s = ftps();
    try {
      await s.write(p('tls.txt'), Buffer.from('over TLS'));
      assert.equal(readFileSync(disk('tls.txt'), 'utf8'), 'over TLS');
      assert.equal((await readAll(s.read(p('tls.txt')))).toString(), 'over TLS');
      const sock = (s as unknown as { client: { ftp: { socket: { encrypted?: boolean } } } }).client.ftp.socket;
      assert.equal(sock.encrypted, true, 'control connection is TLS');
    } finally {
      await s.close();
    }
  });

  it('FTPS without the CA is refused with a clear error', async () => {
    const s = ftp(env!.ftpsUrl);
    const e = await failure(s.list('/'));
    assert.equal(e.kind, 'HostKey');
    assert.ok(!e.retryable);
    assert.match(e.message, /certificate/i);
    assert.match(e.message, /tls\.ca/);
    await s.close();
  });

  it('FTPS checks the name: a CA-signed certificate for another name is refused', async () => {
    const s = ftps({ tls: { ca: env!.ftpsCa, servername: 'files.example.com' } });
    assert.equal((await failure(s.list('/'))).kind, 'HostKey');
    await s.close();
  });

  it('FTPS with verification explicitly off connects, and warns once in the log', async () => {
    const lines: Array<{ level: number; msg: string; server?: string }> = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    // no CA given: with verification on this is the "not trusted" refusal above
    const s = createFtpTransport({ url: new URL(env!.ftpsUrl), options: { tls: { rejectUnauthorized: false } }, logger: log, timeoutMs: 10_000 });
    try {
      const root = fresh('tls-off');
      await s.mkdir(root);
      await s.write(`${root}/a.csv`, Buffer.from('1;Квиток;350,00'));
      assert.equal(readFileSync(ftpRootPath(`${root}/a.csv`, env), 'utf8'), '1;Квиток;350,00');
    } finally {
      await s.close();
    }
    const warnings = lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.match(warnings[0]!.msg, /certificate verification is OFF \(tls\.rejectUnauthorized: false\)/);
    assert.equal(warnings[0]!.server, 'ftps://cfxftp@127.0.0.1:2990');
  });

  it('plain FTP to a server that requires TLS is refused as PermissionDenied', async () => {
    const u = new URL(env!.ftpsUrl);
    const s = ftp(`ftp://${u.username}:${u.password}@${u.host}`);
    const e = await failure(s.list('/'));
    assert.equal(e.kind, 'PermissionDenied');
    assert.match(e.message, /encryption/);
    await s.close();
  });
});

describe('transport-ftp against pure-ftpd (MLSD)', { skip: skipDirect }, () => {
  let t: Transport;
  let root: string;
  before(async () => {
    root = fresh('pure');
    t = ftp(env!.pureFtpdUrl);
    await t.mkdir(root);
  });
  after(() => t?.close());

  it('lists with MLSD: sizes and mtimes to the second, as on the server disk', async () => {
    const dir = ftpRootPath(root, env);
    // times a LIST line cannot carry: seconds, and a year-old date LIST shows without its time
    const times = [new Date('2026-03-15T10:20:37Z'), new Date('2025-01-02T03:04:05Z')];
    writeFileSync(`${dir}/prices.csv`, 'x'.repeat(1234));
    writeFileSync(`${dir}/old.csv`, 'y'.repeat(7));
    const { utimesSync } = await import('node:fs');
    utimesSync(`${dir}/prices.csv`, times[0]!, times[0]!);
    utimesSync(`${dir}/old.csv`, times[1]!, times[1]!);
    mkdirSync(`${dir}/sub`);
    const byName = new Map((await t.list(root)).map((e) => [e.name, e]));
    assert.deepEqual([...byName.keys()].sort(), ['old.csv', 'prices.csv', 'sub']);
    assert.equal(byName.get('prices.csv')!.size, 1234);
    assert.equal(byName.get('prices.csv')!.mtime?.toISOString(), '2026-03-15T10:20:37.000Z');
    assert.equal(byName.get('old.csv')!.mtime?.toISOString(), '2025-01-02T03:04:05.000Z');
    assert.equal(byName.get('sub')!.type, 'dir');
  });

  it('an upload under a dot name shows in MLSD listings until its rename (readers skip it), then only the final name', async () => {
    const dir = `${root}/up`;
    await t.mkdir(dir);
    await t.write(`${dir}/.s1.json.part`, Buffer.from('{"saleId":"s1"}'));
    // MLSD lists dot files whatever the server's LIST does: the read side must skip them itself
    assert.deepEqual((await t.list(dir)).map((e) => [e.name, e.size]), [['.s1.json.part', 15]]);
    await t.rename(`${dir}/.s1.json.part`, `${dir}/s1.json`);
    assert.deepEqual((await t.list(dir)).map((e) => [e.name, e.size]), [['s1.json', 15]]);
    assert.deepEqual(readdirSync(ftpRootPath(dir, env)), ['s1.json']);
  });
});

/** A transport whose trace shows the listing commands it sent (STAT, LIST, MLSD; EPSV = a data connection). */
function tracedFtp(url: string, options: FtpTransportOptions): { t: Transport; sent: () => string[] } {
  const lines: string[] = [];
  const traced = pino({ level: 'trace' }, { write: (l: string) => void lines.push(String(JSON.parse(l).ftp ?? '')) });
  const t = createFtpTransport({ url: new URL(url), options: options as Record<string, unknown>, logger: traced, timeoutMs: 10_000 });
  const sent = () => lines.flatMap((l) => l.split('\n')).filter((l) => /^> (STAT|LIST|MLSD|EPSV|PASV)\b/.test(l)).map((l) => l.slice(2).split(' ')[0]!);
  return { t, sent };
}

for (const mode of ['stat', 'list'] as const) {
  describe(`transport-ftp listing: ${mode} against vsftpd (plain and FTPS)`, { skip: skipDirect }, () => {
    let root: string;
    const disk = (n: string) => ftpRootPath(`${root}/${n}`, env);
    before(() => {
      root = fresh(`listing-${mode}`);
      mkdirSync(ftpRootPath(root, env), { recursive: true });
    });

    it('an empty dir, a missing dir (NotFound), a dir with spaces; STAT needs no data connection', async () => {
      mkdirSync(disk('empty'));
      mkdirSync(disk('a dir with spaces'));
      writeFileSync(disk('a dir with spaces/f 1.csv'), '123');
      writeFileSync(disk('a dir with spaces/g.csv'), '');
      mkdirSync(disk('plain'));
      writeFileSync(disk('plain/p.csv'), 'x'.repeat(42));
      for (const url of [env!.ftpUrl, env!.ftpsUrl]) {
        const { t, sent } = tracedFtp(url, { listing: mode, ...(url === env!.ftpsUrl ? { tls: { ca: env!.ftpsCa } } : {}) });
        try {
          assert.deepEqual(await t.list(`${root}/empty`), []);
          const e = await failure(t.list(`${root}/missing`));
          assert.equal(e.kind, 'NotFound');
          assert.match(e.message, /missing: 550/);
          assert.deepEqual((await t.list(`${root}/plain`)).map((x) => [x.name, x.size, x.type]), [['p.csv', 42, 'file']]);
          assert.deepEqual((await t.list(`${root}/a dir with spaces`)).map((x) => [x.name, x.size]).sort(), [['f 1.csv', 3], ['g.csv', 0]]);
          // a path with a space goes by LIST in both modes (pure-ftpd reads STAT's words apart)
          assert.deepEqual(sent(), mode === 'stat' ? ['STAT', 'STAT', 'STAT', 'EPSV', 'LIST'] : Array(4).fill(['EPSV', 'LIST']).flat());
        } finally {
          await t.close();
        }
      }
    });

    it('5,000 entries: every name and size', async () => {
      mkdirSync(disk('many'));
      for (let i = 0; i < 5000; i++) writeFileSync(disk(`many/goods-${String(i).padStart(5, '0')}-${'n'.repeat(i % 40)}.csv`), 'y'.repeat(i % 97));
      const t = ftp(env!.ftpUrl, { listing: mode });
      try {
        const entries = await t.list(`${root}/many`);
        assert.equal(entries.length, 5000);
        const got = new Map(entries.map((x) => [x.name, x.size]));
        for (let i = 0; i < 5000; i++) assert.equal(got.get(`goods-${String(i).padStart(5, '0')}-${'n'.repeat(i % 40)}.csv`), i % 97, `entry ${i}`);
        // the connection is in step after the big reply
        assert.deepEqual(await t.list(`${root}/empty`), []);
      } finally {
        await t.close();
      }
    });

    it('hostile names (a line break and a fake end line, a CR, leading digits and spaces): nothing hidden, nothing invented, replies stay in step', async () => {
      mkdirSync(disk('hostile'));
      chmodSync(disk('hostile'), 0o777); // made by root here; the FTP user writes into it below
      const names = ['nl\n213 End of status', '213 End', '226 Transfer complete', 'cr\rz', '  lead', 'zz-after.csv'];
      names.forEach((n, i) => writeFileSync(disk(`hostile/${n}`), 'h'.repeat(i + 1)));
      const t = ftp(env!.ftpUrl, { listing: mode });
      try {
        const listed = (await t.list(`${root}/hostile`)).map((x) => [x.name, x.size] as const);
        const byName = new Map(listed);
        // the name with a line break comes whole (core then refuses it as not plain and counts it)
        assert.equal(byName.get('nl\n213 End of status'), 1);
        // every name exactly as on disk (leading digits, leading spaces, a CR), with its size
        for (const [i, n] of names.entries()) assert.equal(byName.get(n), i + 1, JSON.stringify(n));
        assert.equal(listed.length, names.length);
        // the next calls get their own replies
        assert.deepEqual(await t.list(`${root}/empty`), []);
        assert.equal((await failure(t.list(`${root}/missing`))).kind, 'NotFound');
        await t.write(`${root}/hostile/after.txt`, Buffer.from('ok'));
        assert.equal(readFileSync(disk('hostile/after.txt'), 'utf8'), 'ok', 'a STOR after STAT starts at offset 0 (REST 0)');
      } finally {
        await t.close();
      }
    });
  });
}

describe('transport-ftp listing: stat against pure-ftpd', { skip: skipDirect }, () => {
  it('lists with STAT (no data connection): names and sizes; dot files hidden as its LIST does; a path with a space by LIST', async () => {
    const root = fresh('pure-stat');
    const dir = ftpRootPath(root, env);
    mkdirSync(`${dir}/with space`, { recursive: true });
    writeFileSync(`${dir}/prices.csv`, 'x'.repeat(1234));
    writeFileSync(`${dir}/.hidden.part`, 'x');
    writeFileSync(`${dir}/with space/a b.csv`, 'abc');
    const { t, sent } = tracedFtp(env!.pureFtpdUrl, { listing: 'stat' });
    try {
      assert.deepEqual((await t.list(root)).map((e) => [e.name, e.size, e.type]).sort(), [['prices.csv', 1234, 'file'], ['with space', (await import('node:fs')).statSync(`${dir}/with space`).size, 'dir']]);
      assert.deepEqual((await t.list(`${root}/with space`)).map((e) => [e.name, e.size]), [['a b.csv', 3]]);
      assert.equal((await failure(t.list(`${root}/missing`))).kind, 'NotFound');
      assert.deepEqual(sent(), ['STAT', 'EPSV', 'MLSD', 'STAT']);
    } finally {
      await t.close();
    }
  });
});
