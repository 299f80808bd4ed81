// The `1c` back office's second goods source: a folder 1C exports CommerceML into (its "exchange
// with a site": import.xml + offers.xml, or import0_1.xml + offers0_1.xml, …). A complete pair is
// combined into one document (combineCommerceML: catalog first, then offers) and handed to the
// core's publish as an `xml` export; once every terminal fed from the folder has its copy on the
// server, the pair is moved to `processed/`. See docs/backoffice-1c.md, "CommerceML exports".
import { createReadStream, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CfxError, ErrorCodes, FormatError, type BackOfficeExport, type Logger } from '@cfx/core/api';
import { combineCommerceML, createXmlFormat, xmlOptionsSchema, type XmlFormatOptions } from '@cfx/format-xml';
import { exists, readJson, removeIfExists, withDirLock, writeJson } from './adapter-files.js';

export interface CommerceMLOptions {
  /** the folder 1C exports into; `{terminal}` for one per terminal, without it one folder feeds every terminal; relative: to the config file's dir */
  dir: string;
  /** the catalog file; one `*` matches any text (default `import*.xml`), paired with the offers file whose `*` matched the same */
  importFile?: string;
  /** the offers file (default `offers*.xml`) */
  offersFile?: string;
  /** a flag file that says the export is complete; without one a pair is taken once its size and mtime stay unchanged for `stableMs` */
  flagFile?: string;
  /** default 2000 */
  stableMs?: number;
  /** where published pairs go, a folder inside `dir` (default `processed`) */
  processedDir?: string;
  /** `xml` format options to read the export with (priceType, warehouse, encoding, limits) */
  format?: XmlFormatOptions;
}

const NAME = { type: 'string', minLength: 1, pattern: '^[^/\\\\]+$' } as const;

/** the `commerceml` part of the `1c` options schema */
export const commercemlOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dir'],
  properties: {
    dir: { type: 'string', minLength: 1 },
    importFile: NAME,
    offersFile: NAME,
    flagFile: NAME,
    stableMs: { type: 'integer', minimum: 0, maximum: 600000 },
    processedDir: NAME,
    format: xmlOptionsSchema,
  },
} as const;

export const COMMERCEML_STATE = '.cfx';

interface Pair {
  key: string;
  importName: string;
  offersName: string;
  importPath: string;
  offersPath: string;
}

interface Folder {
  dir: string;
  terminals: string[];
  processed: string;
  flag: string | undefined;
  lockFile: string;
  journal: string;
}

