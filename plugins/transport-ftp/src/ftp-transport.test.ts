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
