// Commands for plugin authors: `cfx plugin new` (scaffold) and `cfx plugins check` (validate one plugin).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CfxError,
  ErrorCodes,
  errorMessage,
  isCfxError,
  toDisposable,
  type BackOfficeProvider,
  type JobContribution,
  type ContributionKind,
  type FormatProvider,
  type JsonSchema,
  type PluginContext,
  type PluginModule,
  type TransportProvider,
} from '../api/index.js';
import { getAjv } from '../config/validator.js';
import { Services } from '../di/services.js';
import { guardCall } from '../host/guard.js';
import { locatePlugin, PluginHost, readManifest } from '../host/index.js';
import { silentLogger } from '../util/logger.js';
import { PLUGIN_KINDS, scaffoldFiles, type PluginKind } from './plugin-templates.js';

const CORE_DIR = fileURLToPath(new URL('../../', import.meta.url));
const ID_RE = /^[a-z][a-z0-9+.-]*$/;
const KIND_KEY = { transport: 'transports', format: 'formats', backoffice: 'backoffices', job: 'jobs' } as const;
const JOB_ID_RE = /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/;
const KINDS = Object.keys(KIND_KEY) as ContributionKind[];

function coreVersion(): string {
  return (JSON.parse(readFileSync(join(CORE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

// ---------------------------------------------------------------------------------------------
// cfx plugin new

export interface ScaffoldResult {
  dir: string;
  packageName: string;
  kind: PluginKind;
  id: string;
  files: string[];
}

export function scaffoldPlugin(o: { kind: string; id: string; dir: string; packageName?: string; core?: string; force?: boolean }): ScaffoldResult {
  if (!(PLUGIN_KINDS as readonly string[]).includes(o.kind)) throw new CfxError(ErrorCodes.USAGE, `unknown plugin kind "${o.kind}" (one of: ${PLUGIN_KINDS.join(', ')})`);
  const kind = o.kind as PluginKind;
  if (!(kind === 'job' ? JOB_ID_RE : ID_RE).test(o.id)) throw new CfxError(ErrorCodes.USAGE, `"${o.id}" cannot be a ${kind === 'transport' ? 'URL scheme' : `${kind} id`}: lower-case letters, digits${kind === 'job' ? ', words joined by . _ -' : ', + . -'}, starting with a letter`);
  const packageName = o.packageName ?? `cfx-${kind}-${o.id}`;
  if (!/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/.test(packageName) || packageName.startsWith('@cfx/')) {
    throw new CfxError(ErrorCodes.USAGE, `"${packageName}" is not a usable npm package name${packageName.startsWith('@cfx/') ? ' (@cfx/ is cfx\'s own scope)' : ''}`);
  }
  const dir = resolve(o.dir);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || (readdirSync(dir).length > 0 && !o.force))) {
    throw new CfxError(ErrorCodes.USAGE, `${dir} exists and is not empty; choose another --dir or use --force`);
  }
  let coreSpec = coreVersion();
  if (o.core !== undefined) {
    const core = resolve(o.core);
    let name: string | undefined;
    try {
      name = (JSON.parse(readFileSync(join(core, 'package.json'), 'utf8')) as { name?: string }).name;
    } catch {
      /* reported below */
    }
    if (name !== '@cfx/core') throw new CfxError(ErrorCodes.USAGE, `--core ${o.core}: not the @cfx/core package dir (no package.json named @cfx/core there)`);
    coreSpec = `file:${core}`;
  }
  const files = scaffoldFiles({ kind, id: o.id, packageName, coreSpec, coreVersion: coreVersion() });
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return { dir, packageName, kind, id: o.id, files: Object.keys(files) };
}

// ---------------------------------------------------------------------------------------------
// cfx plugins check

export interface CheckProblem {
  code: string;
  message: string;
}

export interface CheckReport {
  ok: boolean;
  spec: string;
  dir?: string;
  packageName?: string;
  version?: string;
  declared: Record<ContributionKind, string[]>;
  registered: Record<ContributionKind, string[]>;
  /** configSchema entries that compiled */
  schemas: string[];
  /** the plugin activated in a real host (only tried when nothing else was wrong) */
  hostActivated: boolean;
  problems: CheckProblem[];
  warnings: string[];
}

const empty = (): Record<ContributionKind, string[]> => ({ transport: [], format: [], backoffice: [], job: [] });

/** compiles a plugin option schema the way config validation will (strict ajv, cfx keywords); the error, if any */
export function schemaProblem(schema: unknown): string | undefined {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return 'must be a JSON Schema object';
  const { $id: _id, $schema: _s, ...rest } = schema as Record<string, unknown>;
  const ajv = getAjv();
  try {
    const copy = structuredClone(rest);
    ajv.compile(copy);
    ajv.removeSchema(copy);
    return undefined;
  } catch (e) {
    return errorMessage(e);
  }
}

function locate(spec: string, cwd: string): string | undefined {
  const asPath = resolve(cwd, spec);
  if (existsSync(join(asPath, 'package.json'))) return asPath;
  if (existsSync(asPath) && asPath.endsWith('package.json')) return dirname(asPath);
  return locatePlugin(spec, cwd);
}

/**
 * Checks one plugin package and reports every problem at once: the manifest and its engines range
 * (as the host reads them), each option schema (compiled with the config's strict ajv), the main
 * module, activate() with a recording context (declared == registered, both ways), the providers,
 * and — when all that is clean — activation in a real plugin host. Unlike the host, it imports the
 * plugin even when the engines range is wrong: the author wants to hear about everything.
 */
export async function checkPlugin(spec: string, cwd: string): Promise<CheckReport> {
  const report: CheckReport = { ok: false, spec, declared: empty(), registered: empty(), schemas: [], hostActivated: false, problems: [], warnings: [] };
  const problem = (code: string, message: string) => report.problems.push({ code, message });
  const done = () => ((report.ok = report.problems.length === 0), report);

  const dir = locate(spec, cwd);
  if (!dir) {
    problem(ErrorCodes.PLUGIN_NOT_FOUND, `${spec}: no plugin package there (a dir with package.json, or an installed package name, looked up from ${cwd})`);
    return done();
  }
  report.dir = dir;
  let pkg: Record<string, any>;
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch (e) {
    problem(ErrorCodes.PLUGIN_MANIFEST, `cannot read ${join(dir, 'package.json')}: ${errorMessage(e)}`);
    return done();
  }
  report.packageName = typeof pkg.name === 'string' ? pkg.name : undefined;
  report.version = typeof pkg.version === 'string' ? pkg.version : undefined;

  // 1. the manifest, as the host reads it (the engines range included)
  const m = readManifest(dir, false);
  for (const p of m.problems) problem(p.message.includes('engines.cfx') ? ErrorCodes.PLUGIN_ENGINE : ErrorCodes.PLUGIN_MANIFEST, p.message);
  const manifest = pkg.cfx as Record<string, any> | undefined;
  if (!manifest || typeof manifest !== 'object') return done();
  const contributes = (manifest.contributes ?? {}) as Record<string, unknown>;
  for (const k of KINDS) {
    const v = contributes[KIND_KEY[k]];
    if (Array.isArray(v)) report.declared[k] = v.filter((x): x is string => typeof x === 'string');
  }
  const declaredIds = KINDS.flatMap((k) => report.declared[k]);
  if (declaredIds.length === 0) problem(ErrorCodes.PLUGIN_MANIFEST, 'cfx.contributes declares nothing: a plugin contributes at least one transport, format, back office or job');

  // 2. option schemas
  const schemas = (manifest.configSchema ?? {}) as Record<string, JsonSchema>;
  if (typeof schemas === 'object' && schemas !== null) {
    for (const [cid, schema] of Object.entries(schemas)) {
      const why = schemaProblem(schema);
      if (why) problem(ErrorCodes.PLUGIN_MANIFEST, `cfx.configSchema.${cid} is not a valid option schema (strict JSON Schema 2020-12 + x-secret/x-duration/x-size/x-cron/x-url): ${why}`);
      else report.schemas.push(cid);
    }
    for (const cid of declaredIds) if (!(cid in schemas)) report.warnings.push(`no cfx.configSchema.${cid}: its options are not validated (give at least { "type": "object", "additionalProperties": false })`);
  }

  // 3. how it depends on core
  if (pkg.dependencies?.['@cfx/core'] !== undefined) {
    problem(ErrorCodes.PLUGIN_MANIFEST, '@cfx/core is in "dependencies": a second copy of core would be installed, and its TransportError/FormatError are not the host\'s; make it a peerDependency');
  } else if (pkg.peerDependencies?.['@cfx/core'] === undefined) {
    report.warnings.push('no peerDependencies["@cfx/core"]: declare the core you import from as a peer');
  }

  // 4. the module and activate(), with a recording context
  const mainRel = manifest.main ?? pkg.exports?.['.']?.default ?? (typeof pkg.exports === 'string' ? pkg.exports : undefined) ?? pkg.main ?? 'index.js';
  const mainFile = resolve(dir, String(mainRel));
  if (!existsSync(mainFile)) {
    problem(ErrorCodes.PLUGIN_ACTIVATE, `the main module ${relative(cwd, mainFile) || mainFile} does not exist (not built yet? npm run build)`);
    return done();
  }
  const pluginId = report.packageName?.replace(/^@cfx\//, '') ?? 'plugin';
  let mod: Partial<PluginModule>;
  try {
    mod = await guardCall(pluginId, 'import', 15_000, undefined, () => import(pathToFileURL(mainFile).href) as Promise<Partial<PluginModule>>);
  } catch (e) {
    problem(ErrorCodes.PLUGIN_ACTIVATE, `importing ${mainFile} failed: ${errorMessage(isCfxError(e) && (e as Error).cause ? (e as Error).cause : e)}`);
    return done();
  }
  if (typeof mod.activate !== 'function') {
    problem(ErrorCodes.PLUGIN_ACTIVATE, `${mainFile} exports no activate(ctx) function`);
    return done();
  }
  const providers: { kind: ContributionKind; id: string; provider: TransportProvider | FormatProvider | BackOfficeProvider | JobContribution }[] = [];
  const storageDir = mkdtempSync(join(tmpdir(), 'cfx-plugin-check-'));
  try {
    const record = (kind: ContributionKind, ids: unknown, provider: TransportProvider | FormatProvider | BackOfficeProvider | JobContribution) => {
      const list = Array.isArray(ids) ? ids : [ids];
      for (const id of list) {
        if (typeof id !== 'string' || !(kind === 'job' ? JOB_ID_RE : ID_RE).test(id)) problem(ErrorCodes.PLUGIN_CONTRIBUTION, `registers a ${kind} with the id ${JSON.stringify(id)} (a lower-case id is needed)`);
        else {
          report.registered[kind].push(id);
          providers.push({ kind, id, provider });
        }
      }
      return toDisposable(() => undefined);
    };
    const ctx: PluginContext = Object.freeze({
      pluginId,
      version: report.version ?? '0.0.0',
      logger: silentLogger(),
      config: Object.freeze({}),
      storageDir,
      container: new Services().child().container,
      registerTransport: (p: TransportProvider) => record('transport', p?.schemes, p),
      registerFormat: (p: FormatProvider) => record('format', p?.id, p),
      registerBackOffice: (p: BackOfficeProvider) => record('backoffice', p?.id, p),
      registerJob: (j: JobContribution) => record('job', j?.id, j),
    });
    try {
      await guardCall(pluginId, 'activate', 15_000, undefined, () => mod.activate!(ctx));
    } catch (e) {
      problem(ErrorCodes.PLUGIN_ACTIVATE, `activate() failed: ${errorMessage(isCfxError(e) && (e as Error).cause ? (e as Error).cause : e)}`);
    }
    for (const k of KINDS) {
      for (const id of report.registered[k]) {
        if (!report.declared[k].includes(id)) problem(ErrorCodes.PLUGIN_CONTRIBUTION, `activate() registers ${k} "${id}", which the manifest does not declare (add it to cfx.contributes.${KIND_KEY[k]})`);
      }
      for (const id of report.declared[k]) {
        if (!report.registered[k].includes(id)) problem(ErrorCodes.PLUGIN_CONTRIBUTION, `the manifest declares ${k} "${id}", which activate() does not register`);
      }
    }
    // 5. providers: the shape, and create() with default options where the schema allows them
    for (const { kind, id, provider } of providers) {
      if (typeof provider?.create !== 'function') {
        problem(ErrorCodes.PLUGIN_CONTRIBUTION, `${kind} "${id}": the registered provider has no create()`);
        continue;
      }
      if (kind === 'transport') continue; // creating one needs a server
      if (kind === 'job') {
        const j = provider as unknown as JobContribution;
        if (!Array.isArray(j.roles) || j.roles.length === 0 || j.roles.some((r) => r !== 'terminal' && r !== 'office')) problem(ErrorCodes.PLUGIN_CONTRIBUTION, `job "${id}": roles must list 'terminal' and/or 'office'`);
        if (!j.deps || typeof j.deps !== 'object') problem(ErrorCodes.PLUGIN_CONTRIBUTION, `job "${id}": deps must be an object of service refs (coreServices.…)`);
        continue; // creating a runner needs the deployment's services
      }
      const schema = schemas[id];
      if (!report.schemas.includes(id)) continue;
      const options: Record<string, unknown> = {};
      const validate = getAjv().compile(structuredClone((({ $id: _i, $schema: _s, ...r }) => r)(schema as Record<string, unknown>)));
      const acceptsDefaults = validate(options);
      getAjv().removeSchema(validate.schema as object);
      if (!acceptsDefaults) continue; // required options: nothing sensible to create it with here
      try {
        const made = (await guardCall(pluginId, `${kind}.create`, 15_000, undefined, () => (provider as FormatProvider | BackOfficeProvider).create(options))) as { id?: unknown; extension?: unknown; close?: () => Promise<void> };
        if (made?.id !== id) problem(ErrorCodes.PLUGIN_CONTRIBUTION, `${kind} "${id}": create() returned an object with id ${JSON.stringify(made?.id)}`);
        if (kind === 'format' && (typeof made?.extension !== 'string' || made.extension.startsWith('.'))) problem(ErrorCodes.PLUGIN_CONTRIBUTION, `format "${id}": extension must be a string without the dot, got ${JSON.stringify(made?.extension)}`);
        await made?.close?.();
      } catch (e) {
        problem(ErrorCodes.PLUGIN_CONTRIBUTION, `${kind} "${id}": create() with the default options failed: ${errorMessage(isCfxError(e) && (e as Error).cause ? (e as Error).cause : e)}`);
      }
    }
    await mod.deactivate?.();
  } finally {
    rmSync(storageDir, { recursive: true, force: true });
  }

  // 6. the real host, once everything above is clean
  if (report.problems.length === 0) {
    const dataDir = mkdtempSync(join(tmpdir(), 'cfx-plugin-check-host-'));
    try {
      const host = PluginHost.discover({ logger: silentLogger(), dataDir, baseDir: cwd, plugins: [dir], builtins: [], strict: true });
      await host.activateAll();
      const st = host.list().find((p) => p.dir === dir);
      if (st?.state === 'active') report.hostActivated = true;
      else problem(st?.error?.code ?? ErrorCodes.PLUGIN_ACTIVATE, `in the plugin host: ${st?.error?.message ?? `state ${st?.state ?? 'unknown'}`}`);
      await host.dispose();
    } catch (e) {
      problem(isCfxError(e) ? (e as CfxError).code : ErrorCodes.PLUGIN_ACTIVATE, `in the plugin host: ${errorMessage(e)}`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return done();
}

export function renderCheck(r: CheckReport): string {
  const lines: string[] = [];
  lines.push(`${r.packageName ?? r.spec}${r.version ? ` ${r.version}` : ''}${r.dir ? `  (${r.dir})` : ''}`);
  const fmt = (x: Record<ContributionKind, string[]>) => KINDS.flatMap((k) => x[k].map((id) => `${k} ${id}`)).join(', ') || 'nothing';
  lines.push(`  declares    ${fmt(r.declared)}`);
  lines.push(`  registers   ${fmt(r.registered)}`);
  lines.push(`  schemas     ${r.schemas.length ? `${r.schemas.join(', ')} compile` : 'none valid'}`);
  for (const w of r.warnings) lines.push(`  warning     ${w}`);
  if (r.ok) lines.push(`OK: ${r.packageName ?? r.spec} loads and activates in the plugin host; declared == registered`);
  else {
    lines.push(`${r.problems.length} problem(s):`);
    for (const p of r.problems) lines.push(`  ✗ ${p.message} [${p.code}]`);
  }
  return lines.join('\n');
}
