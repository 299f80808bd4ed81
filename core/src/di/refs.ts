import { createToken } from '../api/tokens.js';
import type { CfxConfig } from '../config/types.js';
import type { PluginHost } from '../host/index.js';
import type { Store } from '../store/index.js';

/**
 * Core-internal service refs: what core's own jobs and components depend on besides the public
 * catalogue (`coreServices` in api/services.ts). Plugins never see these; they get narrow refs.
 */
export const coreRefs = Object.freeze({
  /** the whole validated config (secrets included: never hand it to plugin code) */
  config: createToken<CfxConfig>('core.internal.config'),
  /** the local store; its repositories are reached through it */
  store: createToken<Store>('core.internal.store'),
  host: createToken<PluginHost>('core.internal.host'),
});
