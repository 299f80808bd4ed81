// The contracts plugins import. Keep it small; every change here shows in review (api report).
export * from './errors.js';
export * from './model.js';
export * from './disposable.js';
export * from './transport.js';
export * from './format.js';
export * from './backoffice.js';
export * from './plugin.js';
export * from './tokens.js';
export * from './version.js';
export type { Logger } from './logger.js';
export type { FaultHook } from './faults.js';
export type { Clock } from './clock.js';
export * from './job.js';
export * from './services.js';
