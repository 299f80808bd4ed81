import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CfxError,
  ErrorCodes,
  PluginError,
  errorMessage,
  toDisposable,
  type BackOffice,
  type BackOfficeProvider,
  type CallOptions,
  type ContributionKind,
  type JobContribution,
  type Disposable,
  type Format,
  type FormatProvider,
  type JsonSchema,
  type Logger,
  type PluginContext,
  type PluginModule,
  type PluginState,
  type Transport,
  type TransportCreateContext,
  type TransportProvider,
  type WatchOptions,
} from '../api/index.js';
import { Services } from '../di/services.js';
import { memoryTransportProvider } from '../testing/memory-transport.js';
import { genericBackOfficeProvider, genericOptionsSchema } from '../backoffice/generic.js';
import { BUILTIN_PLUGINS, locatePlugin, manifestError, readManifest, type ManifestProblem, type PluginDescriptor } from './manifest.js';
import { CallGuard, guardCall, guardIterable, guardRecords, guardStream, normalizePluginError } from './guard.js';

export interface HostOptions {
  logger: Logger;
  /** plugins get `<dataDir>/plugins/<id>` as their storage dir */
  dataDir: string;
  /** where relative plugin paths and package names are resolved from (the config file's dir) */
  baseDir: string;
  /** extra plugins from the config: package names or paths */
  plugins?: string[];
  pluginOptions?: Record<string, Record<string, unknown>>;
  /** default: the five built-in packages */
  builtins?: string[];
  services?: Services;
  /** deadline for a non-streaming call into plugin code */
  callTimeoutMs?: number;
  activateTimeoutMs?: number;
  /** false: a plugin with manifest problems is kept as "refused" instead of failing startup */
  strict?: boolean;
}

export interface PluginStatus {
  id: string;
  packageName: string;
  version: string;
  dir: string;
  builtin: boolean;
  contributes: { transports: string[]; formats: string[]; backoffices: string[]; jobs: string[] };
  state: PluginState;
  error?: { code: string; message: string };
  activatedAt?: string;
}

interface Entry {
  descriptor: PluginDescriptor;
  state: PluginState;
  error?: Error;
  activatedAt?: Date;
  activation?: Promise<void>;
  module?: PluginModule;
  disposables: Disposable[];
}

type ProviderOf<K extends ContributionKind> = K extends 'transport' ? TransportProvider : K extends 'format' ? FormatProvider : K extends 'job' ? JobContribution : BackOfficeProvider;
const KIND_KEY = { transport: 'transports', format: 'formats', backoffice: 'backoffices', job: 'jobs' } as const;

/** core's own jobs (core/src/jobs/<id>/) and their roles: owned by core in the registry, so a plugin cannot claim their ids */
export const CORE_JOBS: Readonly<Record<string, readonly ('terminal' | 'office')[]>> = Object.freeze({
  'prices.pull': ['terminal'],
  'sales.push': ['terminal'],
  'sales.resend': ['terminal'],
  'sales.collect': ['office'],
  'office.publish': ['office'],
  'archive.prune': ['terminal', 'office'],
  'status.publish': ['terminal'],
});
const CORE_JOB_IDS = Object.keys(CORE_JOBS);

const CORE_ID = 'core';

/**
 * The plugin host: manifests first, code later. Discovery reads package.json files only; a
 * plugin's module is imported the first time one of its contributions is asked for.
 */
export class PluginHost {
  private readonly entries = new Map<string, Entry>();
  private readonly owners: Record<ContributionKind, Map<string, string>> = { transport: new Map(), format: new Map(), backoffice: new Map(), job: new Map() };
  private readonly providers: Record<ContributionKind, Map<string, unknown>> = { transport: new Map(), format: new Map(), backoffice: new Map(), job: new Map() };
  readonly refused: ManifestProblem[] = [];
  private servicesRef: Services | undefined;
  /** the container plugins' child containers hang from, made when the first plugin activates */
  private get services(): Services {
    return (this.servicesRef ??= this.opts.services ?? new Services());
  }

  private constructor(private readonly opts: HostOptions) {}

  /** Settings known only once the config is validated; applies to activations from now on. */
  configure(o: Partial<Pick<HostOptions, 'logger' | 'pluginOptions' | 'dataDir'>>): void {
    Object.assign(this.opts, o);
  }

