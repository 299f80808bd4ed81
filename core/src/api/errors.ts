/**
 * The one error catalogue. Codes are stable: scripts, the HTTP API and plugins match on them,
 * so a code is never renamed or reused; new failures get new codes.
 */
export const ErrorCodes = {
  // configuration
  CONFIG_NOT_FOUND: 'CFX_E_CONFIG_NOT_FOUND',
  CONFIG_PARSE: 'CFX_E_CONFIG_PARSE',
  CONFIG_INVALID: 'CFX_E_CONFIG_INVALID',
  CONFIG_ENV_MISSING: 'CFX_E_CONFIG_ENV_MISSING',
  // plugin host
  PLUGIN_NOT_FOUND: 'CFX_E_PLUGIN_NOT_FOUND',
  PLUGIN_MANIFEST: 'CFX_E_PLUGIN_MANIFEST',
  PLUGIN_ENGINE: 'CFX_E_PLUGIN_ENGINE',
  PLUGIN_CONFLICT: 'CFX_E_PLUGIN_CONFLICT',
  PLUGIN_ACTIVATE: 'CFX_E_PLUGIN_ACTIVATE',
  PLUGIN_CONTRIBUTION: 'CFX_E_PLUGIN_CONTRIBUTION',
  PLUGIN_CALL: 'CFX_E_PLUGIN_CALL',
  PLUGIN_TIMEOUT: 'CFX_E_PLUGIN_TIMEOUT',
  PLUGIN_FAILED: 'CFX_E_PLUGIN_FAILED',
  NO_PROVIDER: 'CFX_E_NO_PROVIDER',
  // transports (the closed set every transport maps its errors to)
  TRANSPORT_NOT_FOUND: 'CFX_E_TRANSPORT_NOT_FOUND',
  TRANSPORT_ALREADY_EXISTS: 'CFX_E_TRANSPORT_ALREADY_EXISTS',
  TRANSPORT_PERMISSION_DENIED: 'CFX_E_TRANSPORT_PERMISSION_DENIED',
  TRANSPORT_UNAVAILABLE: 'CFX_E_TRANSPORT_UNAVAILABLE',
  TRANSPORT_TIMEOUT: 'CFX_E_TRANSPORT_TIMEOUT',
  TRANSPORT_PROTOCOL: 'CFX_E_TRANSPORT_PROTOCOL',
  TRANSPORT_ABORTED: 'CFX_E_TRANSPORT_ABORTED',
  TRANSPORT_HOST_KEY: 'CFX_E_TRANSPORT_HOST_KEY',
  // formats
  FORMAT_INVALID: 'CFX_E_FORMAT_INVALID',
  FORMAT_LIMIT: 'CFX_E_FORMAT_LIMIT',
  FORMAT_UNSUPPORTED: 'CFX_E_FORMAT_UNSUPPORTED',
  /** the input is not complete yet (a receipt without its closing line): leave it where it is and read it again later */
  FORMAT_INCOMPLETE: 'CFX_E_FORMAT_INCOMPLETE',
  // store
  STORE_VERSION: 'CFX_E_STORE_VERSION',
  STORE_IO: 'CFX_E_STORE_IO',
  // jobs and data
  FILE_TOO_LARGE: 'CFX_E_FILE_TOO_LARGE',
  /** a full price file refused by a guard: empty (prices.allowEmptyFull) or removing too much (prices.maxRemovedShare) */
  FULL_FILE_REFUSED: 'CFX_E_FULL_FILE_REFUSED',
  UNSAFE_NAME: 'CFX_E_UNSAFE_NAME',
  SALE_INVALID: 'CFX_E_SALE_INVALID',
  SALE_CONFLICT: 'CFX_E_SALE_CONFLICT',
  /** a shift close of a terminal + shift already recorded with different content (docs/fleet.md) */
  SHIFT_CONFLICT: 'CFX_E_SHIFT_CONFLICT',
  JOB_FAILED: 'CFX_E_JOB_FAILED',
  USAGE: 'CFX_E_USAGE',
  INTERNAL: 'CFX_E_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class CfxError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (file, line, path, ...). Never holds secrets. */
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'CfxError';
    this.code = code;
    this.details = options?.details ?? {};
  }
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export type TransportErrorKind = 'NotFound' | 'AlreadyExists' | 'PermissionDenied' | 'Unavailable' | 'Timeout' | 'Protocol' | 'Aborted' | 'HostKey';

const TRANSPORT_CODE: Record<TransportErrorKind, ErrorCode> = {
  NotFound: ErrorCodes.TRANSPORT_NOT_FOUND,
  AlreadyExists: ErrorCodes.TRANSPORT_ALREADY_EXISTS,
  PermissionDenied: ErrorCodes.TRANSPORT_PERMISSION_DENIED,
  Unavailable: ErrorCodes.TRANSPORT_UNAVAILABLE,
  Timeout: ErrorCodes.TRANSPORT_TIMEOUT,
  Protocol: ErrorCodes.TRANSPORT_PROTOCOL,
  Aborted: ErrorCodes.TRANSPORT_ABORTED,
  HostKey: ErrorCodes.TRANSPORT_HOST_KEY,
};

/** Thrown by transports. `kind` is the closed set jobs react to (retry on Unavailable/Timeout, ...). */
export class TransportError extends CfxError {
  readonly kind: TransportErrorKind;
  readonly path: string | undefined;
  constructor(kind: TransportErrorKind, message: string, options?: { cause?: unknown; path?: string; details?: Record<string, unknown> }) {
    super(TRANSPORT_CODE[kind], message, { cause: options?.cause, details: { ...options?.details, ...(options?.path !== undefined ? { path: options.path } : {}) } });
    this.name = 'TransportError';
    this.kind = kind;
    this.path = options?.path;
  }
  /** Worth retrying on a later cycle (the network, not the data, was the problem). */
  get retryable(): boolean {
    return this.kind === 'Unavailable' || this.kind === 'Timeout';
  }
}

/** Where in an input a format found a problem: enough for a person to open the file and fix it. */
export interface FormatLocation {
  file?: string;
  line?: number;
  field?: string;
  column?: number;
}

export class FormatError extends CfxError {
  readonly location: FormatLocation;
  constructor(message: string, location: FormatLocation = {}, options?: { cause?: unknown; code?: ErrorCode }) {
    const where = [location.file, location.line !== undefined ? `line ${location.line}` : undefined, location.field !== undefined ? `field ${location.field}` : undefined]
      .filter(Boolean)
      .join(', ');
    super(options?.code ?? ErrorCodes.FORMAT_INVALID, where ? `${where}: ${message}` : message, { cause: options?.cause, details: { ...location, reason: message } });
    this.name = 'FormatError';
    this.location = location;
  }
}

/** Any failure that came out of plugin code, re-thrown by the host with who and where. */
export class PluginError extends CfxError {
  readonly pluginId: string;
  readonly hook: string;
  constructor(code: ErrorCode, pluginId: string, hook: string, message: string, options?: { cause?: unknown }) {
    super(code, `plugin ${pluginId} (${hook}): ${message}`, { cause: options?.cause, details: { pluginId, hook } });
    this.name = 'PluginError';
    this.pluginId = pluginId;
    this.hook = hook;
  }
}

export function isCfxError(e: unknown): e is CfxError {
  return e instanceof CfxError || (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && String((e as { code: string }).code).startsWith('CFX_E_'));
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
