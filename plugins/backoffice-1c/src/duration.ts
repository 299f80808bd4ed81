/** a wait in the options: `90s`, `30m`, `2h`, `500ms`, or milliseconds */
export type Duration = string | number;

/** the schema of a Duration (package.json keeps a copy: a test holds the two equal) */
export const durationSchema = { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^\\d+\\s*(ms|s|m|h)$' }] } as const;

const UNIT = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** milliseconds, `dflt` when absent, undefined when it is not a Duration */
export function durationMs(v: unknown, dflt: number): number | undefined {
  if (v === undefined) return dflt;
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  const m = typeof v === 'string' ? /^(\d+)\s*(ms|s|m|h)$/.exec(v.trim()) : null;
  return m ? Number(m[1]) * UNIT[m[2] as keyof typeof UNIT] : undefined;
}

/** for messages: `30 min`, `2 h`, `90 s` */
export function durationText(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000} min`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
