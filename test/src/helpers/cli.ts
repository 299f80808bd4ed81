import { PassThrough } from 'node:stream';
import { cli } from '@cfx/core';

export interface CliRun {
  code: number;
  out: string;
  err: string;
  json<T = any>(): T;
}

/** Runs the real CLI in-process with captured output (fast; the same code path as the bin). */
export async function runCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c) => (o += c));
  err.on('data', (c) => (e += c));
  const code = await cli(['node', 'cfx', ...args], { out, err, env: opts.env ?? {}, cwd: opts.cwd });
  return {
    code,
    out: o,
    err: e,
    json() {
      return JSON.parse(o);
    },
  };
}
