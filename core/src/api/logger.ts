import type { Logger as PinoLogger } from 'pino';
/** pino's logger; plugins get a child bound to their id. */
export type Logger = PinoLogger;
