import { runCliCaptured, type CliResult } from '@cfx/core/testing';

export type CliRun = CliResult;

/** Runs the real CLI in-process with captured output (fast; the same code path as the bin). */
export function runCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  return runCliCaptured(['node', 'cfx', ...args], { env: opts.env ?? {}, cwd: opts.cwd });
}
