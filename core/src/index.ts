// @cfx/core: the public barrel. Plugins import contracts from here (or '@cfx/core/api').
export * from './api/index.js';
export { PluginHost, type HostOptions, type PluginStatus } from './host/index.js';
export { Services } from './di/services.js';
export { App, type OpenOptions } from './app/app.js';
export { PricePull, type PullResult, type FileOutcome } from './jobs/prices-pull/price-pull.js';
export { downloadToStaging } from './jobs/shared/file-steps.js';
export { FAULT_POINTS, setFaultHook, type FaultPoint } from './faults/index.js';
export { runDaemon } from './scheduler/daemon.js';
export { Service } from './scheduler/service.js';
export { SalesPush, type PushResult } from './jobs/sales-push/sales-push.js';
export { SalesCollect, runCollect } from './jobs/sales-collect/sales-collect.js';
export { createGenericBackOffice } from './backoffice/generic.js';
export { parseSaleInput, saleInputSchema } from './sales/sale-input.js';
export { Terminal, openTerminal, type OpenTerminalOptions } from './library.js';
export type { RecordOutcome } from './sales/intake.js';
export { createLogger, silentLogger } from './util/logger.js';
export { main as cli } from './cli/main.js';
