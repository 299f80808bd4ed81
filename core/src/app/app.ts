import { dirname, resolve } from 'node:path';
import type { Logger, Transport } from '../api/index.js';
import { loadConfig, secretValues } from '../config/index.js';
import { rawConfigValue } from '../config/load.js';
import type { CfxConfig } from '../config/types.js';
import { PluginHost } from '../host/index.js';
import { Store } from '../store/index.js';
import { closeLogger, createLogger, silentLogger } from '../util/logger.js';
import { Services } from '../di/services.js';
import { wireCore } from '../di/wiring.js';
import { JobExecutor } from '../scheduler/executor.js';

export interface OpenOptions {
  configFile: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  logLevel?: string;
  /** how the store is needed: read-write (jobs), read-only (status), or not at all */
  store?: 'rw' | 'ro' | false;
  strictPlugins?: boolean;
  /** config warnings (a secret written in the file) are errors (`cfx config check --strict`) */
  strictConfig?: boolean;
}

/**
 * One opened deployment: the validated config, the plugin host built from manifests (no plugin
 * code imported yet), the logger and, when asked, the store. What every command starts from.
 */
export class App {
  private transportP?: Promise<Transport>;
  private servicesRef: Services | undefined;
  private jobsRef: JobExecutor | undefined;

  private constructor(
    readonly config: CfxConfig,
    readonly host: PluginHost,
    readonly logger: Logger,
    private readonly storeRef: Store | undefined,
    /** the logger was made here (not handed in): close() closes its file */
    private readonly ownLogger: boolean,
  ) {}

  static open(o: OpenOptions): App {
    const file = resolve(o.configFile);
    const env = o.env ?? process.env;
    // The plugin list must be known before validation: plugins bring the schemas of their options.
    let rawPlugins: string[] = [];
    let rawDataDir = './cfx-data';
    // unreadable or not YAML: loadConfig reports it (the syntax error with its position)
    const raw = rawConfigValue(file) as { plugins?: unknown; dataDir?: unknown } | null | undefined;
    if (Array.isArray(raw?.plugins)) rawPlugins = raw.plugins.filter((p): p is string => typeof p === 'string');
    if (typeof raw?.dataDir === 'string') rawDataDir = raw.dataDir;
    const bootLogger = o.logger ?? silentLogger();
    const host = PluginHost.discover({
      logger: bootLogger,
      dataDir: resolve(dirname(file), rawDataDir),
      baseDir: dirname(file),
      plugins: rawPlugins,
      strict: o.strictPlugins ?? true,
    });
    const config = loadConfig(file, { env, pluginSchemas: host.schemas(), ...(o.strictConfig ? { strict: true } : {}) });
    const logger =
      o.logger ??
      createLogger({
        level: o.logLevel ?? config.log.level,
        ...(config.log.file ? { file: resolve(dirname(file), config.log.file), rotate: config.log.rotate ?? false } : {}),
        pretty: !config.log.file && process.stderr.isTTY,
        secrets: secretValues(config, host.schemas()),
      });
    host.configure({ logger, pluginOptions: config.pluginOptions, dataDir: config.dataDir });
    return new App(config, host, logger, o.store ? Store.open(config.dataDir, { readonly: o.store === 'ro' }) : undefined, !o.logger);
  }

  /** the service container, wired on first use (core/src/di/wiring.ts); a test overrides refs here */
  get services(): Services {
    return (this.servicesRef ??= wireCore(this, new Services()));
  }

  /** runs jobs by id (core's and plugins'), recording each run once */
  get jobs(): JobExecutor {
    return (this.jobsRef ??= new JobExecutor(this));
  }

  get store(): Store {
    if (!this.storeRef) throw new Error('this command opened no store');
    return this.storeRef;
  }

  get hasStore(): boolean {
    return this.storeRef !== undefined;
  }

  /** the configured server's transport, created once and kept open between cycles */
  transport(): Promise<Transport> {
    // a failed creation (a plugin that did not activate) is not cached: the next cycle tries again
    this.transportP ??= this.newTransport().catch((e) => {
      this.transportP = undefined;
      throw e;
    });
    return this.transportP;
  }

  private readonly opened: Transport[] = [];

  /** another connection to the server (sales use their own, so an upload never waits behind a listing) */
  async newTransport(): Promise<Transport> {
    const t = await this.host.transport({
      url: new URL(this.config.server),
      options: this.config.serverOptions,
      timeoutMs: this.config.timeoutMs,
      logger: this.logger,
    });
    this.opened.push(t);
    return t;
  }

  async close(): Promise<void> {
    await this.jobsRef?.close();
    // every connection this app opened, the shared one included
    await Promise.all(this.opened.splice(0).map((t) => t.close().catch(() => undefined)));
    await this.host.dispose();
    this.storeRef?.close();
    if (this.ownLogger) await closeLogger(this.logger);
  }
}
