// The checks behind cfx's own JSON-schema keywords (`x-duration`, `x-size`, `x-cron`, `x-url`), as
// plain functions with no ajv in sight: the runtime ajv (validator.ts getAjv) calls them as keyword
// `validate` functions, and the precompiled validators (*.generated.ts, scripts/gen-validators.mjs)
// import them from here, so both run the very same code.
import { createRequire } from 'node:module';
import { tryParseDuration, tryParseSize } from './units.js';

/**
 * The longest duration a config may give: Node sets a longer timer to 1 ms (with a warning), so
 * `poll: 30d` would be a busy loop rather than a long wait.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/[^\s]*$/;

/** The URL scheme of `s` (lower case) when `s` is a URL we accept as `server`; otherwise undefined. */
export function urlScheme(s: string): string | undefined {
  const m = SCHEME.exec(s);
  if (!m) return undefined;
  if (!URL.canParse(s)) return undefined;
  return m[1]!.toLowerCase();
}

type CronCheck = (expr: string) => { valid: boolean; errors: { field: string; message: string }[] };
let cronCheck: CronCheck | undefined;
/** node-cron's detailed check, loaded when a cron expression is first checked (most configs have none) */
export function cronDetails(expr: string): ReturnType<CronCheck> {
  cronCheck ??= (createRequire(import.meta.url)('node-cron') as { validateDetailed: CronCheck }).validateDetailed;
  return cronCheck(expr);
}

export function xDuration(schema: { min?: number; max?: number }, data: unknown): boolean {
  const ms = tryParseDuration(data);
  return ms !== undefined && ms >= (schema.min ?? 0) && ms <= (schema.max ?? MAX_DURATION_MS);
}

export function xSize(schema: { min?: number }, data: unknown): boolean {
  const n = tryParseSize(data);
  return n !== undefined && n >= (schema.min ?? 0);
}

export function xCron(schema: boolean, data: string): boolean {
  return !schema || cronDetails(data).valid;
}

export function xUrl(schema: boolean, data: string): boolean {
  return !schema || urlScheme(data) !== undefined;
}
