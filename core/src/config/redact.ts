import type { JsonSchema } from '../api/plugin.js';
import type { CfxConfig } from './types.js';
import type { PluginSchemas } from './load.js';
import { urlScheme } from './validator.js';

export const REDACTED = '***';

/** keys whose values are secrets wherever they sit (case-insensitive; `ftpPassword`, `apiToken` too) */
const SECRET_KEY = /(password|passphrase|token|secret)$/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

const URL_START = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Where the password of a URL-looking string sits: [start, end) or undefined. */
function passwordSpan(s: string): [number, number] | undefined {
  const m = URL_START.exec(s);
  if (!m) return undefined;
  const start = m[0].length;
  let end = s.length;
  for (let i = start; i < s.length; i++) if (s[i] === '/' || s[i] === '?' || s[i] === '#') { end = i; break; }
  let at = s.lastIndexOf('@', end - 1);
  if (at < start) {
    // no '@' in the authority: a password holding an unencoded '/', '?' or '#' still ends at an '@'
    at = s.indexOf('@', start);
    if (at < 0) return undefined;
  }
  const colon = s.indexOf(':', start);
  if (colon < 0 || colon > at) return undefined;
  return [colon + 1, at];
}

/** The URL with its password replaced by `***` (user, host, path kept); other strings unchanged. */
export function redactUrl(url: string): string {
  const span = passwordSpan(url);
  if (!span) return url;
  return url.slice(0, span[0]) + REDACTED + url.slice(span[1]);
}

/** The raw password of a URL (percent-decoded), or undefined. */
export function urlPassword(url: string): { raw: string; decoded: string } | undefined {
  const span = passwordSpan(url);
  if (!span || span[1] === span[0]) return undefined;
  const raw = url.slice(span[0], span[1]);
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    /* not percent-encoded */
  }
  return { raw, decoded };
}

