import type { App } from '../app/app.js';
import { Service } from './service.js';

/**
 * `cfx run`: the Service until SIGINT/SIGTERM, then finish the current step, close connections,
 * exit 0.
 */
export async function runDaemon(app: App, opts: { signals?: boolean } = {}): Promise<number> {
  const svc = new Service(app);
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (wake = r));
  const onSig = (sig: NodeJS.Signals) => {
    app.logger.info({ signal: sig }, 'stopping after the current step');
    wake();
  };
  if (opts.signals !== false) {
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
  }
  try {
    await svc.start();
    await stopped;
  } finally {
    await svc.stop();
    await app.close();
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
  app.logger.info('stopped');
  return 0;
}
