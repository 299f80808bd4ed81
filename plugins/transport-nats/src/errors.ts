import { TransportError, type TransportErrorKind } from '@cfx/core/api';
import { scrub } from '@cfx/core/text';

interface ErrLike {
  message?: unknown;
  code?: unknown;
  name?: unknown;
}

/** Node socket error codes that mean "the server or the network is not there right now". */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * What the nats client throws → one of the closed kinds. NatsError carries a string `code`
 * (ErrorCode in nats.js: "CONNECTION_REFUSED", "TIMEOUT", "503", …); JetStream API errors carry the
 * HTTP-like status ("404" no such stream/message, "503" no JetStream reachable: no responders).
 */
export function classify(err: unknown): { kind: TransportErrorKind; reason: string } {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const reason = message.split('\n')[0]!.trim();
  const code = typeof e.code === 'string' ? e.code : '';
  switch (code) {
    case 'CONNECTION_REFUSED':
    case 'DISCONNECT':
    case 'CONNECTION_CLOSED':
    case 'CONNECTION_DRAINING':
    case 'CONNECTION_TIMEOUT':
    case '503':
      return { kind: 'Unavailable', reason: code === '503' ? `${reason} (no JetStream reachable: the server, its cluster or the leaf link is down)` : reason };
    case 'TIMEOUT':
    case '408':
      return { kind: 'Timeout', reason };
    case 'AUTHORIZATION_VIOLATION':
    case 'BAD_AUTHENTICATION':
    case 'BAD_CREDS':
    case 'AUTHENTICATION_EXPIRED':
    case 'AUTHENTICATION_TIMEOUT':
    case 'PERMISSIONS_VIOLATION':
    case 'ACCOUNT_EXPIRED':
      return { kind: 'PermissionDenied', reason };
    case '404':
      return { kind: 'NotFound', reason };
  }
  if (NETWORK_CODES.has(code)) return { kind: 'Unavailable', reason: `${reason} (${code})` };
  if (/timeout|timed out/i.test(message)) return { kind: 'Timeout', reason };
  if (/no responders|connection closed|disconnect/i.test(message)) return { kind: 'Unavailable', reason };
  if (/authori[sz]ation|authentication|permission/i.test(message)) return { kind: 'PermissionDenied', reason };
  return { kind: 'Protocol', reason };
}

/** A TransportError for `err`, passed through when it already is one; `secrets` scrubbed from the text. */
export function toTransportError(err: unknown, what: string, secrets: readonly string[], path?: string): TransportError {
  if (err instanceof TransportError) return err;
  const { kind, reason } = classify(err);
  return new TransportError(kind, scrub(`${what}: ${reason}`, secrets), { cause: err, ...(path !== undefined ? { path } : {}) });
}
