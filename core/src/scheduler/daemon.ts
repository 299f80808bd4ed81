import type { App } from '../app/app.js';
import { Service } from './service.js';
import { stopOnSignals } from './signals.js';

/**
 * `cfx run`: the Service until SIGINT/SIGTERM, then finish the current step, close connections,
 * exit 0 (a second signal: at once, exit 130; see stopOnSignals).
 */
export async function runDaemon(app: App, opts: { signals?: boolean } = {}): Promise<number> {
  const svc = new Service(app);
  const signals = opts.signals !== false ? stopOnSignals(app.logger, 'cfx run') : undefined;
  const stopped = new Promise<void>((r) => signals?.stop.addEventListener('abort', () => r(), { once: true }));
  try {
    await svc.start();
    await stopped;
  } finally {
    await svc.stop();
    await app.close();
    signals?.dispose();
  }
  app.logger.info('stopped');
  return 0;
}
