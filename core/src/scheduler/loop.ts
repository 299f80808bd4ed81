import { errorMessage, isCfxError, type CfxError, type Logger } from '../api/index.js';

const MAX_BACKOFF_MS = 60_000;

/**
 * A self-rescheduling job loop: the next run is planned when the current one ends, so runs never
 * overlap; failures back off exponentially (capped) and are logged once per distinct error;
 * `nudge()` runs it as soon as the current run ends (a new sale, say).
 */
export class JobLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  failures = 0;
  /** the wait planned after the last run (ms): the poll interval, or the back-off */
  plannedDelay = 0;
  private lastError = '';
  /** while set (a live watch: scheduler/watch.ts), the wait after a run that succeeded; else everyMs */
  private relaxedMs: number | undefined;
  /** the current run asked for the normal interval next (work left that only a listing sees) */
  private keepPace = false;
  /** when the last run began (Date.now()), for a re-plan when the interval changes */
  private lastStart = 0;

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    private readonly run: () => Promise<void>,
    private readonly logger: Logger,
    private readonly onFailure?: (e: unknown, firstOfKind: boolean) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  nudge(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  /**
   * The wait after a successful run while something else watches for the work (a transport's
   * watch that is live): `ms`, or back to the normal interval with `undefined`. Going back
   * re-plans a wait already under way, so the poll resumes its pace the moment the watch fails
   * (counted from the last run's start, as always). Failures back off from the normal interval.
   */
  relax(ms: number | undefined): void {
    const was = this.relaxedMs;
    this.relaxedMs = ms === undefined ? undefined : Math.max(ms, this.everyMs);
    if (this.relaxedMs === was || this.stopped || this.running || !this.timer || this.failures) return;
    if (this.relaxedMs === undefined || this.relaxedMs < this.plannedDelay) {
      this.plannedDelay = this.relaxedMs ?? this.everyMs;
      this.schedule(Math.max(0, this.plannedDelay - (Date.now() - this.lastStart)));
    }
  }

  /** the interval a successful run is followed by now: the relaxed one while a watch is live */
  get interval(): number {
    return this.relaxedMs ?? this.everyMs;
  }

  /** called during a run: the next run comes at the normal interval even while relaxed (a file waits to be complete) */
  pace(): void {
    this.keepPace = true;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped || this.running) return;
    const startedAt = Date.now();
    this.lastStart = startedAt;
    this.keepPace = false;
    this.running = (async () => {
      try {
        await this.run();
        if (this.failures) this.logger.info({ job: this.name, after: this.failures }, 'job recovered');
        this.failures = 0;
        this.lastError = '';
      } catch (e) {
        this.failures++;
        const msg = errorMessage(e);
        const first = msg !== this.lastError;
        if (first) {
          this.lastError = msg;
          this.logger.error({ job: this.name, err: msg, code: isCfxError(e) ? (e as CfxError).code : undefined }, 'job failed; retrying with back-off');
        }
        this.onFailure?.(e, first);
      }
    })();
    await this.running;
    this.running = undefined;
    if (this.stopped) return;
    if (this.again && this.failures === 0) {
      this.again = false;
      this.schedule(0);
    } else {
      this.again = false;
      this.plannedDelay = this.failures ? Math.min(this.everyMs * 2 ** Math.min(this.failures, 16), MAX_BACKOFF_MS) : this.keepPace ? this.everyMs : this.interval;
      // the interval counts from the start of a run, so "every second" stays every second (a run
      // that took longer than the interval is followed at once, never overlapped)
      this.schedule(Math.max(0, this.plannedDelay - (Date.now() - startedAt)));
    }
  }

  /** stops planning runs and waits for the current one to finish */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
