/**
 * What a person is told about an applied price file; shared by the pull's outcome and `cfx status`
 * (no imports: status loads it without the job).
 */
export function skippedMessage(count: number, lines: readonly number[], reasons: readonly string[]): string {
  return `${count} line(s) skipped (line ${lines.join(', ')}${count > lines.length ? ', …' : ''})${reasons.length ? `: ${reasons.join('; ')}` : ''}`;
}

/** quarantined, or applied with warnings (lines skipped, nothing applied): the run is partial, `cfx pull` exits 3 */
export function needsAttention(f: { result: string; warnings?: readonly string[] }): boolean {
  return f.result === 'quarantined' || (f.result === 'applied' && (f.warnings?.length ?? 0) > 0);
}
