import { join } from 'node:path';

/** The local layout under dataDir. One place, so jobs, status and docs agree. */
export function dataPaths(dataDir: string) {
  return {
    root: dataDir,
    staging: join(dataDir, 'staging'),
    archive: join(dataDir, 'archive'),
    archivePrices: join(dataDir, 'archive', 'prices'),
    archiveSales: join(dataDir, 'archive', 'sales'),
    quarantine: join(dataDir, 'quarantine'),
    plugins: join(dataDir, 'plugins'),
    log: join(dataDir, 'cfx.log'),
  };
}

/** local calendar date YYYY-MM-DD (archive folders are per local day, as an admin looks for them) */
export function localDate(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
