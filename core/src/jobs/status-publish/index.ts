import { coreServices, defineJob } from '../../api/index.js';
import { coreRefs } from '../../di/refs.js';
import { StatusPublisher } from './status.js';

export { StatusPublisher, buildStatus, statusBytes, statusWriteState, lastErrorOf, STATUS_FORMAT, STATUS_MAX_BYTES, STATUS_KV, type StatusDoc, type StatusWriteState } from './status.js';

/**
 * status.publish (terminal): the status file the office reads (docs/fleet.md, `cfx.status/1`).
 * `cfx run` runs it every `status.every` and soon after a change. A write is a heartbeat, not an
 * exchange: its runs end 'idle', so a poll loop records none (the last write and error are in kv,
 * shown by `cfx status`); a failed write fails only this run, never the job whose change asked for it.
 */
export const statusPublishJob = defineJob({
  id: 'status.publish',
  roles: ['terminal'],
  description: "write this terminal's status file for the office (docs/fleet.md)",
  deps: { config: coreRefs.config, store: coreRefs.store, transports: coreServices.transports, clock: coreServices.clock, logger: coreServices.logger },
  async create({ config, store, transports, clock, logger }) {
    const transport = await transports.open('status.publish');
    const publisher = new StatusPublisher({ config, store, transport, clock, logger });
    return {
      async run(ctx) {
        const w = await publisher.publish(ctx.signal);
        // no heartbeat of its own: the price poll's already tells that the server is reachable
        return { result: 'idle', files: 1, bytes: w.bytes, output: w };
      },
      close: () => transport.close(),
    };
  },
});
