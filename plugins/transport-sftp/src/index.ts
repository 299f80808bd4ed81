// @cfx/transport-sftp: sftp:// on ssh2-sftp-client (ssh2), host keys pinned.
import type { PluginContext, TransportProvider } from '@cfx/core/api';
import { createSftpTransport } from './sftp-transport.js';

export { createSftpTransport, SftpTransport, DEFAULT_CHUNK, DEFAULT_CONCURRENCY, type SftpTransportOptions, type SftpTransportExtras } from './sftp-transport.js';
export { fingerprint, keyType, hostKeyPolicy, parseKnownHosts, hostMatches, knownHostsName, HostKeyVerifier, type HostKeyPolicy } from './hostkey.js';

/** The provider as activate() registers it: `storageDir` holds the tofu store (known_hosts.json). */
export function sftpTransportProvider(storageDir?: string): TransportProvider {
  return {
    schemes: ['sftp'],
    create: (ctx) => createSftpTransport(ctx, storageDir !== undefined ? { storageDir } : {}),
  };
}

export function activate(ctx: PluginContext): void {
  ctx.registerTransport(sftpTransportProvider(ctx.storageDir));
}
