import cliProgress from 'cli-progress';
import type { Writable } from 'node:stream';
import type { PullProgress } from '../jobs/prices-pull/price-pull.js';

/** A progress bar on a TTY for big files; nothing at all when output is piped or logged. */
export function progressReporter(stream: Writable & { isTTY?: boolean }): { update(p: PullProgress): void; done(): void } | undefined {
  if (!stream.isTTY) return undefined;
  let bar: cliProgress.SingleBar | undefined;
  let file = '';
  return {
    update(p) {
      if (!bar || p.file !== file) {
        bar?.stop();
        file = p.file;
        bar = new cliProgress.SingleBar(
          { stream: stream as NodeJS.WritableStream, format: '{file} {phase} [{bar}] {percentage}% {value}/{total} bytes {records} records', hideCursor: true, clearOnComplete: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total ?? 0, 0, { file, phase: p.phase, records: 0 });
      }
      bar.update(p.bytes ?? 0, { phase: p.phase, records: p.records ?? 0 });
    },
    done() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** A counting bar (sales pushed, resent) on a TTY; undefined otherwise. */
export function countBar(stream: Writable & { isTTY?: boolean }, label: string): { update(done: number, total: number): void; done(): void } | undefined {
  if (!stream.isTTY) return undefined;
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(done, total) {
      if (!bar) {
        bar = new cliProgress.SingleBar({ stream: stream as NodeJS.WritableStream, format: `${label} [{bar}] {value}/{total} {eta_formatted}`, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
        bar.start(total, 0);
      }
      bar.update(done);
    },
    done() {
      bar?.stop();
      bar = undefined; // a second done() (an error path) stops nothing twice
    },
  };
}
