import { writeSync } from 'node:fs';
import type { Logger } from '../api/index.js';
import { Exit } from '../cli/exit.js';

export interface StopSignals {
  /** aborted by the first SIGINT/SIGTERM: finish the step in flight, start no other */
  readonly stop: AbortSignal;
  /** the signal that aborted `stop`, if any */
  readonly received: NodeJS.Signals | undefined;
  /** removes the handlers: signals get their default action again */
  dispose(): void;
}

/**
 * SIGINT/SIGTERM while cfx works (`cfx run` and the one-shot commands): the first one asks the
 * work to stop after its current step; a second one ends the process at once with exit 130. What
 * was in flight then is left as a crash would leave it, which every job's next run completes
 * (docs/reliability.md), so an impatient operator loses nothing by pressing Ctrl-C twice.
 */
export function stopOnSignals(logger: Logger, what: string): StopSignals {
  const ctl = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) {
      const msg = `${what}: second signal (${sig}), stopping now; the next run completes the step that was in flight`;
      logger.warn({ signal: sig }, msg);
      // the logger may write to a file through a buffer that exit() would drop
      writeSync(2, `${msg}\n`);
      process.exit(Exit.INTERRUPTED);
    }
    received = sig;
    logger.info({ signal: sig }, `${what}: stopping after the current step`);
    ctl.abort(new Error(`${sig} received`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: ctl.signal,
    get received() {
      return received;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
