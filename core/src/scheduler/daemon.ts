import cron from 'node-cron';
import { CfxError, ErrorCodes, errorMessage, isCfxError, type CfxError as CfxErrorT } from '../api/index.js';
import type { App } from '../app/app.js';
import { PricePull } from '../jobs/price-pull.js';
import { pruneArchive } from '../jobs/prune.js';

const MAX_BACKOFF_MS = 60_000;

/**
 * The service: a self-rescheduling poll timer (a slow cycle delays the next one, runs never
 * overlap), cron jobs from the config, capped exponential back-off while the server is down
 * (logged once, not every second), and a clean stop on SIGINT/SIGTERM after the current step.
 */
export async function runDaemon(app: App, opts: { signals?: boolean } = {}): Promise<number> {
  const { config: c, logger } = app;
  let stopping = false;
  let wake: (() => void) | undefined;
  const stopped = new Promise<void>((r) => (wake = r));
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: sig }, 'stopping after the current step');
    wake?.();
  };
  const onSig = (s: NodeJS.Signals) => stop(s);
  if (opts.signals !== false) {
    process.on('SIGINT', onSig);
    process.on('SIGTERM', onSig);
  }

  const jobs: Record<string, () => Promise<unknown>> = {
    'archive.prune': async () => {
      const removed = pruneArchive(c.dataDir, c.archive.keepDays);
      logger.info({ removed: removed.length, keepDays: c.archive.keepDays }, 'archive pruned');
    },
  };

  let current: Promise<unknown> = Promise.resolve();
  const busy = (fn: () => Promise<unknown>) => {
    current = current.then(fn, fn);
    return current;
  };

  // --- price poll (terminal role) ---
  let pollTimer: NodeJS.Timeout | undefined;
  if (c.role === 'terminal') {
    const transport = await app.transport();
    const format = await app.host.format(c.prices.format, c.prices.options);
    const pull = new PricePull({ config: c, store: app.store, transport, format, logger });
    jobs['prices.pull'] = () => pull.cycle();
    let failures = 0;
    let lastError = '';
    const tick = async () => {
      try {
        const r = await pull.cycle();
        if (failures) logger.info({ after: failures }, 'price poll recovered');
        failures = 0;
        lastError = '';
        if (r.files.length) {
          const q = r.files.filter((f) => f.result === 'quarantined').length;
          const id = app.store.startRun('prices.pull');
          app.store.finishRun(id, { result: q ? 'partial' : 'ok', files: r.files.length, bytes: r.bytes, details: { files: r.files.map((f) => ({ name: f.name, result: f.result })) } });
        }
      } catch (e) {
        failures++;
        const msg = errorMessage(e);
        // one log line and one run row per distinct failure, not one per second
        if (msg !== lastError) {
          lastError = msg;
          logger.error({ err: msg, code: isCfxError(e) ? (e as CfxErrorT).code : undefined }, 'price poll failed; retrying with back-off');
          const id = app.store.startRun('prices.pull');
          app.store.finishRun(id, { result: 'failed', error: { code: isCfxError(e) ? (e as CfxErrorT).code : ErrorCodes.INTERNAL, message: msg } });
        }
      }
    };
    const loop = async () => {
      await busy(tick);
      if (stopping) return;
      const delay = failures ? Math.min(c.prices.pollMs * 2 ** Math.min(failures, 16), MAX_BACKOFF_MS) : c.prices.pollMs;
      pollTimer = setTimeout(() => void loop(), delay);
    };
    void loop();
  }

  // --- cron jobs ---
  const tasks: { stop(): unknown }[] = [];
  for (const s of c.schedule) {
    const job = jobs[s.job];
    if (!job) throw new CfxError(ErrorCodes.CONFIG_INVALID, `schedule: unknown job "${s.job}" (available: ${Object.keys(jobs).join(', ')})`);
    tasks.push(
      cron.schedule(s.cron, () => {
        if (stopping) return;
        void busy(async () => {
          try {
            await job();
          } catch (e) {
            logger.error({ job: s.job, err: errorMessage(e) }, 'scheduled job failed');
          }
        });
      }),
    );
  }
  logger.info({ role: c.role, terminal: c.terminal, pollMs: c.prices.pollMs, schedule: c.schedule }, 'cfx running');

  await stopped;
  if (pollTimer) clearTimeout(pollTimer);
  for (const t of tasks) t.stop();
  await current.catch(() => undefined);
  await app.close();
  if (opts.signals !== false) {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
  logger.info('stopped');
  return 0;
}
