// @cfx/transport-nats: nats:// and tls:// on NATS JetStream's object store (npm `nats`).
import type { PluginContext, TransportProvider } from '@cfx/core/api';
import { createNatsTransport } from './nats-transport.js';

export { createNatsTransport, NatsTransport, type NatsTransportOptions } from './nats-transport.js';
export { classify } from './errors.js';

export const natsTransportProvider: TransportProvider = {
  schemes: ['nats', 'tls'],
  create: (ctx) => createNatsTransport(ctx),
};

export function activate(ctx: PluginContext): void {
  ctx.registerTransport(natsTransportProvider);
}
