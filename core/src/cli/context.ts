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
