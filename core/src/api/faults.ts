/**
 * The fault hook (service ref `faults` of the DI catalogue to come): every step boundary of a job
 * calls `at(point)` with a stable name (`sales.push:renamed`). In production it does nothing; the
 * crash tests set `CFX_FAULT=<point>[,<point>…]` so the process SIGKILLs itself the first time it
 * reaches a point, which proves crash safety at exactly that boundary instead of by timers.
 */
export interface FaultHook {
  at(point: string): void;
}