  static discover(opts: HostOptions): PluginHost {
    const host = new PluginHost(opts);
    host.addCore();
    const problems: ManifestProblem[] = [];
    const specs = [...(opts.builtins ?? BUILTIN_PLUGINS).map((s) => ({ s, builtin: true })), ...(opts.plugins ?? []).map((s) => ({ s, builtin: false }))];
    const descriptors: PluginDescriptor[] = [];
    for (const { s, builtin } of specs) {
      const dir = locatePlugin(s, opts.baseDir);
      if (!dir) {
        problems.push({ plugin: s, message: `not found (looked for a path or an installed npm package from ${opts.baseDir})` });
        continue;
      }
      const r = readManifest(dir, builtin);
      problems.push(...r.problems);
      if (r.descriptor) descriptors.push(r.descriptor);
    }
    const conflicts: string[] = [];
    for (const d of descriptors) {
      if (host.entries.has(d.id)) {
        problems.push({ plugin: d.packageName, message: `plugin id "${d.id}" is already taken by ${host.entries.get(d.id)!.descriptor.packageName}` });
        continue;
      }
      host.entries.set(d.id, { descriptor: d, state: 'inactive', disposables: [] });
      for (const kind of Object.keys(KIND_KEY) as ContributionKind[]) {
        for (const cid of d.manifest.contributes[KIND_KEY[kind]] ?? []) {
          const prev = host.owners[kind].get(cid);
          if (prev !== undefined) conflicts.push(`${kind} "${cid}" is claimed by both ${host.entries.get(prev)!.descriptor.packageName} and ${d.packageName}`);
          else host.owners[kind].set(cid, d.id);
        }
      }
    }
    if (conflicts.length) {
      throw new CfxError(ErrorCodes.PLUGIN_CONFLICT, `plugin conflict:\n${conflicts.map((c) => `  ${c}`).join('\n')}`, { details: { conflicts } });
    }
    if (problems.length) {
      if (opts.strict !== false) throw manifestError(problems);
      host.refused.push(...problems);
    }
    return host;
  }

  /** core itself contributes the memory:// reference transport and the `generic` back office (CSV files in a folder) */
  private addCore(): void {
    const descriptor: PluginDescriptor = {
      id: CORE_ID,
      packageName: '@cfx/core',
      version: '0.1.0',
      dir: '',
      mainFile: '',
      manifest: { apiVersion: 1, contributes: { transports: ['memory'], backoffices: ['generic'], jobs: [...CORE_JOB_IDS] }, configSchema: { generic: genericOptionsSchema } },
      enginesRange: '*',
      builtin: true,
    };
    this.entries.set(CORE_ID, { descriptor, state: 'active', activatedAt: new Date(), disposables: [] });
    this.owners.transport.set('memory', CORE_ID);
    this.providers.transport.set('memory', memoryTransportProvider);
    this.owners.backoffice.set('generic', CORE_ID);
    this.providers.backoffice.set('generic', genericBackOfficeProvider(this.opts.baseDir));
    // core's jobs are wired by core (core/src/di/wiring.ts), not provided through the host
    for (const id of CORE_JOB_IDS) this.owners.job.set(id, CORE_ID);
  }

  list(): PluginStatus[] {
    return [...this.entries.values()].map((e) => {
      const c = e.descriptor.manifest.contributes;
      const err = e.error as (Error & { code?: string }) | undefined;
      return {
        id: e.descriptor.id,
        packageName: e.descriptor.packageName,
        version: e.descriptor.version,
        dir: e.descriptor.dir,
        builtin: e.descriptor.builtin,
        contributes: { transports: c.transports ?? [], formats: c.formats ?? [], backoffices: c.backoffices ?? [], jobs: c.jobs ?? [] },
        state: e.state,
        ...(err ? { error: { code: err.code ?? ErrorCodes.INTERNAL, message: errorMessage(err) + (err.cause ? ` (cause: ${errorMessage(err.cause)})` : '') } } : {}),
        ...(e.activatedAt ? { activatedAt: e.activatedAt.toISOString() } : {}),
      };
    });
  }

  /** contribution ids and their option schemas, for config validation (no plugin code runs) */
  schemas(): { transports: Record<string, JsonSchema | undefined>; formats: Record<string, JsonSchema | undefined>; backoffices: Record<string, JsonSchema | undefined>; knownTransports: string[]; knownFormats: string[]; knownBackoffices: string[]; knownJobs: { id: string; roles?: readonly string[] }[] } {
    const out = { transports: {} as Record<string, JsonSchema | undefined>, formats: {} as Record<string, JsonSchema | undefined>, backoffices: {} as Record<string, JsonSchema | undefined> };
    for (const kind of ['transport', 'format', 'backoffice'] as const) {
      for (const [cid, pid] of this.owners[kind]) out[KIND_KEY[kind]][cid] = this.entries.get(pid)!.descriptor.manifest.configSchema?.[cid];
    }
    return {
      ...out,
      knownTransports: Object.keys(out.transports),
      knownFormats: Object.keys(out.formats),
      knownBackoffices: Object.keys(out.backoffices),
      // a plugin job's roles are in its code, not its manifest: checked when the service starts
      knownJobs: [...this.owners.job.keys()].map((id) => ({ id, ...(CORE_JOBS[id] ? { roles: CORE_JOBS[id] } : {}) })),
    };
  }

