import { TransportError, type TransportErrorKind } from '@cfx/core/api';
import { scrub } from '@cfx/core/text';

// secrets are scrubbed the same way in every transport (core's helper)
export { scrub };

/** Node socket error codes that mean "the server or the network is not there right now". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_PREMATURE_CLOSE',
]);

/** OpenSSL/Node codes for "the server's certificate does not prove who it is". */
const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REVOKED', 'CERT_SIGNATURE_FAILURE', 'INVALID_CA', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface ErrLike {
  message?: unknown;
  code?: unknown;
}

/**
 * A reply after which the server's side of the session is gone: 421 (RFC 959: closing), and
 * vsftpd's "500 OOPS: …" (its die(): the session process exits right after writing it).
 */
export function isSessionEnded(err: unknown): boolean {
  const e = err as ErrLike | undefined;
  return typeof e?.code === 'number' && typeof e.message === 'string' && (e.code === 421 || /^\d{3}[ -]OOPS: /.test(e.message));
}

/** What basic-ftp throws: FTPError (numeric `code`, message = the server's reply) or Node/TLS errors (string `code`). */
export function classify(err: unknown): { kind: TransportErrorKind; reply: string; ftpCode?: number } {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const reply = message.split('\n')[0]!.trim();

  if (typeof e.code === 'number') {
    const c = e.code;
    let kind: TransportErrorKind;
    if (isSessionEnded(err)) kind = 'Unavailable';
    else if (c === 550) kind = /permission|denied|not allowed|access/i.test(message) ? 'PermissionDenied' : 'NotFound';
    // 450, and 451 from servers that answer a missing path with it (ftp-srv: "451 ENOENT: no such file…")
    else if (c === 450 || c === 451) kind = /no such|not found|not exist|ENOENT/i.test(message) ? 'NotFound' : 'Unavailable';
    else if (c === 552 || c === 553 || c === 530 || c === 532) kind = 'PermissionDenied';
    // 4xx replies are transient by definition (421 closing, 425/426 data connection trouble)
    else if (c >= 400 && c < 500) kind = 'Unavailable';
    else kind = 'Protocol';
    return { kind, reply, ftpCode: c };
  }

  const code = typeof e.code === 'string' ? e.code : '';
  if (CERT_CODES.has(code) || /certificate|self[- ]signed/i.test(message)) return { kind: 'HostKey', reply: code ? `${reply} (${code})` : reply };
  if (code === 'ETIMEDOUT' || /^(Client is closed because )?Timeout\b/i.test(message) || /\btimed? ?out\b/i.test(message)) return { kind: 'Timeout', reply };
  if (NETWORK_CODES.has(code)) return { kind: 'Unavailable', reply };
  // basic-ftp's own wording for a connection that went away (server FIN, idle close, reset)
  if (/closed|FIN packet|transmission error|not connected|disconnected|data connection/i.test(message)) return { kind: 'Unavailable', reply };
  // basic-ftp wraps a failed EPSV+PASV in this sentence; the usual cause is a blocked data port
  if (/transfer strategies/i.test(message)) return { kind: 'Unavailable', reply };
  return { kind: 'Protocol', reply };
}


/**
 * basic-ftp error → TransportError. The message names the operation, the path and the server's
 * reply, never the password (basic-ftp masks PASS itself; scrub() is the second belt).
 */
export function toTransportError(err: unknown, op: string, path: string | undefined, secrets: readonly string[] = []): TransportError {
  if (err instanceof TransportError) return err;
  const { kind, reply, ftpCode } = classify(err);
  const where = path !== undefined ? `${op} ${path}` : op;
  const hint = kind === 'HostKey'
    ? ' — the server certificate is not trusted; set tls.ca to the CA that signed it'
    : isSessionEnded(err) ? ' — the server ended the session; the next call logs in again' : '';
  return new TransportError(kind, scrub(`ftp ${where}: ${reply}${hint}`, secrets), {
    cause: err,
    ...(path !== undefined ? { path } : {}),
    details: ftpCode !== undefined ? { ftpCode } : {},
  });
}
