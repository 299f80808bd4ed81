import { pino, type Logger, type LoggerOptions } from 'pino';
import { createWriteStream } from 'node:fs';
import { LogFileStream, type LogRotation } from './log-file.js';
import { createRequire } from 'node:module';

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
    const logger = pino(opts, stream);
    closers.set(logger, () => stream.end());
    return logger;
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
  return pino({ level: 'silent' });
}
