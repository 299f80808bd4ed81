import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { CfxError, TransportError, type Logger, type TransportCreateContext } from '@cfx/core/api';
import { createFtpTransport } from './ftp-transport.js';
import { activate, ftpTransportProvider } from './index.js';

function fakeLogger(warnings: string[] = []): Logger {
  const noop = () => {};
  const l = { trace: noop, debug: noop, info: noop, warn: (_o: unknown, m?: string) => void warnings.push(String(m)), error: noop, fatal: noop, isLevelEnabled: () => false, child: () => l };
  return l as unknown as Logger;
}

function ctx(url: string, options: Record<string, unknown> = {}, timeoutMs = 300, warnings?: string[]): TransportCreateContext {
  return { url: new URL(url), options, logger: fakeLogger(warnings), timeoutMs };
}

/** A server that accepts connections and never says a word: what a hung FTP server looks like. */
async function blackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof TransportError, `not a TransportError: ${String(e)}`);
    return e.kind;
  }
  return 'resolved';
}

test('a server that never answers becomes Timeout, and the transport stays usable', async () => {
  const hole = await blackHole();
  const t = createFtpTransport(ctx(`ftp://u:p@127.0.0.1:${hole.port}`, {}, 300));
  // Timeout is the 300 ms deadline's verdict (the black hole never answers, nor closes)
  assert.equal(await kindOf(t.list('/x')), 'Timeout');
  // queued calls do not pile up behind a dead connection
  const [a, b] = await Promise.all([kindOf(t.mkdir('/a')), kindOf(t.delete('/b'))]);
  assert.deepEqual([a, b], ['Timeout', 'Timeout']);
  await t.close();
  await hole.close();
});

test('abort rejects with Aborted at once, also while queued', async () => {
  const hole = await blackHole();
  const t = createFtpTransport(ctx(`ftp://u:p@127.0.0.1:${hole.port}`, {}, 10_000));
  const ac = new AbortController();
  const first = kindOf(t.list('/x', { signal: ac.signal }));
  const queued = kindOf(t.list('/y', { signal: ac.signal }));
  const read = t.read('/z', { signal: ac.signal });
  const readKind = kindOf(new Promise((resolve, reject) => read.on('error', reject).on('end', resolve).resume()));
  setTimeout(() => ac.abort(), 50);
  // Aborted, not the Timeout the 10 s deadline would give: the abort ended them
  assert.deepEqual(await Promise.all([first, queued, readKind]), ['Aborted', 'Aborted', 'Aborted']);
  const pre = new AbortController();
  pre.abort();
  assert.equal(await kindOf(t.list('/x', { signal: pre.signal })), 'Aborted');
  await t.close();
  await hole.close();
});

test('connection refused is Unavailable (retryable) and names the server without the password', async () => {
  const hole = await blackHole();
  const port = hole.port;
  await hole.close(); // nothing listens there now
  const t = createFtpTransport(ctx(`ftp://alice:pa55word@127.0.0.1:${port}`));
  const e = await t.list('/').catch((x: unknown) => x);
  assert.ok(e instanceof TransportError);
  assert.equal(e.kind, 'Unavailable');
  assert.ok(e.retryable);
  assert.match(e.message, new RegExp(`ftp://alice@127\\.0\\.0\\.1:${port}`));
  assert.ok(!e.message.includes('pa55word'));
  await t.close();
});

test('options are checked when the transport is created', () => {
  assert.throws(() => createFtpTransport(ctx('ftp://h', { passive: false })), (e: unknown) => e instanceof CfxError && /passive/.test(e.message));
  assert.throws(() => createFtpTransport(ctx('ftp://h', { encoding: 'koi8-r' })), /utf8 or cp1251/);
  assert.throws(() => createFtpTransport(ctx('ftps://h', { tls: { ca: '/nonexistent/ca.pem' } })), /tls\.ca \/nonexistent\/ca\.pem/);
  assert.throws(() => createFtpTransport(ctx('sftp://h')), /unsupported scheme/);
  const warnings: string[] = [];
  createFtpTransport(ctx('ftps://h', { tls: { rejectUnauthorized: false } }, 300, warnings));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /verification is OFF/);
});

test('activate registers ftp and ftps', async () => {
  const registered: unknown[] = [];
  await activate({ registerTransport: (p: unknown) => (registered.push(p), { dispose() {} }) } as never);
  assert.deepEqual(registered, [ftpTransportProvider]);
  assert.deepEqual(ftpTransportProvider.schemes, ['ftp', 'ftps']);
});

/**
 * A few FTP commands over a plain socket, scripted per test. vsftpd cannot be made to fail a
 * passive bind on demand (it needs its port range exhausted), nor to send a reply of our choosing,
 * so these two cases are played by this fake; everything else runs against the real servers.
 */
