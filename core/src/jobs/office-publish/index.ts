import { defineJob } from '../../api/index.js';
import { coreRefs } from '../../di/refs.js';
import { PUBLISH_JOB, runPublish } from './publish.js';

export { Publish, runPublish, PUBLISH_JOB, type PublishResult } from './publish.js';

/** office.publish (office): the back office's goods exports to every terminal's inbox, then acknowledged (publish.ts) */
export const officePublishJob = defineJob({
  id: PUBLISH_JOB,
  roles: ['office'],
  description: "publish the back office's goods exports to the terminals' inboxes",
  deps: { app: coreRefs.app },
  create({ app }) {
    return {
      async run(ctx) {
        const r = await runPublish(app, { stop: ctx.signal, strict: ctx.trigger === 'cli' });
        return {
          result: !r.published && !r.quarantined ? 'idle' : r.quarantined ? 'partial' : 'ok',
          files: r.published,
          bytes: r.bytes,
          details: { exports: r.exports, published: r.published, quarantined: r.quarantined, ...(r.waiting.length ? { waiting: r.waiting } : {}), outcomes: r.outcomes.map((o) => ({ terminal: o.terminal, result: o.result, ...(o.result === 'published' ? { name: o.name } : {}) })) },
          contacted: r.exports > 0,
          output: r,
        };
      },
    };
  },
});
