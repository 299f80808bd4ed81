import { setTimeout as sleep } from 'node:timers/promises';
import { coreServices, defineJob } from '../../api/index.js';
import { coreRefs } from '../../di/refs.js';
import { fault } from '../../faults/index.js';
import { parseResendRequest } from '../sales-push/sales-push.js';
import { needsAttention, PricePull, pullFileDetails, type PullProgress, type PullResult } from './price-pull.js';

export { PricePull, pullFileDetails, forceKey, type PullResult, type FileOutcome, type PullProgress } from './price-pull.js';

/**
 * prices.pull (terminal): everything complete in the inbox, applied in order (price-pull.ts). A
 * command run (`cfx pull`) looks twice, a poll interval apart, so a file whose size must hold
 * still is taken in one command. The office's resend requests found in the inbox are served by
 * running sales.resend, then deleted.
 */
export const pricesPullJob = defineJob({
  id: 'prices.pull',
  roles: ['terminal'],
  description: 'take the complete price files from the inbox, apply, archive, delete them remotely',
  deps: { config: coreRefs.config, store: coreRefs.store, jobs: coreRefs.jobs, transports: coreServices.transports, formats: coreServices.formats, logger: coreServices.logger, clock: coreServices.clock },
  async create({ config, store, jobs, transports, formats, logger, clock }) {
    const transport = await transports.open('prices.pull');
    const format = await formats.get(config.prices.format, config.prices.options);
    const pull = new PricePull({ config, store, transport, format, logger, clock });
    return {
      async run(ctx) {
        pull.forRun({ stop: ctx.signal, ...(ctx.progress ? { onProgress: (p: PullProgress) => ctx.progress!({ ...p }) } : {}) });
        if (ctx.trigger === 'cli') {
          const first = await pull.listReady();
          // "complete" means the size held still across two listings: look once more after a poll interval
          if (first.waiting.length) await sleep(Math.max(config.prices.pollMs, config.prices.stableMs), undefined, { signal: ctx.signal }).catch(() => undefined);
        }
        const r: PullResult = await pull.cycle();
        let served = 0;
        for (const name of r.requests) {
          const period = parseResendRequest(name);
          if (!period || ctx.signal.aborted) continue;
          await jobs.run('sales.resend', { trigger: ctx.trigger, signal: ctx.signal, params: { ...period, requestedBy: name } });
          // stopped half-way: the request stays in the inbox and the next pull resends the whole period
          if (ctx.signal.aborted) break;
          fault('sales.resend:request-served');
          await pull.deleteRequest(name);
          served++;
        }
        const flagged = r.files.filter(needsAttention).length;
        return {
          // a served resend request is activity too (the status file reports it)
          result: r.files.length === 0 && served === 0 ? 'idle' : flagged ? 'partial' : 'ok',
          files: r.files.length,
          bytes: r.bytes,
          details: { files: r.files.map(pullFileDetails) },
          contacted: true,
          output: r,
        };
      },
      close: () => transport.close(),
    };
  },
});
