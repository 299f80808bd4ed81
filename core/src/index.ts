// @cfx/core: the public barrel. Plugins import contracts from here (or '@cfx/core/api').
export * from './api/index.js';
export { PluginHost, type HostOptions, type PluginStatus } from './host/index.js';
export { Services } from './di/services.js';
export { App, type OpenOptions } from './app/app.js';
export { PricePull, type PullResult, type FileOutcome } from './jobs/price-pull.js';
export { runDaemon } from './scheduler/daemon.js';
export { createLogger, silentLogger } from './util/logger.js';
export { main as cli } from './cli/main.js';
