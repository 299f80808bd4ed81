import { readFileSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { API_MAJOR, API_VERSION, CfxError, ErrorCodes, type PluginManifest } from '../api/index.js';

/** What the host knows of a plugin from its package.json alone, before any of its code runs. */
export interface PluginDescriptor {
  id: string;
  packageName: string;
  version: string;
  dir: string;
  /** absolute path of the module to import on activation */
  mainFile: string;
  manifest: PluginManifest;
  enginesRange: string;
  builtin: boolean;
}

export interface ManifestProblem {
  plugin: string;
  message: string;
}

/** The five packages that ship with cfx; they are found like any other plugin. */
export const BUILTIN_PLUGINS = ['@cfx/transport-ftp', '@cfx/transport-sftp', '@cfx/transport-nats', '@cfx/format-csv', '@cfx/format-xml', '@cfx/backoffice-1c'];

const here = dirname(fileURLToPath(import.meta.url));

/** Finds a plugin package dir from a spec: a path (relative to baseDir) or an npm package name. */
export function locatePlugin(spec: string, baseDir: string): string | undefined {
  if (spec.startsWith('.') || isAbsolute(spec)) {
    const dir = resolve(baseDir, spec);
    return existsSync(join(dir, 'package.json')) ? dir : undefined;
  }
  // node_modules lookup by hand: a plugin's "exports" need not expose package.json
  for (const start of [baseDir, here]) {
    let d = resolve(start);
    for (;;) {
      const cand = join(d, 'node_modules', spec);
      if (existsSync(join(cand, 'package.json'))) return cand;
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  return undefined;
}

export function pluginIdOf(packageName: string): string {
  return packageName.replace(/^@cfx\//, '');
}

const LIST_KEYS = ['transports', 'formats', 'backoffices', 'jobs'] as const;
// URL schemes start with a letter (RFC 3986); format and back-office ids may start with a digit (`1c`)
// job ids are dotted words (`stock.upload`): what `schedule[].job` names
const ID_RE = { transports: /^[a-z][a-z0-9+.-]*$/, formats: /^[a-z0-9][a-z0-9+.-]*$/, backoffices: /^[a-z0-9][a-z0-9+.-]*$/, jobs: /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/ } as const;

/**
 * Reads and checks a manifest. Every problem is collected (an integrator fixes them in one go);
 * the engines range is checked here, before the host would ever import the plugin's code.
 */
export function readManifest(dir: string, builtin: boolean): { descriptor?: PluginDescriptor; problems: ManifestProblem[] } {
  const problems: ManifestProblem[] = [];
  let pkg: Record<string, any>;
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch (e) {
    return { problems: [{ plugin: dir, message: `cannot read package.json: ${(e as Error).message}` }] };
  }
  const name = typeof pkg.name === 'string' ? pkg.name : dir;
  const bad = (message: string) => problems.push({ plugin: name, message });
  const m = pkg.cfx as PluginManifest | undefined;
  if (!m || typeof m !== 'object') {
    bad('package.json has no "cfx" manifest block');
    return { problems };
  }
  if (m.apiVersion !== API_MAJOR) bad(`cfx.apiVersion must be ${API_MAJOR}, found ${JSON.stringify(m.apiVersion)}`);
  const range = pkg.engines?.cfx;
  if (typeof range !== 'string' || !semver.validRange(range)) {
    bad(`engines.cfx must be a semver range on the plugin API (e.g. "^${API_MAJOR}.0.0"), found ${JSON.stringify(range)}`);
  } else {
    const min = semver.minVersion(range);
    // "major pinned": the range admits no version of a later major than its own minimum
    if (!min || semver.intersects(range, `>=${min.major + 1}.0.0`)) {
      bad(`engines.cfx "${range}" must pin the major version (e.g. "^${min?.major ?? API_MAJOR}.0.0")`);
    }
    if (!semver.satisfies(API_VERSION, range)) bad(`engines.cfx "${range}" does not match this cfx's plugin API ${API_VERSION}`);
  }
  const contributes = m.contributes;
  if (!contributes || typeof contributes !== 'object') bad('cfx.contributes must be an object');
  else {
    for (const k of Object.keys(contributes)) if (!(LIST_KEYS as readonly string[]).includes(k)) bad(`cfx.contributes has an unknown key "${k}"`);
    for (const k of LIST_KEYS) {
      const v = contributes[k];
      if (v === undefined) continue;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !ID_RE[k].test(x))) bad(`cfx.contributes.${k} must be a list of lower-case ids${k === 'transports' ? ' (URL schemes: starting with a letter)' : ''}`);
    }
  }
  if (m.configSchema !== undefined) {
    const declared = new Set(LIST_KEYS.flatMap((k) => (Array.isArray(contributes?.[k]) ? (contributes[k] as string[]) : [])));
    for (const [k, v] of Object.entries(m.configSchema)) {
      if (!declared.has(k)) bad(`cfx.configSchema.${k} is for a contribution the plugin does not declare`);
      if (!v || typeof v !== 'object') bad(`cfx.configSchema.${k} must be a JSON Schema object`);
    }
  }
  const mainRel = m.main ?? pkg.exports?.['.']?.default ?? (typeof pkg.exports === 'string' ? pkg.exports : undefined) ?? pkg.main ?? 'index.js';
  const mainFile = resolve(dir, mainRel);
  if (problems.length) return { problems };
  return {
    problems,
    descriptor: {
      id: pluginIdOf(name),
      packageName: name,
      version: String(pkg.version ?? '0.0.0'),
      dir,
      mainFile,
      manifest: m,
      enginesRange: range,
      builtin,
    },
  };
}

export function manifestError(problems: ManifestProblem[]): CfxError {
  const engine = problems.every((p) => p.message.includes('engines.cfx'));
  return new CfxError(engine ? ErrorCodes.PLUGIN_ENGINE : ErrorCodes.PLUGIN_MANIFEST, `plugin manifest problems:\n${problems.map((p) => `  ${p.plugin}: ${p.message}`).join('\n')}`, {
    details: { problems },
  });
}
