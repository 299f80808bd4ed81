import { createRequire } from 'node:module';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { JsonSchema } from '../api/plugin.js';
import type { PathSeg } from './env.js';
import { MAX_DURATION_MS, cronDetails, xCron, xDuration, xSize, xUrl } from './keyword-checks.js';
import { tryParseDuration } from './units.js';
import { validate as coreValidate } from './config-validate.generated.js';
import { validators as builtinPluginValidators } from './plugin-validate.generated.js';

export { MAX_DURATION_MS, urlScheme } from './keyword-checks.js';

export interface RawProblem {
  path: PathSeg[];
  message: string;
  /** the YAML node to point at is the key (unknown key) rather than the value */
  atKey?: boolean;
  /** a string was expected and got something else */
  wantedString?: boolean;
  /** only says "a branch failed": dropped when a more precise problem sits at or under its path */
  weak?: boolean;
}

type AddFormats = (ajv: Ajv2020) => Ajv2020;

export function formatMs(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const META_2020 = 'https://json-schema.org/draft/2020-12/schema';
let ajvInstance: Ajv2020 | undefined;
let metaValidator: ValidateFunction | undefined;
/** the precompiled meta-schema validator (CommonJS, ~100 KB): required with ajv, not by every command */
export function metaValidate(): ValidateFunction {
  return (metaValidator ??= createRequire(import.meta.url)('./meta-2020-validate.generated.cjs') as ValidateFunction);
}

/** the options of the one ajv instance; scripts/validator-source.mjs precompiles with the same */
export const AJV_OPTIONS = { strict: true, allErrors: true, allowUnionTypes: true, useDefaults: true, verbose: true } as const;

/**
 * The one ajv instance: draft 2020-12, strict, all errors, defaults filled in (plugin sections).
 * Custom keywords usable in plugin schemas too: `x-secret: true` (redact), `x-duration: {min, max}`
 * (max at most MAX_DURATION_MS, the default),
 * `x-size: {min}`, `x-cron: true`, `x-url: true`.
 *
 * Loaded on first use (ajv is ~30 ms to load, a compile more): core's own schema and the built-in
 * plugins' option schemas are precompiled (config-validate.generated.ts, plugin-validate.generated.ts),
 * so only a schema that is not among them — a third-party plugin's — brings ajv in at run time.
 */
export function getAjv(): Ajv2020 {
  if (ajvInstance) return ajvInstance;
  const require = createRequire(import.meta.url);
  const { Ajv2020: Ajv } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const formatsModule = require('ajv-formats') as { default?: AddFormats } & AddFormats;
  const addFormats: AddFormats = formatsModule.default ?? formatsModule;
  ajvInstance = setupAjv(new Ajv({ ...AJV_OPTIONS }), addFormats);
  return ajvInstance;
}

/**
 * cfx's keywords and formats on an ajv instance (the runtime one, and the one the generator
 * precompiles with: the same definitions, so the same code).
 */
export function setupAjv(ajv: Ajv2020, addFormats: AddFormats): Ajv2020 {
  // Every schema (ours, the plugins', each keyword's metaSchema below) is checked against the draft
  // 2020-12 meta-schema, which ajv compiles on first use: ~50 ms of every command that loads a
  // config. Its validator is precompiled at build time (scripts/gen-validators.mjs, same options);
  // ajv's validateSchema asks getSchema for it, so the check and its messages stay ajv's own.
  const getSchema = ajv.getSchema.bind(ajv);
  ajv.getSchema = ((ref: string) => (ref === META_2020 ? metaValidate() : getSchema(ref))) as typeof ajv.getSchema;
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  const minSchema = { type: 'object', properties: { min: { type: 'number' } }, additionalProperties: false };
  ajv.addKeyword({
    keyword: 'x-duration',
    schemaType: 'object',
    metaSchema: { type: 'object', properties: { min: { type: 'number' }, max: { type: 'number', maximum: MAX_DURATION_MS } }, additionalProperties: false },
    errors: false,
    validate: xDuration,
  });
  ajv.addKeyword({ keyword: 'x-size', schemaType: 'object', metaSchema: minSchema, errors: false, validate: xSize });
  ajv.addKeyword({ keyword: 'x-cron', type: 'string', schemaType: 'boolean', errors: false, validate: xCron });
  ajv.addKeyword({ keyword: 'x-url', type: 'string', schemaType: 'boolean', errors: false, validate: xUrl });
  return ajv;
}

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

export function validateCore(data: unknown): RawProblem[] {
  const v = coreValidate as Validate;
  return v(data) ? [] : translate(v.errors ?? [], []);
}

const pluginValidators = new WeakMap<object, ValidateFunction | Error>();

/** Plugin schema with objects closed by default and root `$id`/`$schema` dropped (two contributions may share one). */
export function preparePluginSchema(schema: JsonSchema): JsonSchema {
  const close = (node: unknown, top: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => close(n, false));
    if (node === null || typeof node !== 'object') return node;
    const src = node as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(src)) {
      if (top && (k === '$id' || k === '$schema')) continue;
      if (k === 'properties' || k === '$defs' || k === 'definitions' || k === 'patternProperties') {
        const m: Record<string, unknown> = {};
        for (const [pk, pv] of Object.entries((v ?? {}) as Record<string, unknown>)) m[pk] = close(pv, false);
        out[k] = m;
      } else if (k === 'items' || k === 'additionalProperties' || k === 'prefixItems') {
        out[k] = close(v, false);
      } else {
        out[k] = structuredClone(v);
      }
    }
    const composed = ['allOf', 'anyOf', 'oneOf', '$ref', 'if', 'unevaluatedProperties', 'additionalProperties', 'patternProperties'].some((k) => k in src);
    if (!composed && src.properties && typeof src.properties === 'object') out.additionalProperties = false;
    return out;
  };
  return close(schema, true) as JsonSchema;
}