/** the moves of one acknowledgement, written before the first: a crash between two moves is finished on the next poll */
interface AckJournal {
  moves: { from: string; to: string }[];
  flag?: string;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/** `import*.xml` -> a case-insensitive regex whose group 1 is what `*` matched (1C on Windows does not care about case) */
function patternRe(p: string): RegExp {
  const parts = p.split('*');
  if (parts.length > 2) throw new CfxError(ErrorCodes.CONFIG_INVALID, `back office "1c": commerceml file pattern ${JSON.stringify(p)} may hold one "*" at most`);
  const esc = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${esc(parts[0]!)}${parts.length === 2 ? `(.*)${esc(parts[1]!)}` : '()'}$`, 'i');
}

function sig(path: string): string | undefined {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export interface CommerceMLSource {
  pendingExports(terminals: string[], signal?: AbortSignal): Promise<BackOfficeExport[]>;
}

export function createCommerceMLSource(o: CommerceMLOptions, ctx: { baseDir: string; logger?: Logger | undefined }): CommerceMLSource {
  const bad = (msg: string) => new CfxError(ErrorCodes.CONFIG_INVALID, `back office "1c": commerceml.${msg}`);
  if (!o || typeof o.dir !== 'string' || o.dir === '') throw bad('dir is required (the folder 1C exports import.xml and offers.xml into)');
  for (const k of ['importFile', 'offersFile', 'flagFile', 'processedDir'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'string' || v === '' || /[/\\]/.test(v) || v === '.' || v === '..')) throw bad(`${k} must be a name inside dir (no folders): ${JSON.stringify(v)}`);
  }
  const stableMs = o.stableMs ?? 2000;
  if (!Number.isSafeInteger(stableMs) || stableMs < 0) throw bad(`stableMs must be an integer >= 0, not ${JSON.stringify(o.stableMs)}`);
  const importRe = patternRe(o.importFile ?? 'import*.xml');
  const offersRe = patternRe(o.offersFile ?? 'offers*.xml');
  const xmlOptions: XmlFormatOptions = { ...o.format };
  const xml = createXmlFormat(xmlOptions); // checks the options now, not at the first export
  const log = ctx.logger;
  const perTerminal = o.dir.includes('{terminal}');

  /** pair paths -> the signature last seen and since when */
  const seen = new Map<string, { sig: string; at: number }>();
  /** pair paths + signature -> the failure of an export that did not read; not read again until it changes */
  const broken = new Map<string, { sig: string; part: 'import' | 'offers' | 'both'; error: FormatError }>();

  const folders = (terminals: string[]): Folder[] => {
    const by = new Map<string, Folder>();
    for (const t of perTerminal ? terminals : terminals.slice(0, 1)) {
      const expanded = o.dir.replace(/\{terminal\}/g, t);
      const dir = isAbsolute(expanded) ? resolve(expanded) : resolve(ctx.baseDir, expanded);
      const f = by.get(dir) ?? { dir, terminals: [], processed: join(dir, o.processedDir ?? 'processed'), flag: o.flagFile === undefined ? undefined : join(dir, o.flagFile), lockFile: join(dir, COMMERCEML_STATE, 'lock'), journal: join(dir, COMMERCEML_STATE, 'commerceml-ack.json') };
      if (perTerminal) f.terminals.push(t);
      else f.terminals.push(...terminals);
      by.set(dir, f);
    }
    return [...by.values()];
  };

  const pairsIn = (f: Folder): Pair[] => {
    let names: string[];
    try {
      names = readdirSync(f.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const imports = new Map<string, string>();
    const offers = new Map<string, string>();
    for (const n of names) {
      if (n.startsWith('.')) continue; // temp files, cfx's own
      const i = importRe.exec(n);
      if (i) imports.set(i[1]!.toLowerCase(), n);
      const of = offersRe.exec(n);
      if (of && !i) offers.set(of[1]!.toLowerCase(), n);
    }
    const out: Pair[] = [];
    for (const [key, importName] of [...imports].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))) {
      const offersName = offers.get(key);
      if (offersName === undefined) {
        log?.debug({ dir: f.dir, file: importName }, 'a CommerceML catalog without its offers file yet: waiting');
        continue;
      }
      if (!statSync(join(f.dir, importName)).isFile() || !statSync(join(f.dir, offersName)).isFile()) continue;
      out.push({ key, importName, offersName, importPath: join(f.dir, importName), offersPath: join(f.dir, offersName) });
    }
    return out;
  };

  const pairSig = (p: Pair): string | undefined => {
    const a = sig(p.importPath);
    const b = sig(p.offersPath);
    return a === undefined || b === undefined ? undefined : `${a}|${b}`;
  };

  /**
   * Complete = not being written any more: the flag file exists, or the sizes and mtimes stayed the
   * same for stableMs. The wait is done within this call when needed, so a one-shot `cfx publish`
   * takes a finished export without a second run.
   */
  const stable = async (f: Folder, p: Pair, signal?: AbortSignal): Promise<string | undefined> => {
    const id = `${p.importPath}\0${p.offersPath}`;
    const now = pairSig(p);
    if (now === undefined) return undefined;
    if (f.flag !== undefined) return exists(f.flag) ? now : undefined;
    let prev = seen.get(id);
    if (!prev || prev.sig !== now) seen.set(id, (prev = { sig: now, at: Date.now() }));
    const left = stableMs - (Date.now() - prev.at);
    if (left > 0) await sleep(left, undefined, signal ? { signal } : {});
    const again = pairSig(p);
    if (again !== now) {
      if (again !== undefined) seen.set(id, { sig: again, at: Date.now() });
      log?.debug({ dir: f.dir, file: p.importName }, 'the CommerceML export is still being written: waiting');
      return undefined;
    }
    return now;
  };

  const parts = (p: Pair) => [
    { fileName: p.importName, input: createReadStream(p.importPath, { highWaterMark: 256 * 1024 }) },
    { fileName: p.offersName, input: createReadStream(p.offersPath, { highWaterMark: 256 * 1024 }) },
  ];
  const combinedName = (p: Pair) => `${p.importName}+${p.offersName}`;

  /** the whole export is read once before anything is handed out: which file is broken, and where, is known only here */
  const check = async (p: Pair, signal?: AbortSignal): Promise<FormatError | undefined> => {
    try {
      const d = await xml.decodePrices!(combineCommerceML(parts(p), xmlOptions, signal), { fileName: combinedName(p), options: {}, ...(signal ? { signal } : {}) });
      for await (const _ of d.records) signal?.throwIfAborted();
      return undefined;
    } catch (e) {
      if (e instanceof FormatError) return e;
      throw e;
    }
  };

  /** finishes the moves of an acknowledgement a crash interrupted */
  const finishJournal = (f: Folder): void => {
    const j = readJson<AckJournal>(f.journal);
    if (!j) return;
    for (const m of j.moves) if (exists(m.from)) renameSync(m.from, m.to);
    if (j.flag !== undefined) removeIfExists(j.flag);
    removeIfExists(f.journal);
    log?.info({ dir: f.dir, files: j.moves.map((m) => m.to) }, 'finished moving an acknowledged CommerceML export to processed');
  };

  const acknowledge = async (f: Folder, p: Pair, sigAtCheck: string, last: boolean): Promise<void> => {
    await withDirLock(f.lockFile, `the CommerceML export folder ${f.dir}`, () => {
      if (pairSig(p) !== sigAtCheck) {
        throw new CfxError(ErrorCodes.JOB_FAILED, `back office "1c": 1C rewrote ${p.importName} / ${p.offersName} while they were being published; not moved to processed, the new export is published on the next run`, { details: { dir: f.dir, retryable: true } });
      }
      mkdirSync(f.processed, { recursive: true });
      const s = stamp();
      const j: AckJournal = {
        moves: [p.importPath, p.offersPath].map((from, k) => ({ from, to: join(f.processed, `${s}_${k === 0 ? p.importName : p.offersName}`) })),
        // the flag says "an export is complete": it goes with the last pair of the folder
        ...(f.flag !== undefined && last ? { flag: f.flag } : {}),
      };
      writeJson(f.journal, j);
      finishJournal(f);
      log?.info({ dir: f.dir, import: p.importName, offers: p.offersName, processed: f.processed, terminals: f.terminals }, 'CommerceML export published to every terminal; moved to processed');
    });
  };

  async function pendingExports(terminals: string[], signal?: AbortSignal): Promise<BackOfficeExport[]> {
    const out: BackOfficeExport[] = [];
    for (const f of folders(terminals)) {
      signal?.throwIfAborted();
      if (exists(f.journal)) await withDirLock(f.lockFile, `the CommerceML export folder ${f.dir}`, () => finishJournal(f));
      const pairs = pairsIn(f);
      for (const [k, p] of pairs.entries()) {
        const s = await stable(f, p, signal);
        if (s === undefined) continue;
        const id = `${p.importPath}\0${p.offersPath}`;
        let b = broken.get(id);
        if (b && b.sig !== s) {
          broken.delete(id);
          b = undefined;
        }
        if (!b) {
          const err = await check(p, signal);
          if (err) {
            const file = err.location?.file;
            b = { sig: s, part: file === p.importName ? 'import' : file === p.offersName ? 'offers' : 'both', error: err };
            broken.set(id, b);
            log?.warn({ dir: f.dir, file: file ?? combinedName(p), line: err.location?.line, err: err.message }, 'the CommerceML export cannot be read: it is quarantined, 1C\'s files stay where they are');
          }
        }
        if (b) {
          // handed over once (to the first terminal) so that the core quarantines it once, naming
          // the file and line; 1C's files are never acknowledged
          const part = b.part;
          const path = part === 'import' ? p.importPath : part === 'offers' ? p.offersPath : undefined;
          out.push({
            terminal: f.terminals[0]!,
            fileName: part === 'import' ? p.importName : part === 'offers' ? p.offersName : combinedName(p),
            formatId: 'xml',
            formatOptions: { ...xmlOptions },
            open: () => (path !== undefined ? createReadStream(path) : combineCommerceML(parts(p), xmlOptions)),
            ack: async () => {
              throw new CfxError(ErrorCodes.FORMAT_INVALID, `back office "1c": ${p.importName} / ${p.offersName} could not be read (${b!.error.message}); not acknowledged`);
            },
          });
          continue;
        }
        const waiting = new Set(f.terminals);
        const last = k === pairs.length - 1;
        for (const terminal of f.terminals) {
          out.push({
            terminal,
            fileName: combinedName(p),
            formatId: 'xml',
            formatOptions: { ...xmlOptions },
            open: (): Readable => combineCommerceML(parts(p), xmlOptions),
            ack: async () => {
              waiting.delete(terminal);
              if (waiting.size === 0) await acknowledge(f, p, s, last);
            },
          });
        }
      }
    }
    return out;
  }

  return { pendingExports };
}
