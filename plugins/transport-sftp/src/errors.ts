import { TransportError, type TransportErrorKind } from '@cfx/core/api';
import { STATUS } from './ssh2-types.js';
import { scrub } from '@cfx/core/text';

// secrets are scrubbed the same way in every transport (core's helper)
export { scrub };

/** Node socket error codes that mean "the server or the network is not there right now". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE',
]);

interface ErrLike {
  message?: unknown;
  code?: unknown;
  level?: unknown;
}

/**
 * What ssh2 / ssh2-sftp-client throw → one of the closed kinds.
 * - SFTP status replies carry a numeric `code` (2 no such file, 3 permission denied, ...).
 * - ssh2 connection errors carry a `level`: client-socket (then a Node `code`), client-timeout,
 *   client-authentication, handshake, protocol.
 * - ssh2-sftp-client rewraps some of them into plain messages ("getConnection: ..."), so the wording
 *   is the last resort.
 */
export function classify(err: unknown): { kind: TransportErrorKind; reason: string } {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const reason = message.split('\n')[0]!.trim();

  if (typeof e.code === 'number') {
    switch (e.code) {
      case STATUS.NO_SUCH_FILE:
      case STATUS.NO_SUCH_PATH:
        return { kind: 'NotFound', reason };
      case STATUS.PERMISSION_DENIED:
      case STATUS.WRITE_PROTECT:
        return { kind: 'PermissionDenied', reason };
      case STATUS.FILE_ALREADY_EXISTS:
        return { kind: 'AlreadyExists', reason };
      case STATUS.NO_CONNECTION:
      case STATUS.CONNECTION_LOST:
        return { kind: 'Unavailable', reason };
      default:
        return { kind: 'Protocol', reason };
    }
  }

  const code = typeof e.code === 'string' ? e.code : '';
  const level = typeof e.level === 'string' ? e.level : '';
  if (level === 'client-authentication' || /All configured authentication methods failed|authentication/i.test(message)) return { kind: 'PermissionDenied', reason };
  if (/Cannot parse privateKey|passphrase|private key/i.test(message)) return { kind: 'PermissionDenied', reason };
  if (/Host denied|host key/i.test(message)) return { kind: 'HostKey', reason };
  if (code === 'ETIMEDOUT' || level === 'client-timeout' || /Timed out while waiting for handshake|Keepalive timeout|\btimed? ?out\b/i.test(message)) return { kind: 'Timeout', reason };
  if (NETWORK_CODES.has(code)) return { kind: 'Unavailable', reason: code && !reason.includes(code) ? `${reason} (${code})` : reason };
  if (level === 'client-socket') return { kind: 'Unavailable', reason };
  // the channel or the connection went away under a request
  if (/No response from server|Not connected|No SFTP connection|Unexpected (end|close) event|connection lost|closed|socket hang up|ECONNRESET|ECONNREFUSED/i.test(message)) {
    return { kind: 'Unavailable', reason };
  }
  return { kind: 'Protocol', reason };
}


/** ssh2 error → TransportError whose message names the operation, the path and the server's reason, never a secret. */
export function toTransportError(err: unknown, op: string, path: string | undefined, secrets: readonly string[] = [], extra: { target?: string; details?: Record<string, unknown> } = {}): TransportError {
  if (err instanceof TransportError) return err;
  const { kind, reason } = classify(err);
  const where = (path !== undefined ? `${op} ${path}` : op) + (extra.target !== undefined ? ` → ${extra.target}` : '');
  const details = extra.details ?? {};
  const status = typeof (err as ErrLike | null)?.code === 'number' ? { sftpStatus: (err as { code: number }).code } : {};
  return new TransportError(kind, scrub(`sftp ${where}: ${reason}`, secrets), {
    cause: err,
    ...(path !== undefined ? { path } : {}),
    details: { ...status, ...details },
  });
}
