// A terminal running the admin API in this process (like `cfx run`) and the HTTP calls the admin
// tests make against it: shared by admin-api.test.ts and admin-remote.test.ts.
import assert from 'node:assert/strict';
import type { Logger } from 'pino';
import { App, Service, silentLogger } from '@cfx/core';
import { freshRemoteDir, type ServersEnv } from './servers.js';
import { terminalDeployment, type Deployment } from './deploy.js';
import { SwitchableRelay } from './sales.js';

export const TOKEN = 'test-token-0123456789abcdef';

export interface Terminal extends Deployment {
  salesDir: string;
  port: number;
  base: string;
  app: App;
  svc: Service;
  stop(): Promise<void>;
}

/**
 * A terminal with the admin API on a free port, running in this process like `cfx run`: on
 * loopback by default; `listenHost: '0.0.0.0'` puts it beyond loopback (called through 127.0.0.1).
 */
export async function runningTerminal(env: ServersEnv, opts: { token?: string; extra?: string; listenHost?: string; logger?: Logger } = {}): Promise<Terminal> {
  const remote = freshRemoteDir('admin');
  const port = await SwitchableRelay.freePort();
  const admin = `admin:\n  listen: "${opts.listenHost ?? '127.0.0.1'}:${port}"\n${opts.token ? `  token: "${opts.token}"\n` : ''}`;
  const d = terminalDeployment({ server: env.ftpUrl, remoteBase: remote, extra: `sales: { dir: ${remote}/sales, format: csv }\n${admin}${opts.extra ?? ''}` });
  const app = App.open({ configFile: d.config, env: {}, store: 'rw', logger: opts.logger ?? silentLogger() });
  const svc = new Service(app);
  await svc.start();
  return {
    ...d,
    salesDir: `${remote}/sales`,
    port,
    base: `http://127.0.0.1:${port}`,
    app,
    svc,
    async stop() {
      await svc.stop();
      await app.close();
    },
  };
}

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(t: { base: string }, method: string, path: string, opts: { body?: unknown; raw?: string; type?: string; token?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  } else if (opts.raw !== undefined) {
    body = opts.raw;
    headers['content-type'] = opts.type ?? 'application/json';
  }
  const res = await fetch(t.base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** the error shape every failure has, with the field named when it is the input's fault */
export function assertError(r: Res, status: number, code: string, field?: string): void {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.error?.code, code, r.text);
  assert.equal(typeof r.json.error.message, 'string');
  if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
}
