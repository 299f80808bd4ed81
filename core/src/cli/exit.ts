import { ErrorCodes, errorMessage, isCfxError, type CfxError } from '../api/index.js';

/** Exit codes: part of the CLI's contract, listed in `cfx --help`. */
export const Exit = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  REJECTED: 3,
  INTERRUPTED: 130,
} as const;

export const EXIT_HELP = `Exit codes:
  0    success
  1    the exchange failed (server unreachable, plugin failed, I/O error); nothing was lost
  2    usage or configuration error, or an invalid sale (every problem is printed as "path: message")
  3    done, but some input was rejected and quarantined (see "cfx status")
  130  interrupted (SIGINT/SIGTERM) after finishing the current step`;

const USAGE_CODES = new Set<string>([
  ErrorCodes.CONFIG_NOT_FOUND,
  ErrorCodes.CONFIG_PARSE,
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.CONFIG_ENV_MISSING,
  ErrorCodes.PLUGIN_MANIFEST,
  ErrorCodes.PLUGIN_ENGINE,
  ErrorCodes.PLUGIN_CONFLICT,
  ErrorCodes.PLUGIN_NOT_FOUND,
  ErrorCodes.NO_PROVIDER,
  ErrorCodes.USAGE,
  ErrorCodes.STORE_VERSION,
  ErrorCodes.SALE_INVALID,
  ErrorCodes.SALE_CONFLICT,
  ErrorCodes.SHIFT_INVALID,
  ErrorCodes.SHIFT_CONFLICT,
]);

export function exitCodeFor(e: unknown): number {
  return isCfxError(e) && USAGE_CODES.has((e as CfxError).code) ? Exit.USAGE : Exit.FAILED;
}

export function errorJson(e: unknown): Record<string, unknown> {
  if (isCfxError(e)) {
    const c = e as CfxError;
    return { code: c.code, message: c.message, ...(c.details ?? {}) };
  }
  return { code: ErrorCodes.INTERNAL, message: errorMessage(e) };
}