  /** every job id a manifest declares, core's included, with its owner: what `schedule:` may name */
  knownJobs(): { id: string; plugin: string }[] {
    return [...this.owners.job].map(([id, plugin]) => ({ id, plugin }));
  }

  /**
   * A plugin's job contribution, activating the plugin; its `create` and every run go through the
   * guard (foreign errors become PluginError with the plugin's id). Core's own jobs are not here.
   */
  async job(id: string): Promise<{ pluginId: string; job: JobContribution }> {
    const { pluginId, provider } = await this.provider('job', id);
    const p = provider;
    const guarded: JobContribution = {
      ...p,
      create: async (deps) => {
        const runner = await guardCall(pluginId, 'job.create', this.opts.callTimeoutMs ?? 30_000, undefined, () => Promise.resolve(p.create(deps)));
        return {
          // a run has no overall deadline (an upload may take long); the signal stops it
          run: (ctx) => guardCall(pluginId, `job.run`, undefined, ctx.signal, (signal) => runner.run({ ...ctx, signal: signal ?? ctx.signal })),
          ...(runner.close ? { close: () => guardCall(pluginId, 'job.close', 5_000, undefined, () => runner.close!()) } : {}),
        };
      },
    };
    return { pluginId, job: guarded };
  }

  ownerOf(kind: ContributionKind, id: string): string | undefined {
    return this.owners[kind].get(id);
  }

