import type { Logger, LoggerOptions, pino as PinoNs } from 'pino';
import { createWriteStream } from 'node:fs';
import { LogFileStream, type LogRotation } from './log-file.js';
import { createRequire } from 'node:module';

// pino (~15–25 ms to load) is required on the first line a logger actually writes, not at start-up:
// a `cfx sale add` or `cfx status` that logs nothing at its level never loads it (issue 20).
const require = createRequire(import.meta.url);
let pinoFn: typeof PinoNs | undefined;
const loadPino = (): typeof PinoNs => (pinoFn ??= (require('pino') as { pino: typeof PinoNs }).pino);

/** pino's default levels: a call below the logger's level is dropped without making the logger */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const levelValue = (l: string | undefined): number => LEVELS[l ?? 'info'] ?? 30;

/**
 * A pino logger made on first real use. Calls at a level below `level` are no-ops that make
 * nothing; `child()` gives another lazy logger (its real one a child of this one's); anything else
 * (a call at an enabled level, `level`, `bindings()`, `flush()`, …) makes the real logger and
 * goes to it, so the object behaves as the pino logger it stands for.
 */
function lazyLogger(make: () => Logger, level: string | undefined): Logger {
  let real: Logger | undefined;
  let threshold = levelValue(level);
  const get = (): Logger => (real ??= make());
  const noop = () => undefined;
  const target = {} as Logger;
  return new Proxy(target, {
    get(_t, prop) {
      if (typeof prop === 'string') {
        const v = LEVELS[prop];
        if (v !== undefined && prop !== 'silent' && !real && v < threshold) return noop;
        // asked before any line (a plugin choosing whether to trace): answered without pino
        if (prop === 'isLevelEnabled' && !real) return (l: string) => LEVELS[l] !== undefined && LEVELS[l] >= threshold;
        if (prop === 'level' && !real) return levelName(threshold);
        if (prop === 'child' && !real) {
          return (bindings: Record<string, unknown>, opts?: { level?: string }) => {
            const parent = get;
            return lazyLogger(() => parent().child(bindings, opts), opts?.level ?? (real ? real.level : levelName(threshold)));
          };
        }
      }
      const r = get();
      const v = Reflect.get(r, prop, r) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(r) : v;
    },
    set(_t, prop, value) {
      const r = get();
      if (prop === 'level') threshold = levelValue(String(value));
      return Reflect.set(r, prop, value, r);
    },
    has: (_t, prop) => Reflect.has(get(), prop),
  });
}

function levelName(v: number): string {
  return Object.keys(LEVELS).find((k) => LEVELS[k] === v) ?? 'info';
}

export interface LoggerSetup {
  level?: string;
  /** a file to append JSON lines to; default stderr */
  file?: string;
  /** rotation of `file` (pino-roll); false or absent: plain append */
  rotate?: LogRotation | false;
  /** pretty, human output (a TTY) */
  pretty?: boolean;
  /** raw secret values to scrub from any message or field, whatever key holds them */
  secrets?: string[];
}

/** keys whose values never reach a log line, wherever they sit (pino redaction paths) */
export const REDACT_PATHS = [
  'password', '*.password', '*.*.password',
  'passphrase', '*.passphrase', '*.*.passphrase',
  'token', '*.token', 'secret', '*.secret',
  'privateKey', '*.privateKey', '*.*.privateKey',
  'config.server', 'server',
];

function scrubber(secrets: string[]): (s: string) => string {
  const list = secrets.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (s) => s;
  return (s) => {
    let out = s;
    for (const sec of list) if (out.includes(sec)) out = out.split(sec).join('***');
    for (const sec of list) {
      const enc = encodeURIComponent(sec);
      if (enc !== sec && out.includes(enc)) out = out.split(enc).join('***');
    }
    return out;
  };
}

export function createLogger(setup: LoggerSetup = {}): Logger {
  let stream: LogFileStream | undefined;
  const logger = lazyLogger(() => makeLogger(setup, (s) => (stream = s)), setup.level ?? 'info');
  // closes the rotating file if one was opened (nothing was, when nothing was logged)
  closers.set(logger, () => stream?.end() ?? Promise.resolve());
  return logger;
}

function makeLogger(setup: LoggerSetup, onStream: (s: LogFileStream) => void): Logger {
  const pino = loadPino();
  const scrub = scrubber(setup.secrets ?? []);
  const opts: LoggerOptions = {
    level: setup.level ?? 'info',
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '***' },
    // belt and braces: a secret inside a message or an error text is scrubbed by value
    hooks: {
      streamWrite: (line: string) => scrub(line),
    },
  };
  if (setup.file && setup.rotate) {
    const stream = new LogFileStream(setup.file, setup.rotate);
    onStream(stream);
    return pino(opts, stream);
  }
  if (setup.file) return pino(opts, createWriteStream(setup.file, { flags: 'a' }));
  if (setup.pretty) {
    // pino-pretty as a synchronous in-process stream: no worker thread for a CLI
    return pino(opts, prettyStream());
  }
  return pino(opts, pino.destination({ dest: 2, sync: true }));
}

let prettyFactory: ((o: object) => NodeJS.WritableStream) | undefined;
function prettyStream(): NodeJS.WritableStream {
  if (!prettyFactory) {
    // loaded only when a TTY wants it
    prettyFactory = createRequire(import.meta.url)('pino-pretty') as (o: object) => NodeJS.WritableStream;
  }
  return prettyFactory({ colorize: true, sync: true, destination: 2, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' });
}

const closers = new WeakMap<Logger, () => Promise<void>>();

/** closes the file a logger made by createLogger writes (its later lines are dropped); no-op for others */
export function closeLogger(logger: Logger): Promise<void> {
  return closers.get(logger)?.() ?? Promise.resolve();
}

/** a logger that drops everything (tests, `--quiet`) */
export function silentLogger(): Logger {
  return lazyLogger(() => loadPino()({ level: 'silent' }), 'silent');
}
