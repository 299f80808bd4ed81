import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { TransportError, type Logger, type Transport } from '../api/index.js';
import type { App } from '../app/app.js';
import { loadConfig, type CfxConfig } from '../config/index.js';
import { BUILTIN_PLUGINS, locatePlugin, PluginHost } from '../host/index.js';
import { expandTemplate } from '../jobs/shared/names.js';
import type { FileOutcome, PullResult } from '../jobs/prices-pull/price-pull.js';
import type { PushResult } from '../jobs/sales-push/sales-push.js';
import type { CollectRunResult } from '../jobs/sales-collect/sales-collect.js';
import { Services } from '../di/services.js';
import { wireCore } from '../di/wiring.js';
import { JobExecutor } from '../scheduler/executor.js';
import { recordSales, type RecordOutcome } from '../sales/intake.js';
import { Store } from '../store/index.js';
import { silentLogger } from '../util/logger.js';
import { MemoryTransport } from './memory-transport.js';

export interface TestHostOptions {
  /** the plugins under test: package dirs or installed package names (resolved from `baseDir`) */
  plugins?: string[];
  /**
   * cfx.yaml keys laid over the test defaults (a terminal `box-1`, `server: memory://<fresh volume>`,
   * prices from `/inbox/{terminal}` polled every 100 ms, sales to `/sales`, both `csv`; an office gets
   * `terminals: [box-1]` and the `generic` back office writing to `<dir>/backoffice-out`).
   */
  config?: Record<string, unknown>;
  /** where plugin paths and names are resolved from (default: process.cwd()) */
  baseDir?: string;
  /** built-in packages to load as well (default: those of the five that are installed) */
  builtins?: string[];
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
  json<T = any>(): T;
}

/** Runs the real CLI in-process (the same code path as the bin) with its output captured. */
export async function runCliCaptured(argv: string[], ctx: { env: NodeJS.ProcessEnv; cwd: string }): Promise<CliResult> {
  const { main } = await import('../cli/main.js');
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c) => (o += c));
  err.on('data', (c) => (e += c));
  const code = await main(argv, { out, err, env: ctx.env, cwd: ctx.cwd });
  return { code, out: o, err: e, json: () => JSON.parse(o) };
}

/**
 * A whole deployment in a temp dir, run in-process: the real plugin host (manifests, engines check,
 * config validated with the plugins' schemas, lazy activation, every call guarded), the real store
 * and jobs. The default server is a fresh `memory://` volume, so nothing needs a network.
 */
