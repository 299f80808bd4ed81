// @cfx/core config: load, validate and print `cfx.yaml`.
export type { CfxConfig, Role, PricesConfig, SalesConfig, BackOfficeConfig, ScheduleEntry, AdminConfig } from './types.js';
export {
  loadConfig,
  parseConfig,
  configFromObject,
  formatProblems,
  renderProblems,
  configWarnings,
  DEFAULTS,
  parseAdminListen,
  isLoopbackHost,
  type PluginSchemas,
  type ConfigProblem,
  type LoadConfigOptions,
  type ParseConfigOptions,
} from './load.js';
export { parseDuration, parseSize, tryParseDuration, tryParseSize } from './units.js';
export { redactConfig, redactUrl, secretValues, isSecretKey, REDACTED } from './redact.js';
export { initTemplate } from './template.js';
export { coreSchema, TERMINAL_ID_PATTERN, LOG_LEVELS } from './schema.js';
export { urlScheme } from './validator.js';
export { envReferences, type EnvReference } from './env.js';
