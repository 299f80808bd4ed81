// The config file's YAML, parsed once per distinct content (issue 20, start-up). Loading the yaml
// package (~70 CommonJS files) and parsing cost a one-shot command 20–35 ms, more than anything else
// left in `cfx status` or `cfx sale add`. A config that parsed cleanly is kept as JSON in the user's
// cache dir ($XDG_CACHE_HOME/cfx or ~/.cache/cfx), named by the SHA-256 of its text: the same text
// always gives the same value, so an entry is never stale, and an edited file is simply a new key.
// Only values JSON carries exactly are kept (strings, finite numbers, booleans, null, arrays, plain
// objects); anything else, a parse error, or a cache dir that cannot be written: yaml as before.
// Line numbers for messages still come from the YAML document, parsed when a message needs one.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type * as YamlNs from 'yaml';

let yamlMod: typeof YamlNs | undefined;
/** the yaml package, loaded on first need */
export const yaml = (): typeof YamlNs => (yamlMod ??= createRequire(import.meta.url)('yaml') as typeof YamlNs);

/** the options every config parse uses (load.ts): a cached value is what they gave */
export const YAML_OPTIONS = { prettyErrors: false, uniqueKeys: true, merge: true, strict: true } as const;
export const TO_JS_OPTIONS = { maxAliasCount: 100 } as const;

/** the JSON of values parsed in this process, by text (App.open and loadConfig read the same file) */
const memo = new Map<string, string>();

/** at most this many entries: a test suite writes a config per test; the oldest half goes beyond it */
const MAX_ENTRIES = 256;

function cacheDir(): string | undefined {
  const env = process.env;
  if (env.CFX_NO_CONFIG_CACHE) return undefined;
  try {
    const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
    return join(base, 'cfx', 'config');
  } catch {
    return undefined;
  }
}

const keyOf = (text: string) => createHash('sha256').update(text).digest('hex');

/** a fresh copy of the value `text` parses to, when known (this process or the cache dir) */
export function cachedConfigValue(text: string): unknown | undefined {
  let json = memo.get(text);
  if (json === undefined) {
    const dir = cacheDir();
    if (!dir) return undefined;
    try {
      json = readFileSync(join(dir, `${keyOf(text)}.json`), 'utf8');
    } catch {
      return undefined;
    }
    memo.set(text, json);
  }
  try {
    return JSON.parse(json) as unknown;
  } catch {
    memo.delete(text);
    return undefined;
  }
}

/** keeps `value` (what `text` parsed to, cleanly) for the next process; never throws */
export function rememberConfigValue(text: string, value: unknown): void {
  if (!jsonExact(value)) return;
  const json = JSON.stringify(value);
  if (memo.get(text) === json) return;
  memo.set(text, json);
  const dir = cacheDir();
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${keyOf(text)}.json`);
    // temp + rename: a reader never sees half an entry
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, json, { mode: 0o600 });
    renameSync(tmp, file);
    prune(dir);
  } catch {
    /* a cache that cannot be written is no cache; the config is parsed each time, as before */
  }
}

function prune(dir: string): void {
  const names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  if (names.length <= MAX_ENTRIES) return;
  const aged = names.map((n) => ({ n, t: statSync(join(dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { n } of aged.slice(0, names.length - MAX_ENTRIES / 2)) rmSync(join(dir, n), { force: true });
}

/** only what a JSON round trip gives back unchanged */
function jsonExact(v: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (Array.isArray(v)) return v.every((x) => jsonExact(x, depth + 1));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.entries(v as Record<string, unknown>).every(([k, x]) => k !== '__proto__' && jsonExact(x, depth + 1));
  }
  return false;
}
