import type { DependencyContainer } from 'tsyringe';
import type { Disposable } from './disposable.js';
import type { Logger } from './logger.js';
import type { TransportProvider } from './transport.js';
import type { FormatProvider } from './format.js';
import type { BackOfficeProvider } from './backoffice.js';
import type { JobContribution } from './job.js';

/** JSON Schema object (ajv, draft 2020-12 subset); `x-secret: true` marks values to redact. */
export type JsonSchema = Record<string, unknown>;

/**
 * The `cfx` block of a plugin's package.json. Everything the host needs to know before importing
 * plugin code: what it contributes and how its options look.
 */
export interface PluginManifest {
  apiVersion: number;
  contributes: {
    transports?: string[];
    formats?: string[];
    backoffices?: string[];
    /** job ids (`stock.upload`) the plugin registers with `ctx.registerJob`; `schedule:` may name them */
    jobs?: string[];
  };
  /** per contribution id (scheme / format id / backoffice id): schema of its options */
  configSchema?: Record<string, JsonSchema>;
  /** module to import for activation, relative to the package; defaults to the package's main */
  main?: string;
}

export type ContributionKind = 'transport' | 'format' | 'backoffice' | 'job';

/** What `activate` gets. Frozen: a plugin cannot reach into the host through it. */
export interface PluginContext {
  readonly pluginId: string;
  readonly version: string;
  readonly logger: Logger;
  /** this plugin's own section of the config (`pluginOptions.<id>`), validated */
  readonly config: Readonly<Record<string, unknown>>;
  /** private, writable, persists across runs */
  readonly storageDir: string;
  /** child container: what the plugin registers there does not leak into the core */
  readonly container: DependencyContainer;
  registerTransport(provider: TransportProvider): Disposable;
  registerFormat(provider: FormatProvider): Disposable;
  registerBackOffice(provider: BackOfficeProvider): Disposable;
  /**
   * A job `schedule:` entries can run (declared in `contributes.jobs`). Its deps are resolved from the
   * service catalogue (`coreServices`); core runs it behind the same guard as other plugin calls and
   * records each run from its summary.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  registerJob(job: JobContribution<any>): Disposable;
}

/** The module a plugin's main exports. */
export interface PluginModule {
  activate(ctx: PluginContext): void | Promise<void>;
  deactivate?(): void | Promise<void>;
}

export type PluginState = 'inactive' | 'active' | 'failed' | 'refused';
