import { CfxError, ErrorCodes } from '../api/errors.js';
import type { App } from '../app/app.js';
import type { Io } from './output.js';

/** What a command module gets from main: output, global flags, the config and the exit code. */
export interface CliContext {
  io: Io;
  /** --json given */
  json(): boolean;
  /** absolute path of the config file (-c) */
  cfgPath(): string;
  /** opens the deployment with the store read-write, read-only or not at all */
  open(store: 'rw' | 'ro' | false): App;
  /** the exit code main returns when the command finishes without throwing */
  setExit(code: number): void;
}

/** a command for one role run with another's config: a usage error naming both */
export function requireRole(app: App, role: 'terminal' | 'office', cmd: string): void {
  if (app.config.role !== role) throw new CfxError(ErrorCodes.USAGE, `cfx ${cmd} is for the ${role} role (this config has role: ${app.config.role})`);
}
