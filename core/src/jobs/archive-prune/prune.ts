import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dataPaths, localDate } from '../../app/paths.js';

/** Removes archive day folders older than keepDays; returns the folders removed. */
export function pruneArchive(dataDir: string, keepDays: number, now = new Date()): string[] {
  const cutoff = localDate(new Date(now.getTime() - keepDays * 86_400_000));
  const removed: string[] = [];
  const p = dataPaths(dataDir);
  for (const kind of [p.archivePrices, p.archiveSales]) {
    let days: string[];
    try {
      days = readdirSync(kind);
    } catch {
      continue;
    }
    for (const d of days) {
      if (/^\d{4}-\d{2}-\d{2}$/.test(d) && d < cutoff) {
        rmSync(join(kind, d), { recursive: true, force: true });
        removed.push(join(kind, d));
      }
    }
  }
  return removed;
}
