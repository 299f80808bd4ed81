// cfx-transport-file: a third-party cfx plugin contributing the file:// transport.
import type { PluginContext, TransportProvider } from '@cfx/core/api';
import { createFileTransport } from './file-transport.js';

export { FileTransport, createFileTransport, toTransportError, type FileTransportOptions } from './file-transport.js';

export const fileTransportProvider: TransportProvider = {
  schemes: ['file'],
  create: (ctx) => {
    const t = createFileTransport(ctx);
    ctx.logger.debug({ root: t.root }, 'file transport ready');
    return t;
  },
};

export function activate(ctx: PluginContext): void {
  ctx.registerTransport(fileTransportProvider);
}