async function fakeFtp(answer: (cmd: string, arg: string, s: Socket) => void): Promise<{ port: number; commands: string[]; logins: () => number; close(): Promise<void> }> {
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  let logins = 0;
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.setEncoding('utf8');
    s.write('220 fake\r\n');
    let buf = '';
    s.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        const sp = line.indexOf(' ');
        const cmd = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
        const arg = sp < 0 ? '' : line.slice(sp + 1);
        commands.push(line);
        if (cmd === 'USER') s.write('331 password\r\n');
        else if (cmd === 'PASS') (logins++, s.write('230 ok\r\n'));
        else if (cmd === 'FEAT') s.write('211-Features:\r\n EPSV\r\n211 End\r\n');
        else if (['TYPE', 'STRU', 'OPTS', 'NOOP'].includes(cmd)) s.write('200 ok\r\n');
        else answer(cmd, arg, s);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    commands,
    logins: () => logins,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

test('vsftpd\'s "500 OOPS: vsf_sysutil_bind" on EPSV fails the call at once (no PASV on the dead session); the next call logs in again', async (tc) => {
  // as vsftpd did in the fleet run: the OOPS, then nothing (its session is gone, the close comes late)
  let oopsed = 0;
  const srv = await fakeFtp((cmd, _arg, s) => {
    if (cmd === 'EPSV' || cmd === 'PASV') {
      if (oopsed++ === 0) s.write('500 OOPS: vsf_sysutil_bind\r\n');
      // a second EPSV/PASV on that session would wait here until the deadline
    } else s.write('502 not here\r\n');
  });
  tc.after(() => srv.close());
  // listing: list, so the listing needs a data connection; a 30 s deadline: a hang would be the deadline's verdict
  const t = createFtpTransport(ctx(`ftp://u:secret@127.0.0.1:${srv.port}`, { listing: 'list' }, 30_000));
  tc.after(() => t.close());
  const e = await t.list('/inbox').catch((x: unknown) => x);
  assert.ok(e instanceof TransportError, String(e));
  assert.equal(e.kind, 'Unavailable');
  assert.match(e.message, /^ftp list \/inbox: 500 OOPS: vsf_sysutil_bind — the server ended the session; the next call logs in again$/);
  assert.deepEqual(srv.commands.filter((c) => /^(EPSV|PASV)/.test(c)), ['EPSV'], 'no PASV after the OOPS');
  assert.equal(srv.logins(), 1, 'failed at once, not retried on a new login');
  // the connection was replaced: the next call logs in again (and meets the same fake)
  assert.equal(await kindOf(t.mkdir('/x')), 'PermissionDenied');
  assert.equal(srv.logins(), 2);
});

test('STAT: a name that fakes the end line is joined back; a server whose replies run past the commands is a Protocol error and the connection is replaced', async (tc) => {
  let lastStat = '';
  const srv = await fakeFtp((cmd, arg, s) => {
    if (cmd === 'STAT') {
      lastStat = arg;
      // a file named "nl\n213 End of status": vsftpd writes it as it is
      s.write('213-Status follows:\r\n-rw-r--r--    1 0 0 3 Dec 05 03:25 a.csv\r\n-rw-r--r--    1 0 0 1 Dec 05 03:25 nl\r\n213 End of status\r\n-rw-r--r--    1 0 0 7 Dec 05 03:25 z.csv\r\n213 End of status\r\n');
    } else if (cmd === 'REST') {
      s.write(`350 Restart position accepted (${arg}).\r\n`);
      // the lie: one reply more than there were commands
      if (arg === '0' && lastStat === '/liar') {
        lastStat = '';
        s.write('200 and one more\r\n');
      }
    } else s.write('502 not here\r\n');
  });
  tc.after(() => srv.close());
  const t = createFtpTransport(ctx(`ftp://u:fake-pw-1@127.0.0.1:${srv.port}`, {}, 30_000));
  tc.after(() => t.close());
  // nothing hidden (z.csv after the fake end), nothing invented (no "nl"): the name comes whole
  assert.deepEqual((await t.list('/in')).map((e) => [e.name, e.size]), [['a.csv', 3], ['nl\n213 End of status', 1], ['z.csv', 7]]);
  assert.deepEqual(srv.commands.filter((c) => /^(STAT|EPSV|PASV|LIST)/.test(c)), ['STAT /in'], 'listed on the control connection');
  const e = await t.list('/liar').catch((x: unknown) => x);
  assert.ok(e instanceof TransportError, String(e));
  assert.equal(e.kind, 'Protocol');
  assert.match(e.message, /^ftp list \/liar: more lines than commands after STAT$/);
  assert.equal(srv.logins(), 1);
  assert.equal((await t.list('/in')).length, 3);
  assert.equal(srv.logins(), 2, 'a new connection after the lie');
});

/**
 * The fake's passive listeners: each takes one upload, keeps its bytes in `received` and answers
 * 226 on the control socket (then runs `after226`, if given).
 */
function dataListeners(received: string[]): { listen(s: Socket, reply: (port: number) => string, after226?: () => void): void; close(): void } {
  const servers: Server[] = [];
  return {
    listen(s, reply, after226) {
      const ds = createServer((d) => {
        const chunks: Buffer[] = [];
        d.on('data', (c: Buffer) => chunks.push(c));
        d.on('end', () => {
          received.push(Buffer.concat(chunks).toString());
          s.write('226 Transfer complete.\r\n');
          after226?.();
          ds.close();
        });
      });
      servers.push(ds);
      ds.listen(0, '127.0.0.1', () => s.write(reply((ds.address() as AddressInfo).port)));
    },
    close() {
      for (const d of servers) d.close();
    },
  };
}

test('writeThenRename: a server that closes after 226 fails the call as Unavailable (no hang); a 421 on STOR or an OOPS on EPSV ends the session; the next call logs in again', async (tc) => {
  const received: string[] = [];
  const data = dataListeners(received);
  /** what the fake does to the session after STOR's 226, per login */
  const plans = ['close-after-226', '421-on-stor', 'oops-on-epsv', 'ok'];
  let session = -1;
  const srv = await fakeFtp((cmd, arg, s) => {
    const plan = plans[session] ?? 'ok';
    if (cmd === 'EPSV') {
      if (plan === 'oops-on-epsv') return void s.write('500 OOPS: vsf_sysutil_bind\r\n');
      data.listen(s, (port) => `229 Entering Extended Passive Mode (|||${port}|)\r\n`, () => void (plan === 'close-after-226' && s.end()));
    } else if (cmd === 'STOR') {
      s.write(plan === '421-on-stor' ? '421 Service not available, closing control connection.\r\n' : '150 Ok to send data.\r\n');
      if (plan === '421-on-stor') s.end();
    } else if (cmd === 'RNFR') s.write('350 Ready for RNTO.\r\n');
    else if (cmd === 'RNTO') s.write(`250 Rename successful (${arg}).\r\n`);
    else s.write('502 not here\r\n');
  });
  tc.after(async () => {
    data.close();
    await srv.close();
  });
  // a 30 s deadline: a hang would end in Timeout, not in the kinds asserted here
  const t = createFtpTransport(ctx(`ftp://u:pw@127.0.0.1:${srv.port}`, {}, 30_000));
  tc.after(() => t.close());
  const attempt = async (n: number) => {
    session = n; // the session the fake is about to serve (one login per attempt, as asserted below)
    let stepped = 0;
    const k = await kindOf(t.writeThenRename!(`/out/.s${n}.part`, `/out/s${n}.csv`, Buffer.from(`sale ${n}`), () => void stepped++));
    return `${k} step:${stepped}`;
  };
  // closed after 226: the step ran (the bytes are there), the rename could not be sent
  assert.equal(await attempt(0), 'Unavailable step:1');
  assert.equal(await attempt(1), 'Unavailable step:0');
  assert.equal(await attempt(2), 'Unavailable step:0');
  assert.equal(await attempt(3), 'resolved step:1');
  // the bytes go out with the data connection, before STOR's answer: this fake reads them even
  // where it refused the STOR (a real server closes its passive listener unread)
  assert.deepEqual(received, ['sale 0', 'sale 1', 'sale 3']);
  assert.equal(srv.logins(), 4, 'each failure dropped its connection; no retry on a new login');
  // (whether session 0's RNFR+RNTO left before its FIN was seen is timing: left out)
  assert.deepEqual(srv.commands.filter((c) => /^(EPSV|PASV|STOR|RNFR|RNTO)/.test(c) && !/ \/out\/\.?s0\./.test(c)), [
    'EPSV',
    'EPSV', 'STOR /out/.s1.part',
    'EPSV',
    'EPSV', 'STOR /out/.s3.part', 'RNFR /out/.s3.part', 'RNTO /out/s3.csv',
  ]);
});

test('writeThenRename with `more`: the next data port is asked with the rename and used by the next STOR only; any other call, a refused EPSV or an ended session voids it', async (tc) => {
  const received: string[] = [];
  const { listen, close: closeData } = dataListeners(received);
  /** how the fake answers the n-th EPSV of the whole run (0-based); default: a port */
  const epsvPlan = new Map<number, string>([[8, 'refuse'], [10, 'oops']]);
  let epsvs = 0;
  const srv = await fakeFtp((cmd, arg, s) => {
    if (cmd === 'EPSV') {
      const plan = epsvPlan.get(epsvs++);
      if (plan === 'refuse') return void s.write('502 EPSV not implemented.\r\n');
      if (plan === 'oops') return void s.write('500 OOPS: vsf_sysutil_bind\r\n');
      listen(s, (port) => `229 Entering Extended Passive Mode (|||${port}|)\r\n`);
    } else if (cmd === 'PASV') listen(s, (port) => `227 Entering Passive Mode (127,0,0,1,${port >> 8},${port & 255}).\r\n`);
    else if (cmd === 'STOR') s.write('150 Ok to send data.\r\n');
    else if (cmd === 'RNFR') s.write('350 Ready for RNTO.\r\n');
    else if (cmd === 'RNTO') s.write(arg.endsWith('/s99.csv') ? '553 Could not rename.\r\n' : `250 Rename successful (${arg}).\r\n`);
    else s.write('502 not here\r\n');
  });
  tc.after(async () => {
    closeData();
    await srv.close();
  });
  const t = createFtpTransport(ctx(`ftp://u:pw@127.0.0.1:${srv.port}`, {}, 30_000));
  tc.after(() => t.close());
  const put = (n: number, more: boolean) => t.writeThenRename!(`/out/.s${n}.part`, `/out/s${n}.csv`, Buffer.from(`sale ${n}`), () => undefined, { more });
  const since = () => {
    const from = srv.commands.length;
    return () => srv.commands.slice(from).filter((c) => /^(EPSV|PASV|STOR|RNFR|RNTO)/.test(c)).map((c) => c.replace(/ \/out\/(\.?s\d+)\..*$/, ' $1'));
  };

  // a backlog: the port for s1 comes with s0's rename, s2's with s1's; s2 is the last (no more)
  let cmds = since();
  await put(0, true);
  await put(1, true);
  await put(2, false);
  assert.deepEqual(cmds(), ['EPSV', 'STOR .s0', 'RNFR .s0', 'RNTO s0', 'EPSV', 'STOR .s1', 'RNFR .s1', 'RNTO s1', 'EPSV', 'STOR .s2', 'RNFR .s2', 'RNTO s2']);

  // another call in between voids the spare port: the next STOR asks again
  cmds = since();
  await put(3, true);
  await t.rename('/out/x.csv', '/out/y.csv');
  await put(4, false);
  assert.deepEqual(cmds(), ['EPSV', 'STOR .s3', 'RNFR .s3', 'RNTO s3', 'EPSV', 'RNFR /out/x.csv', 'RNTO /out/y.csv', 'EPSV', 'STOR .s4', 'RNFR .s4', 'RNTO s4']);

  // EPSV refused when asked with a rename: the rename stands, the next STOR goes by PASV
  cmds = since();
  await put(5, true); // EPSV #6, then #7 with the rename
  await put(6, true); // uses #7; #8 with the rename: refused
  await put(7, true); // PASV, then PASV with the rename
  await put(8, false);
  assert.deepEqual(cmds(), ['EPSV', 'STOR .s5', 'RNFR .s5', 'RNTO s5', 'EPSV', 'STOR .s6', 'RNFR .s6', 'RNTO s6', 'EPSV', 'PASV', 'STOR .s7', 'RNFR .s7', 'RNTO s7', 'PASV', 'STOR .s8', 'RNFR .s8', 'RNTO s8']);
  assert.equal(srv.logins(), 1);

  // a rename refused: the call fails as it did, and the port asked with it is not used
  cmds = since();
  assert.equal(await kindOf(put(99, true)), 'PermissionDenied');
  await put(12, false);
  assert.deepEqual(cmds(), ['PASV', 'STOR .s99', 'RNFR .s99', 'RNTO s99', 'PASV', 'PASV', 'STOR .s12', 'RNFR .s12', 'RNTO s12']);
  assert.equal(srv.logins(), 1, 'a refused rename keeps the session');

  // the server ends the session on the EPSV asked with a rename: the rename stands, the next call logs in again
  epsvs = 9;
  const t2 = createFtpTransport(ctx(`ftp://u:pw@127.0.0.1:${srv.port}`, {}, 30_000));
  tc.after(() => t2.close());
  cmds = since();
  await t2.writeThenRename!('/out/.s9.part', '/out/s9.csv', Buffer.from('sale 9'), () => undefined, { more: true }); // EPSV #9, #10 with the rename: OOPS
  await t2.writeThenRename!('/out/.s10.part', '/out/s10.csv', Buffer.from('sale 10'), () => undefined);
  assert.deepEqual(cmds(), ['EPSV', 'STOR .s9', 'RNFR .s9', 'RNTO s9', 'EPSV', 'EPSV', 'STOR .s10', 'RNFR .s10', 'RNTO s10']);
  assert.equal(srv.logins(), 3, 'one login for t, two for t2 (the OOPS ended the first)');
  assert.deepEqual(received, [0, 1, 2, 3, 4, 5, 6, 7, 8, 99, 12, 9, 10].map((i) => `sale ${i}`));
});
