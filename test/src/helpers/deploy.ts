import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import iconv from 'iconv-lite';
import { App, silentLogger, type Transport } from '@cfx/core';
import { createFtpTransport } from '@cfx/transport-ftp';
import type { ServersEnv } from './servers.js';

export const CFX_BIN = fileURLToPath(new URL('../../../core/bin/cfx.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export interface Deployment {
  dir: string;
  config: string;
  /** the terminal's remote inbox */
  inbox: string;
  terminal: string;
}

/** A terminal deployment in a temp dir: cfx.yaml pointing at the real server, its own remote inbox (and status dir: tests run side by side, all as box-1). */
export function terminalDeployment(opts: { server: string; remoteBase: string; terminal?: string; extra?: string; poll?: string; prices?: Record<string, string | number | boolean> }): Deployment {
  const dir = mkdtempSync(join(tmpdir(), 'cfx-term-'));
  const terminal = opts.terminal ?? 'box-1';
  const config = join(dir, 'cfx.yaml');
  writeFileSync(
    config,
    `role: terminal
terminal: ${terminal}
dataDir: ./data
server: ${opts.server}
timeout: 10s
prices:
  dir: ${opts.remoteBase}/{terminal}
  poll: ${opts.poll ?? '200ms'}
${Object.entries(opts.prices ?? {}).map(([k, v]) => `  ${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}\n`).join('')}log: { level: info, file: ./cfx.log }
${opts.extra ?? ''}${/^status:/m.test(opts.extra ?? '') ? '' : `${opts.extra && !opts.extra.endsWith('\n') ? '\n' : ''}status: { dir: ${opts.remoteBase}/status }\n`}`,
  );
  return { dir, config, inbox: `${opts.remoteBase}/${terminal}`, terminal };
}

export function openApp(d: Deployment, store: 'rw' | 'ro' = 'rw'): App {
  return App.open({ configFile: d.config, env: {}, store, logger: silentLogger() });
}

/** The office side: a separate FTP client that uploads the way cfx does (temp name, then rename). */
export function officeClient(servers: ServersEnv, options: Record<string, unknown> = {}): Transport & { drop(dir: string, name: string, data: Buffer | string): Promise<void> } {
  const t = createFtpTransport({ url: new URL(servers.ftpUrl), options, logger: silentLogger(), timeoutMs: 10_000 });
  return Object.assign(t, {
    async drop(dir: string, name: string, data: Buffer | string) {
      await t.mkdir(dir);
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      await t.write(`${dir}/.${name}.part`, buf);
      await t.rename(`${dir}/.${name}.part`, `${dir}/${name}`);
    },
  });
}

/** CSV the way 1C writes it: cp1251, CRLF, comma decimals. */
export function cp1251Csv(lines: string[]): Buffer {
  return iconv.encode(lines.join('\r\n') + '\r\n', 'win1251');
}

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  /** killed by the test's deadline (then `signal` is SIGKILL, and `err` says so) */
  timedOut: boolean;
}

/**
 * Runs the real `cfx` bin in a child process (for crashes and signals). A child still running
 * after `deadlineMs` is SIGKILLed and its result says so (`timedOut`, a line in `err`), so a hung
 * child fails the test with what it was doing instead of hanging it.
 */
export function cfxProcess(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; deadlineMs?: number }): { child: ReturnType<typeof spawn>; done: Promise<ProcResult> } {
  const child = spawn(process.execPath, [CFX_BIN, ...args], { cwd: opts.cwd, env: { PATH: process.env.PATH, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let timedOut = false;
  const deadlineMs = opts.deadlineMs ?? 120_000;
  const deadline = setTimeout(() => {
    timedOut = true;
    err += `\n[test] cfx ${args.join(' ')} did not exit within ${deadlineMs} ms: killed\n`;
    child.kill('SIGKILL');
  }, deadlineMs);
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (err += c));
  const done = new Promise<ProcResult>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, out, err, timedOut });
    }),
  );
  return { child, done };
}
