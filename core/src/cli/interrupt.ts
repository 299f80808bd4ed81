import { errorMessage } from '../api/index.js';
import type { App } from '../app/app.js';
import { stopOnSignals } from '../scheduler/signals.js';
import type { CliContext } from './context.js';
import { Exit } from './exit.js';
import { println } from './output.js';

/**
 * A one-shot command's work with SIGINT/SIGTERM handled as `cfx run` does (stopOnSignals): the
 * first signal lets the step in flight finish and starts no other, then the command ends with
 * exit 130; a second one exits at once. An error after the first signal is the step being cut
 * short (pull and publish abort the remote call in flight: a file is applied whole or not at all),
 * so it is reported, not thrown.
 */
export async function interruptible<T>(ctx: CliContext, app: App, what: string, work: (stop: AbortSignal) => Promise<T>): Promise<T | undefined> {
  const signals = stopOnSignals(app.logger, what);
  let cut: unknown;
  try {
    return await work(signals.stop);
  } catch (e) {
    if (!signals.received) throw e;
    cut = e;
    return undefined;
  } finally {
    signals.dispose();
    if (signals.received) {
      ctx.setExit(Exit.INTERRUPTED);
      println(ctx.io.err, `${what}: interrupted by ${signals.received} after the current step${cut === undefined ? '' : ` (${errorMessage(cut)})`}; run it again to do the rest`);
    }
  }
}
