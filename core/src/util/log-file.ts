import { appendFileSync, lstatSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import { localDate } from '../app/paths.js';

/** `log.rotate` as loaded: rotate `log.file` at `sizeBytes` and at every `frequency`, keep `keep` old files */
export interface LogRotation {
  sizeBytes: number;
  frequency: 'daily' | 'hourly';
  keep: number;
}

/** the part of pino-roll's stream (a SonicBoom) used here */
interface RollStream {
  /** the file being written now */
  readonly file: string;
  write(line: string): boolean;
  flushSync(): void;
  end(): void;
  on(event: 'ready' | 'error', f: (e: Error) => void): unknown;
  once(event: 'close' | 'error', f: () => void): unknown;
}
type RollFactory = (o: Record<string, unknown>) => Promise<RollStream>;
let rollFactory: RollFactory | undefined;

/** streams still open when the process exits: their buffered lines are written synchronously then */
const open = new Set<LogFileStream>();
let exitHook = false;

/**
 * `log.file` with rotation by pino-roll (size and day, `keep` old files, older ones deleted):
 * the files are `<base>.<YYYY-MM-DD>.<n><ext>` beside the configured path (`cfx.log` →
 * `cfx.2025-03-01.1.log`, `cfx.2025-03-01.2.log`, …), and the configured path itself is a symlink to
 * the file being written, so `tail -f cfx.log` and everything that reads `log.file` keep working.
 *
 * In-process, not a pino worker transport: pino-roll's factory is async while App.open is sync, so
 * lines written before it resolves are queued here; and a worker thread per opened App would be a
 * thread per command (and per App a test opens).
 */
export class LogFileStream {
  private dest: RollStream | undefined;
  private queue: string[] = [];
  private closed = false;
  private failed: Error | undefined;
  /** the file written last, for lines logged after end() */
  private lastFile: string | undefined;

  private readyP: Promise<RollStream | undefined> | undefined;

  /**
   * Nothing happens here: pino-roll (with date-fns, ~60 ms to load) is required, the dir made and
   * the rotation started by the first line written (issue 20: a command that logs nothing at its
   * level, like most `cfx sale add`s, never pays for it).
   */
  constructor(readonly file: string, private readonly rotation: LogRotation) {}

  private start(): Promise<RollStream | undefined> {
    if (this.readyP) return this.readyP;
    const { file, rotation } = this;
    try {
      rollFactory ??= createRequire(import.meta.url)('pino-roll') as RollFactory;
      mkdirSync(dirname(file), { recursive: true });
      const { base, ext } = split(file);
      adoptPlainFile(file, base, ext);
      this.readyP = rollFactory({
        file: base,
        extension: ext,
        size: `${rotation.sizeBytes}b`,
        frequency: rotation.frequency,
        dateFormat: rotation.frequency === 'hourly' ? 'yyyy-MM-dd-HH' : 'yyyy-MM-dd',
        // removeOtherLogFiles: the count applies to the files of earlier runs too, not only this one's;
        // it then counts the current file as well, hence keep + 1
        limit: { count: rotation.keep + 1, removeOtherLogFiles: true },
        mkdir: true,
        // a line is on disk when the call returns (a crash right after keeps it), and the size roll
        // happens right after the line that crossed the limit (async mode rolls only once its buffer drains)
        sync: true,
      }).then(
        (dest) => {
          // the configured path follows the current file (after every roll, pino-roll reopens: 'ready')
          const relink = () => pointLink(file, dest.file);
          relink();
          dest.on('ready', relink);
          dest.on('error', (e: Error) => this.fail(e));
          for (const line of this.queue.splice(0)) dest.write(line);
          this.dest = dest;
          return dest;
        },
        (e: Error) => {
          this.fail(e);
          return undefined;
        },
      );
    } catch (e) {
      this.fail(e as Error);
      this.readyP = Promise.resolve(undefined);
      return this.readyP;
    }
    open.add(this);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const s of open) s.flushSync();
      });
    }
    return this.readyP;
  }

  /** what pino calls: a line, already redacted and scrubbed */
  write(line: string): boolean {
    if (this.failed) return true;
    if (this.closed) {
      // a line logged after its App closed (`stopped`): appended directly, not lost
      try {
        if (this.lastFile) appendFileSync(this.lastFile, line);
      } catch {
        /* as in fail(): the exchange matters more than its log */
      }
      return true;
    }
    if (this.dest) return this.dest.write(line);
    this.queue.push(line);
    void this.start();
    return true;
  }

  flushSync(): void {
    try {
      this.dest?.flushSync();
    } catch {
      /* nothing buffered, or the file is gone: a log line is not worth a crash at exit */
    }
  }

  /** closes the stream; a line logged later (a logger may outlive its App) is appended synchronously */
  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    open.delete(this);
    if (!this.readyP) return; // nothing was ever written
    const dest = await this.readyP;
    if (!dest) return;
    this.lastFile = dest.file;
    await new Promise<void>((resolve) => {
      dest.once('close', () => resolve());
      dest.once('error', () => resolve());
      dest.end();
    });
  }

  private fail(e: Error): void {
    // the log file is not writable: say so once on stderr and go on; the exchange matters more than its log
    if (this.failed) return;
    this.failed = e;
    process.stderr.write(`cfx: cannot write the log file ${this.file}: ${e.message}\n`);
  }
}

/** `cfx.log` → base `…/cfx`, ext `.log`; a name without extension gets `.log` */
function split(file: string): { base: string; ext: string } {
  const ext = extname(file);
  return ext ? { base: file.slice(0, -ext.length), ext } : { base: file, ext: '.log' };
}

/**
 * A plain `log.file` left by an earlier version (or `rotate: false`) joins the rotation as the
 * oldest file of today (number 0), so retention deletes it in time instead of it growing forever.
 */
function adoptPlainFile(file: string, base: string, ext: string): void {
  try {
    if (!lstatSync(file).isFile()) return;
  } catch {
    return;
  }
  renameSync(file, `${base}.${localDate()}.0${ext}`);
}

/** the configured path → the current file, replaced atomically (a reader never finds it missing) */
function pointLink(link: string, target: string): void {
  const tmp = join(dirname(link), `.${basename(link)}.${process.pid}.tmp`);
  try {
    rmSync(tmp, { force: true });
    symlinkSync(basename(target), tmp);
    renameSync(tmp, link);
  } catch {
    // Windows without the symlink privilege: no link; the newest <base>.<date>.<n><ext> is the current file
    rmSync(tmp, { force: true });
  }
}