  /** activates every plugin (for `cfx plugins status`); failures are recorded, not thrown */
  async activateAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((id) => this.activate(id).catch(() => undefined)));
  }

  private activate(id: string): Promise<void> {
    const e = this.entries.get(id)!;
    if (e.state === 'active') return Promise.resolve();
    if (e.state === 'failed') return Promise.reject(this.failedError(e, 'activate'));
    if (!e.activation) e.activation = this.doActivate(e);
    return e.activation;
  }

  private failedError(e: Entry, hook: string): PluginError {
    return new PluginError(ErrorCodes.PLUGIN_FAILED, e.descriptor.id, hook, `the plugin failed to activate: ${errorMessage(e.error)}`, { cause: e.error });
  }

  private async doActivate(e: Entry): Promise<void> {
    const d = e.descriptor;
    const log = this.opts.logger.child({ plugin: d.id });
    const registered: Record<ContributionKind, string[]> = { transport: [], format: [], backoffice: [], job: [] };
    const register = <K extends ContributionKind>(kind: K, ids: string[], provider: ProviderOf<K>): Disposable => {
      for (const cid of ids) {
        if (this.owners[kind].get(cid) !== d.id) {
          throw new PluginError(ErrorCodes.PLUGIN_CONTRIBUTION, d.id, 'activate', `registered ${kind} "${cid}" that its manifest does not declare`);
        }
      }
      for (const cid of ids) {
        this.providers[kind].set(cid, provider);
        registered[kind].push(cid);
      }
      const disp = toDisposable(() => {
        for (const cid of ids) if (this.providers[kind].get(cid) === provider) this.providers[kind].delete(cid);
      });
      e.disposables.push(disp);
      return disp;
    };
    try {
      const storageDir = join(this.opts.dataDir, 'plugins', d.id);
      mkdirSync(storageDir, { recursive: true });
      const ctx: PluginContext = Object.freeze({
        pluginId: d.id,
        version: d.version,
        logger: log,
        config: Object.freeze({ ...(this.opts.pluginOptions?.[d.id] ?? {}) }),
        storageDir,
        container: this.services.child().container,
        registerTransport: (p: TransportProvider) => register('transport', p.schemes, p),
        registerFormat: (p: FormatProvider) => register('format', [p.id], p),
        registerBackOffice: (p: BackOfficeProvider) => register('backoffice', [p.id], p),
        registerJob: (j: JobContribution) => register('job', [j.id], j),
      });
      const mod = await guardCall(d.id, 'import', this.opts.activateTimeoutMs ?? 15_000, undefined, () => import(pathToFileURL(d.mainFile).href) as Promise<Partial<PluginModule>>);
      if (typeof mod.activate !== 'function') throw new PluginError(ErrorCodes.PLUGIN_ACTIVATE, d.id, 'activate', `${d.mainFile} exports no activate() function`);
      e.module = mod as PluginModule;
      await guardCall(d.id, 'activate', this.opts.activateTimeoutMs ?? 15_000, undefined, () => mod.activate!(ctx));
      const missing: string[] = [];
      for (const kind of Object.keys(KIND_KEY) as ContributionKind[]) {
        for (const cid of d.manifest.contributes[KIND_KEY[kind]] ?? []) if (!registered[kind].includes(cid)) missing.push(`${kind} "${cid}"`);
      }
      if (missing.length) throw new PluginError(ErrorCodes.PLUGIN_CONTRIBUTION, d.id, 'activate', `declared but not registered: ${missing.join(', ')}`);
      e.state = 'active';
      e.activatedAt = new Date();
      log.debug('plugin activated');
    } catch (err) {
      e.state = 'failed';
      const cause = err instanceof PluginError && err.code === ErrorCodes.PLUGIN_CALL ? err.cause : err;
      e.error = err instanceof PluginError && err !== cause ? new PluginError(ErrorCodes.PLUGIN_ACTIVATE, d.id, 'activate', errorMessage(cause), { cause }) : err instanceof PluginError ? err : new PluginError(ErrorCodes.PLUGIN_ACTIVATE, d.id, 'activate', errorMessage(err), { cause: err });
      for (const disp of e.disposables.splice(0)) await disp.dispose();
      log.error({ err: e.error }, 'plugin failed to activate');
      throw e.error;
    }
  }

  private async provider<K extends ContributionKind>(kind: K, id: string): Promise<{ pluginId: string; provider: ProviderOf<K> }> {
    const pluginId = this.owners[kind].get(id);
    if (pluginId === undefined) {
      const known = [...this.owners[kind].keys()].join(', ') || 'none';
      throw new CfxError(ErrorCodes.NO_PROVIDER, `no plugin provides ${kind} "${id}" (available: ${known})`, { details: { kind, id } });
    }
    await this.activate(pluginId);
    const provider = this.providers[kind].get(id) as ProviderOf<K> | undefined;
    if (!provider) throw new PluginError(ErrorCodes.PLUGIN_CONTRIBUTION, pluginId, kind, `${kind} "${id}" was disposed`);
    return { pluginId, provider };
  }

  private noteError(pluginId: string, err: unknown): void {
    const e = this.entries.get(pluginId);
    if (e && e.state === 'active') e.error = err as Error;
  }

  /** A transport for the URL's scheme; every call goes through the guard. */
  async transport(ctx: Omit<TransportCreateContext, 'logger'> & { logger?: Logger }): Promise<Transport> {
    const scheme = ctx.url.protocol.replace(/:$/, '');
    const { pluginId, provider } = await this.provider('transport', scheme);
    const logger = (ctx.logger ?? this.opts.logger).child({ plugin: pluginId, transport: scheme });
    const timeout = this.opts.callTimeoutMs ?? ctx.timeoutMs + 5_000;
    const inner = await guardCall(pluginId, 'transport.create', timeout, undefined, () => provider.create({ ...ctx, logger }));
    // one deadline timer for all calls of this transport (a sale upload makes two calls per file)
    const guard = new CallGuard(pluginId, timeout, (err) => this.noteError(pluginId, err), this.entries.get(pluginId)?.descriptor.builtin === true);
    const call = <T>(hook: string, opts: CallOptions | undefined, fn: (o: CallOptions | undefined) => Promise<T>, timed = true): Promise<T> =>
      guard.call(hook, opts?.signal, (signal) => fn(signal === opts?.signal ? opts : { ...opts, signal }), timed);
    // Streams get no overall deadline (a big file may take long); the transport's own per-step deadline covers hangs.
    return {
      list: (dir, o) => call('transport.list', o, (oo) => inner.list(dir, oo)),
      read: (path, o) => guardStream(pluginId, 'transport.read', () => inner.read(path, o)),
      write: (path, data, o) => call('transport.write', o, (oo) => inner.write(path, data, oo), false),
      rename: (from, to, o) => call('transport.rename', o, (oo) => inner.rename(from, to, oo)),
      delete: (path, o) => call('transport.delete', o, (oo) => inner.delete(path, oo)),
      mkdir: (path, o) => call('transport.mkdir', o, (oo) => inner.mkdir(path, oo)),
      close: () => guardCall(pluginId, 'transport.close', timeout, undefined, () => inner.close()),
      // frozen copy: a plugin cannot change what it declared after core has looked
      ...(inner.capabilities ? { capabilities: Object.freeze({ ...inner.capabilities }) } : {}),
      ...(inner.writeThenRename ? { writeThenRename: this.guardWriteThenRename(inner, call) } : {}),
      // a watch runs as long as its signal lets it: no deadline, only the error mapping
      ...(inner.watch ? { watch: (dir: string, o: WatchOptions) => guardIterable(pluginId, 'transport.watch', inner.watch!(dir, o)) } : {}),
    };
  }

  /**
   * writeThenRename through the guard. `between` is core's step run inside the plugin's call: its
   * error comes back as it is (not as the plugin's PluginError, nor noted as the plugin's error).
   * No overall deadline, as for write: the caller's step may take long; the plugin keeps its own.
   */
  private guardWriteThenRename(inner: Transport, call: <T>(hook: string, opts: CallOptions | undefined, fn: (o: CallOptions | undefined) => Promise<T>, timed?: boolean) => Promise<T>): NonNullable<Transport['writeThenRename']> {
    return async (tmp, target, data, between, o) => {
      let failed: { error: unknown } | undefined;
      const step = async () => {
        try {
          await between();
        } catch (e) {
          failed = { error: e };
          throw e;
        }
      };
      const own = await call('transport.writeThenRename', o, (oo) => inner.writeThenRename!(tmp, target, data, step, oo).then(() => undefined, (e: unknown) => {
        if (failed) return failed;
        throw e;
      }), false);
      if (own) throw own.error;
    };
  }

  async format(id: string, options: Record<string, unknown> = {}): Promise<Format> {
    const { pluginId, provider } = await this.provider('format', id);
    const timeout = this.opts.callTimeoutMs ?? 30_000;
    const f = await guardCall(pluginId, 'format.create', timeout, undefined, () => provider.create(options));
    const wrapped: Format = { id: f.id, extension: f.extension, ...(f.encodings ? { encodings: f.encodings } : {}) };
    if (f.decodePrices) {
      const dec = f.decodePrices.bind(f);
      wrapped.decodePrices = async (input, ctx) => {
        const r = await guardCall(pluginId, 'format.decodePrices', undefined, ctx.signal, () => dec(input, ctx));
        // `skipped` is the plugin's live object, filled while the records are read: passed on as is
        return { mode: r.mode, records: guardRecords(pluginId, 'format.decodePrices', r.records), ...(r.skipped ? { skipped: r.skipped } : {}) };
      };
    }
    if (f.encodePrices) {
      const enc = f.encodePrices.bind(f);
      wrapped.encodePrices = (records, mode, ctx) => guardStream(pluginId, 'format.encodePrices', () => enc(records, mode, ctx));
    }
    if (f.encodeSale) {
      const enc = f.encodeSale.bind(f);
      wrapped.encodeSale = (sale, ctx) => {
        try {
          return enc(sale, ctx);
        } catch (err) {
          throw normalizePluginError(err, pluginId, 'format.encodeSale');
        }
      };
    }
    if (f.decodeSales) {
      const dec = f.decodeSales.bind(f);
      wrapped.decodeSales = (input, ctx) => guardIterable(pluginId, 'format.decodeSales', dec(input, ctx));
    }
    return wrapped;
  }

  async backoffice(id: string, options: Record<string, unknown> = {}): Promise<BackOffice> {
    const { pluginId, provider } = await this.provider('backoffice', id);
    const timeout = this.opts.callTimeoutMs ?? 30_000;
    const b = await guardCall(pluginId, 'backoffice.create', timeout, undefined, () => provider.create(options, { baseDir: this.opts.baseDir }));
    const wrapped: BackOffice = { id: b.id };
    if (b.pendingExports) wrapped.pendingExports = (o) => guardCall(pluginId, 'backoffice.pendingExports', timeout, o?.signal, (signal) => b.pendingExports!({ ...o, signal }));
    if (b.deliverSales) wrapped.deliverSales = (t, s, o) => guardCall(pluginId, 'backoffice.deliverSales', timeout, o?.signal, (signal) => b.deliverSales!(t, s, { ...o, signal }));
    if (b.close) wrapped.close = () => guardCall(pluginId, 'backoffice.close', timeout, undefined, () => b.close!());
    return wrapped;
  }

  async dispose(): Promise<void> {
    for (const e of this.entries.values()) {
      for (const d of e.disposables.splice(0)) await d.dispose();
      if (e.state === 'active' && e.module?.deactivate) {
        await guardCall(e.descriptor.id, 'deactivate', 5_000, undefined, () => e.module!.deactivate!()).catch((err) => this.opts.logger.warn({ err }, 'plugin deactivate failed'));
      }
    }
  }
}
