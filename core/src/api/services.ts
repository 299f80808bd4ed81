import type { BackOffice } from './backoffice.js';
import type { Clock } from './clock.js';
import type { FaultHook } from './faults.js';
import type { Format } from './format.js';
import type { Logger } from './logger.js';
import type { Product } from './model.js';
import { createToken } from './tokens.js';
import type { Transport } from './transport.js';

/** Opens connections to the configured server. */
export interface TransportFactory {
  /**
   * a connection the caller owns (and closes); `purpose` names it in logs. For a transport declaring
   * `capabilities.multiplexed` it is the app's one connection, and its `close()` leaves it open.
   */
  open(purpose: string): Promise<Transport>;
}

/** Formats by id, with the config's options when none are given. */
export interface FormatFactory {
  get(id: string, options?: Record<string, unknown>): Promise<Format>;
}

/** The configured back office (office role). */
export interface BackOfficeFactory {
  /** a back-office adapter the caller owns (and closes) */
  open(): Promise<BackOffice>;
}

/** The last committed catalog, read-only. */
export interface CatalogReader {
  count(): number;
  getProduct(code: string): Product | undefined;
  findByBarcode(barcode: string): Product | undefined;
  listProducts(opts?: { q?: string; limit?: number; offset?: number }): Product[];
}

/** Small durable state; a plugin's job sees only its own keys. */
export interface KeyValueStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
}

/** What a job may know about the deployment (no secrets). */
export interface DeploymentInfo {
  role: 'terminal' | 'office';
  /** terminal role: this terminal's id */
  terminal?: string;
  /** office role: the terminals it serves */
  terminals: readonly string[];
  dataDir: string;
  prices: { dir: string; format: string };
  sales: { dir: string; format: string };
}

/**
 * The service catalogue (Backstage-style refs): what a job or core component declares in `deps`.
 * Core registers an implementation for each in one wiring file (core/src/di/wiring.ts); a test
 * overrides any of them (a fixed clock, a fault hook, a fake repository). Core's own jobs also use
 * core-internal refs (the store's repositories: core/src/di/refs.ts); plugins get these narrow ones.
 */
export const coreServices = Object.freeze({
  deployment: createToken<DeploymentInfo>('core.deployment'),
  logger: createToken<Logger>('core.logger'),
  clock: createToken<Clock>('core.clock'),
  faults: createToken<FaultHook>('core.faults'),
  transports: createToken<TransportFactory>('core.transports'),
  formats: createToken<FormatFactory>('core.formats'),
  backoffice: createToken<BackOfficeFactory>('core.backoffice'),
  catalog: createToken<CatalogReader>('core.catalog'),
  kv: createToken<KeyValueStore>('core.kv'),
});