export interface TestHost {
  /** the temp dir: cfx.yaml, data/ */
  readonly dir: string;
  readonly configFile: string;
  readonly config: CfxConfig;
  readonly host: PluginHost;
  readonly store: Store;
  /** the deployment as the CLI and the Service see it */
  readonly app: App;
  /** the terminal's inbox (`prices.dir` expanded) and the sales dir on the server */
  readonly inbox: string;
  readonly salesDir: string;
  /** another client of the configured server (what the office side would use) */
  remote(): Promise<Transport>;
  /** puts a file on the server the way cfx does: parents created, temp name, then rename */
  put(path: string, data: Uint8Array | string): Promise<void>;
  /** a file's bytes from the server */
  get(path: string): Promise<Buffer>;
  /** file names in a server dir, sorted (a missing dir is empty) */
  ls(dir: string): Promise<string[]>;
  /** price pull cycles until nothing is waiting: what happened to each file */
  pull(): Promise<FileOutcome[]>;
  /** journals sales (the till's JSON: decimal strings) */
  recordSale(input: unknown): RecordOutcome[];
  /** uploads every pending sale */
  push(): Promise<PushResult>;
  /** office: collect the sales dir and deliver to the back office */
  collect(): Promise<CollectRunResult>;
  /** the real CLI against this deployment (`-c` is added), output captured */
  cli(args: string[]): Promise<CliResult>;
  /** closes connections, the store and the host; removes the temp dir */
  close(): Promise<void>;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete out[k];
    else out[k] = isObj(v) && isObj(out[k]) && k !== 'options' && k !== 'serverOptions' ? merge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

function packageName(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/** The app object jobs and the Service take, over a host built here (App.open always loads the five built-ins). */
class TestApp {
  private shared: Promise<Transport> | undefined;
  private readonly opened: Transport[] = [];
  constructor(
    readonly config: CfxConfig,
    readonly host: PluginHost,
    readonly logger: Logger,
    private readonly storeRef: Store,
  ) {}
  get store(): Store {
    return this.storeRef;
  }
  get hasStore(): boolean {
    return true;
  }
  transport(): Promise<Transport> {
    this.shared ??= this.newTransport();
    return this.shared;
  }
  async newTransport(): Promise<Transport> {
    const t = await this.host.transport({ url: new URL(this.config.server), options: this.config.serverOptions, timeoutMs: this.config.timeoutMs, logger: this.logger });
    this.opened.push(t);
    return t;
  }
  private servicesRef: Services | undefined;
  private jobsRef: JobExecutor | undefined;
  /** wired as core wires an App (core/src/di/wiring.ts): a test overrides a ref here (a fixed clock) */
  get services(): Services {
    return (this.servicesRef ??= wireCore(this as unknown as App));
  }
  /** the jobs, run and recorded as under `cfx run` and the CLI */
  get jobs(): JobExecutor {
    return (this.jobsRef ??= new JobExecutor(this as unknown as App));
  }
  async close(): Promise<void> {
    await this.jobsRef?.close();
    await Promise.all(this.opened.splice(0).map((t) => t.close().catch(() => undefined)));
    await this.host.dispose();
    this.storeRef.close();
  }
}

/** Builds a {@link TestHost}. Close it (`after(() => th.close())`). */
export async function createTestHost(opts: TestHostOptions = {}): Promise<TestHost> {
  const baseDir = resolve(opts.baseDir ?? process.cwd());
  const dir = mkdtempSync(join(tmpdir(), 'cfx-testhost-'));
  const logger = opts.logger ?? silentLogger();
  const env = opts.env ?? {};
  const pluginDirs = (opts.plugins ?? []).map((spec) => {
    const d = locatePlugin(spec, baseDir);
    if (!d) throw new Error(`createTestHost: plugin "${spec}" not found (a package dir, or a package name installed under ${baseDir})`);
    return d;
  });
  const mine = new Set(pluginDirs.map(packageName).filter((n): n is string => n !== undefined));
  const builtins = (opts.builtins ?? BUILTIN_PLUGINS.filter((b) => locatePlugin(b, baseDir) !== undefined)).filter((b) => !mine.has(b));

  const volume = `cfx-test-${randomBytes(6).toString('hex')}`;
  const user = opts.config ?? {};
  const office = user.role === 'office';
  const defaults: Record<string, unknown> = {
    role: 'terminal',
    ...(office ? { terminals: ['box-1'], backoffice: { use: 'generic', options: { outDir: './backoffice-out' } } } : { terminal: 'box-1' }),
    dataDir: './data',
    server: `memory://${volume}`,
    timeout: '10s',
    prices: { dir: '/inbox/{terminal}', poll: '100ms' },
    sales: { dir: '/sales' },
    log: { level: 'silent' },
  };
  const raw = merge(defaults, user);
  raw.plugins = [...pluginDirs, ...(Array.isArray(user.plugins) ? (user.plugins as string[]) : [])];
  const configFile = join(dir, 'cfx.yaml');
  writeFileSync(configFile, JSON.stringify(raw, null, 2) + '\n'); // JSON is YAML

  let host: PluginHost | undefined;
  let store: Store | undefined;
  try {
    host = PluginHost.discover({ logger, dataDir: join(dir, 'data'), baseDir: dir, plugins: raw.plugins as string[], builtins });
    const config = loadConfig(configFile, { env, pluginSchemas: host.schemas() });
    host.configure({ logger, pluginOptions: config.pluginOptions, dataDir: config.dataDir });
    store = Store.open(config.dataDir);
    const app = new TestApp(config, host, logger, store);
    const asApp = app as unknown as App;
    const inbox = config.terminal !== undefined ? expandTemplate(config.prices.dir, { terminal: config.terminal }) : config.prices.dir;
    const salesDir = expandTemplate(config.sales.dir, { terminal: config.terminal });
    let remoteP: Promise<Transport> | undefined;
    const remote = () => (remoteP ??= app.newTransport());

    const th: TestHost = {
      dir,
      configFile,
      config,
      host,
      store,
      app: asApp,
      inbox,
      salesDir,
      remote,
      async put(path, data) {
        const t = await remote();
        await t.mkdir(posix.dirname(path));
        const tmp = posix.join(posix.dirname(path), `.${posix.basename(path)}.part`);
        await t.write(tmp, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
        await t.rename(tmp, path);
      },
      async get(path) {
        const chunks: Buffer[] = [];
        for await (const c of (await remote()).read(path)) chunks.push(Buffer.from(c as Uint8Array));
        return Buffer.concat(chunks);
      },
      async ls(d) {
        try {
          return (await (await remote()).list(d)).filter((e) => e.type === 'file').map((e) => e.name).sort();
        } catch (e) {
          if (e instanceof TransportError && e.kind === 'NotFound') return [];
          throw e;
        }
      },
      async pull() {
        // the prices.pull job, as `cfx run` polls it: until nothing waits (a size must hold still across two listings)
        const files: FileOutcome[] = [];
        for (let i = 0; i < 20; i++) {
          const r = (await app.jobs.run('prices.pull', { trigger: 'poll' })).output as PullResult;
          files.push(...r.files);
          if (r.waiting.length === 0) break;
        }
        return files;
      },
      recordSale(input) {
        if (config.terminal === undefined) throw new Error('recordSale is for the terminal role');
        return recordSales(store!, config.terminal, input);
      },
      async push() {
        return (await app.jobs.run('sales.push', { trigger: 'api' })).output as PushResult;
      },
      collect: async () => (await app.jobs.run('sales.collect', { trigger: 'api' })).output as CollectRunResult,
      cli: (args) => runCliCaptured(['node', 'cfx', ...args, '-c', configFile], { env, cwd: dir }),
      async close() {
        await app.close();
        if (config.server.startsWith('memory:')) MemoryTransport.reset(new URL(config.server).hostname || 'default');
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return th;
  } catch (e) {
    store?.close();
    await host?.dispose().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

