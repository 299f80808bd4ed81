import type { Clock } from '../api/clock.js';

/** the wall clock: production */
export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/** a clock that says what a test tells it; `advance` moves it */
export function fixedClock(at: Date | string): Clock & { set(at: Date | string): void; advance(ms: number): void } {
  let t = new Date(at).getTime();
  return {
    now: () => new Date(t),
    set: (v) => {
      t = new Date(v).getTime();
    },
    advance: (ms) => {
      t += ms;
    },
  };
}
