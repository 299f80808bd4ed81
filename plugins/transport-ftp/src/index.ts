// @cfx/transport-ftp: ftp:// and ftps:// (explicit TLS) transports on basic-ftp.
import type { PluginContext, TransportProvider } from '@cfx/core/api';
import { createFtpTransport } from './ftp-transport.js';

export { createFtpTransport, FtpTransport, type FtpTransportOptions, type ListingMode } from './ftp-transport.js';
export type { NameEncoding } from './names.js';

export const ftpTransportProvider: TransportProvider = {
  schemes: ['ftp', 'ftps'],
  create: createFtpTransport,
};

export function activate(ctx: PluginContext): void {
  ctx.registerTransport(ftpTransportProvider);
}