/**
 * Validates (and fills defaults into) one plugin section. `what` names the schema's owner in a
 * problem when the schema itself does not compile, e.g. `transport "sftp"`.
 */
export function validatePluginSection(schema: JsonSchema, data: unknown, path: PathSeg[], what: string): RawProblem[] {
  let v = pluginValidators.get(schema);
  if (!v) {
    try {
      const prepared = preparePluginSchema(schema);
      v = ((builtinPluginValidators as Record<string, unknown>)[JSON.stringify(prepared)] as ValidateFunction | undefined) ?? getAjv().compile(prepared);
    } catch (e) {
      v = e instanceof Error ? e : new Error(String(e));
    }
    pluginValidators.set(schema, v);
  }
  if (v instanceof Error) return [{ path, message: `cannot be checked: the option schema of ${what} is invalid (${v.message})` }];
  return v(data) ? [] : translate(v.errors ?? [], path);
}

function pointerToPath(pointer: string): PathSeg[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** A near key for a typo, or undefined. */
export function suggest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(key.toLowerCase(), c.toLowerCase());
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  const limit = key.length <= 4 ? 1 : 2;
  return best !== undefined && bestD <= limit ? best : undefined;
}

function durationWords(schema: { min?: number; max?: number }, data: unknown): string {
  const max = schema.max ?? MAX_DURATION_MS;
  const ms = tryParseDuration(data);
  if (ms !== undefined && ms > max) {
    return max === MAX_DURATION_MS
      ? `must be at most ${MAX_DURATION_MS}ms (about 24.8 days: Node fires a longer timer at once, a busy loop), got ${formatMs(ms)}`
      : `must be at most ${formatMs(max)}, got ${formatMs(ms)}`;
  }
  const min = schema.min ?? 0;
  return min > 0 ? `must be a duration of at least ${formatMs(min)} (e.g. "500ms", "1s", "2m") or a number of milliseconds` : 'must be a duration (e.g. "500ms", "1s", "2m") or a number of milliseconds';
}

function message(e: ErrorObject): RawProblem | undefined {
  const path = pointerToPath(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const props = Object.keys(((e.parentSchema as Record<string, unknown> | undefined)?.properties ?? {}) as object);
      const near = suggest(key, props);
      return { path: [...path, key], message: `unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ''}`, atKey: true };
    }
    case 'required':
      return { path: [...path, String(p.missingProperty)], message: 'is required' };
    case 'type': {
      const t = Array.isArray(p.type) ? (p.type as string[]) : String(p.type).split(',');
      // a YAML plain scalar like 001 or yes parses as a number / boolean: quoting it keeps the text
      const quotable = t.length === 1 && t[0] === 'string' && (typeof e.data === 'number' || typeof e.data === 'boolean');
      return { path, message: `must be ${t.join(' or ')}`, ...(quotable ? { wantedString: true } : {}) };
    }
    case 'enum':
      return { path, message: `must be one of: ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}` };
    case 'const':
      return { path, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'pattern':
      return { path, message: `must match "${String(p.pattern)}"` };
    case 'format':
      return { path, message: `must be a valid ${String(p.format)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `must be ${String(p.comparison)} ${String(p.limit)}` };
    case 'minLength':
      return { path, message: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long` };
    case 'maxLength':
      return { path, message: `must be at most ${String(p.limit)} characters long` };
    case 'minItems':
      return { path, message: p.limit === 1 ? 'must not be empty' : `must have at least ${String(p.limit)} items` };
    case 'maxItems':
      return { path, message: `must have at most ${String(p.limit)} items` };
    case 'uniqueItems':
      return { path, message: `must not repeat a value (items ${String(p.j)} and ${String(p.i)} are the same)` };
    case 'x-duration':
      return { path, message: durationWords((e.schema as { min?: number; max?: number }) ?? {}, e.data) };
    case 'x-size': {
      return { path, message: 'must be a size (e.g. "64KB", "512MB", "1GB") or a number of bytes, at least 1' };
    }
    case 'x-cron': {
      const d = typeof e.data === 'string' ? cronDetails(e.data) : undefined;
      const why = d?.errors[0] ? ` (${d.errors[0].field === 'expression' ? '' : `${d.errors[0].field}: `}${d.errors[0].message})` : '';
      return { path, message: `must be a cron expression like "0 3 * * *"${why}` };
    }
    case 'x-url':
      return { path, message: 'must be a URL with a scheme, e.g. "ftp://user:${CFX_FTP_PASSWORD}@host:21"' };
    case 'if':
      return undefined;
    case 'anyOf':
      return { path, message: 'must match one of the allowed shapes', weak: true };
    case 'oneOf':
      return { path, message: 'must match exactly one of the allowed shapes', weak: true };
    default:
      return { path, message: e.message ?? `fails the "${e.keyword}" rule` };
  }
}

export function translate(errors: ErrorObject[], prefix: PathSeg[]): RawProblem[] {
  const out: RawProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const m = message(e);
    if (!m) continue;
    m.path = [...prefix, ...m.path];
    const k = `${m.path.join('\u0000')}\u0001${m.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(m);
  }
  const under = (a: PathSeg[], b: PathSeg[]) => a.length >= b.length && b.every((s, i) => String(a[i]) === String(s));
  return out.filter((w) => !w.weak || !out.some((o) => o !== w && !o.weak && under(o.path, w.path)));
}