/** URL-looking words inside free text with their passwords redacted. */
export function redactUrlsIn(s: string): string {
  if (!s.includes('://')) return s;
  if (URL_START.test(s) && !/\s/.test(s)) return redactUrl(s);
  return s.replace(/[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+/g, (u) => redactUrl(u));
}

type SchemaNode = Record<string, unknown>;

/** The schemas that may describe `key` of an object described by `schema` (local $refs and allOf/anyOf/oneOf followed). */
function childSchemas(schema: SchemaNode | undefined, key: string | number, root: SchemaNode | undefined, depth = 0): SchemaNode[] {
  if (!schema || depth > 20) return [];
  const out: SchemaNode[] = [];
  const obj = (v: unknown): v is SchemaNode => v !== null && typeof v === 'object' && !Array.isArray(v);
  const ref = schema.$ref;
  if (typeof ref === 'string' && ref.startsWith('#') && root) {
    const target = ref
      .slice(1)
      .split('/')
      .filter(Boolean)
      .reduce<unknown>((n, seg) => (obj(n) ? n[seg.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), root);
    if (obj(target)) out.push(...childSchemas(target, key, root, depth + 1));
  }
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    const list = schema[k];
    if (Array.isArray(list)) for (const s of list) if (obj(s)) out.push(...childSchemas(s, key, root, depth + 1));
  }
  if (typeof key === 'number') {
    const prefix = schema.prefixItems;
    if (Array.isArray(prefix) && obj(prefix[key])) out.push(prefix[key]);
    else if (obj(schema.items)) out.push(schema.items);
    return out;
  }
  const props = schema.properties;
  if (obj(props) && obj(props[key])) out.push(props[key]);
  else {
    const pp = schema.patternProperties;
    let matched = false;
    if (obj(pp)) {
      for (const [re, s] of Object.entries(pp)) {
        try {
          if (new RegExp(re, 'u').test(key) && obj(s)) {
            out.push(s);
            matched = true;
          }
        } catch {
          /* a pattern we cannot run */
        }
      }
    }
    if (!matched && obj(schema.additionalProperties)) out.push(schema.additionalProperties);
  }
  return out;
}

function resolveRefs(s: SchemaNode, root: SchemaNode | undefined): SchemaNode[] {
  const ref = s.$ref;
  if (typeof ref === 'string' && ref.startsWith('#') && root) {
    const target = ref
      .slice(1)
      .split('/')
      .filter(Boolean)
      .reduce<unknown>((n, seg) => (n && typeof n === 'object' ? (n as SchemaNode)[seg] : undefined), root);
    if (target && typeof target === 'object') return [s, target as SchemaNode];
  }
  return [s];
}

interface Frame {
  schemas: SchemaNode[];
  root: SchemaNode | undefined;
}

/**
 * Walks a value. `visit` is told about each secret value (key named like a secret or `x-secret`
 * in the schema) and each string; it returns the replacement.
 */
function walk(value: unknown, frame: Frame, onSecret: (v: unknown) => unknown, onString: (s: string) => string): unknown {
  if (typeof value === 'string') return onString(value);
  if (Array.isArray(value)) {
    return value.map((v, i) => child(v, i, frame, false, onSecret, onString));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: child(v, k, frame, isSecretKey(k), onSecret, onString), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

function child(v: unknown, key: string | number, frame: Frame, secretByName: boolean, onSecret: (v: unknown) => unknown, onString: (s: string) => string): unknown {
  const schemas = frame.schemas.flatMap((s) => childSchemas(s, key, frame.root)).flatMap((s) => resolveRefs(s, frame.root));
  const secret = secretByName || schemas.some((s) => s['x-secret'] === true);
  if (secret && v !== null && v !== undefined && typeof v !== 'boolean') return onSecret(v);
  return walk(v, { schemas, root: frame.root }, onSecret, onString);
}

/** The schema (if any) of each plugin section of a config. */
function sectionSchemas(cfg: CfxConfig, ps: PluginSchemas | undefined): Map<string, JsonSchema | undefined> {
  const m = new Map<string, JsonSchema | undefined>();
  if (!ps) return m;
  const scheme = typeof cfg.server === 'string' ? urlScheme(cfg.server) : undefined;
  if (scheme) m.set('serverOptions', ps.transports?.[scheme]);
  if (cfg.prices) m.set('prices.options', ps.formats?.[cfg.prices.format]);
  if (cfg.sales) m.set('sales.options', ps.formats?.[cfg.sales.format]);
  if (cfg.backoffice) m.set('backoffice.options', ps.backoffices?.[cfg.backoffice.use]);
  for (const id of Object.keys(cfg.pluginOptions ?? {})) m.set(`pluginOptions.${id}`, ps.plugins?.[id]);
  return m;
}

function transform(cfg: CfxConfig, ps: PluginSchemas | undefined, onSecret: (v: unknown) => unknown, onString: (s: string) => string): CfxConfig {
  const sections = sectionSchemas(cfg, ps);
  const plain: Frame = { schemas: [], root: undefined };
  const val = (v: unknown, k: string): unknown => child(v, k, plain, isSecretKey(k), onSecret, onString);
  const section = (v: unknown, path: string): unknown => {
    const schema = sections.get(path) as SchemaNode | undefined;
    return walk(v, { schemas: schema ? [schema] : [], root: schema }, onSecret, onString);
  };
  const put = (o: Record<string, unknown>, k: string, v: unknown) =>
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) {
    if (k === 'serverOptions') put(out, k, section(v, k));
    else if ((k === 'prices' || k === 'sales' || k === 'backoffice') && v !== null && typeof v === 'object') {
      const sec: Record<string, unknown> = {};
      for (const [sk, sv] of Object.entries(v as Record<string, unknown>)) put(sec, sk, sk === 'options' ? section(sv, `${k}.options`) : val(sv, sk));
      put(out, k, sec);
    } else if (k === 'pluginOptions' && v !== null && typeof v === 'object') {
      const po: Record<string, unknown> = {};
      for (const [id, sv] of Object.entries(v as Record<string, unknown>)) put(po, id, section(sv, `pluginOptions.${id}`));
      put(out, k, po);
    } else put(out, k, val(v, k));
  }
  return out as unknown as CfxConfig;
}

/**
 * A deep copy of the config fit for printing: `***` in place of the password of `server` (and of
 * any URL with one), of values under keys named password / passphrase / token / secret (also
 * `privateKeyPassphrase`, `apiToken`, ...), and of fields a plugin schema marks `"x-secret": true`.
 */
export function redactConfig(cfg: CfxConfig, pluginSchemas?: PluginSchemas): CfxConfig {
  return transform(cfg, pluginSchemas, () => REDACTED, redactUrlsIn);
}

/**
 * The raw secret strings of a config (URL passwords, both as written and decoded; values of
 * secret-named keys; `x-secret` fields), for the logger to scrub from any message.
 */
export function secretValues(cfg: CfxConfig, pluginSchemas?: PluginSchemas): string[] {
  const found = new Set<string>();
  const addUrl = (s: string) => {
    const p = urlPassword(s);
    if (p) {
      found.add(p.raw);
      found.add(p.decoded);
    }
  };
  const collect = (v: unknown): unknown => {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') {
      if (String(v) !== '') found.add(String(v));
    } else if (v !== null && typeof v === 'object') {
      // a secret object (e.g. `secret: { a: .., b: .. }`): every string inside is secret
      JSON.stringify(v, (_k, x: unknown) => {
        if (typeof x === 'string' && x !== '') found.add(x);
        return x;
      });
    }
    return REDACTED;
  };
  transform(cfg, pluginSchemas, collect, (s) => {
    if (s.includes('://')) {
      if (URL_START.test(s)) addUrl(s);
      for (const u of s.match(/[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+/g) ?? []) addUrl(u);
    }
    return s;
  });
  return [...found].filter((s) => s.length > 0);
}
