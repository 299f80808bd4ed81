// The `1c` back office's second goods source: a folder 1C exports CommerceML into (its "exchange
// with a site"). Two shapes of export:
// - a pair: import.xml + offers.xml (or import0_1.xml + offers0_1.xml, …), paired by what `*` matched;
// - 1C УТ 11's split package: import___<guid>.xml (the classifier, and one or more goods parts),
//   offers___<guid>.xml (names), prices___<guid>.xml (prices), rests___<guid>.xml (stock), every
//   file with its own GUID, grouped by the catalog they belong to.
// A complete, stable export is read once as a whole and joined by offer Ид with the office's `xml`
// options (price type, warehouse); every terminal fed from the folder gets that joined package, as
// one offers-only CommerceML document the core publishes like a goods file (converted to the
// terminal's format). Once every terminal has its copy on the server, the files are moved to
// `processed/`. An export missing a part waits, says so in `cfx publish`, and is quarantined after
// `incompleteAfter`. See docs/backoffice-1c.md, "CommerceML exports".
import { createReadStream, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CfxError, ErrorCodes, FormatError, type BackOfficeExport, type Logger, type PendingExportsOptions } from '@cfx/core/api';
import { checkCommerceMLSyntax, createXmlFormat, joinCommerceML, readCommerceMLHead, xmlOptionsSchema, type XmlFormatOptions } from '@cfx/format-xml';
import { exists, readJson, removeIfExists, withDirLock, writeJson } from './adapter-files.js';
import { durationMs, durationSchema, durationText, type Duration } from './duration.js';

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
  /** an export still missing a part this long after its oldest file was written is quarantined: `90s`, `30m`, `2h` or milliseconds (default `1h`) */
  incompleteAfter?: Duration;
  /** where published exports go, a folder inside `dir` (default `processed`) */
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
    incompleteAfter: durationSchema,
    processedDir: NAME,
    format: xmlOptionsSchema,
  },
} as const;

export const COMMERCEML_STATE = '.cfx';
/** 1C УТ 11's split export: the part is in the name, the GUID after `___` differs per file */
const SPLIT = /^(import|offers|prices|rests)___(.+)\.xml$/i;
const DEFAULT_INCOMPLETE_AFTER = 3_600_000;

type Role = 'import' | 'offers' | 'prices' | 'rests';

interface Part {
  name: string;
  path: string;
  role: Role;
  mtimeMs: number;
}

/** one export: a pair or a split package, its files in the order they are joined */
interface Package {
  /** the source name publish records and shows: the file names joined by `+` */
  name: string;
  parts: Part[];
  /** the parts it must have and has not; empty: complete */
  missing: string[];
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
/** in the order a join reads them: catalogs, names, stock, then prices */
const ROLE_ORDER: Record<Role, number> = { import: 0, offers: 1, rests: 2, prices: 3 };
const REQUIRED: Role[] = ['import', 'offers', 'prices'];

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

const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export interface CommerceMLSource {
  pendingExports(terminals: string[], opts?: Pick<PendingExportsOptions, 'signal' | 'onWaiting'>): Promise<BackOfficeExport[]>;
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
  const incompleteAfter = durationMs(o.incompleteAfter, DEFAULT_INCOMPLETE_AFTER);
  if (incompleteAfter === undefined) throw bad(`incompleteAfter must be a duration like 90s, 30m, 2h or milliseconds, not ${JSON.stringify(o.incompleteAfter)}`);
  const importRe = patternRe(o.importFile ?? 'import*.xml');
  const offersRe = patternRe(o.offersFile ?? 'offers*.xml');
  const xmlOptions: XmlFormatOptions = { ...o.format };
  const xml = createXmlFormat(xmlOptions); // checks the options now, not at the first export
  const log = ctx.logger;
  const perTerminal = o.dir.includes('{terminal}');

  /** package paths -> the signature last seen and since when */
  const seen = new Map<string, { sig: string; at: number }>();
  /** package paths + signature -> the failure of an export that did not read; not read again until it changes */
  const broken = new Map<string, { sig: string; error: FormatError; file: string | undefined }>();
  /** a split part's path -> the catalog it belongs to, while its signature is the same */
  const heads = new Map<string, { sig: string; key: string }>();

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

  const part = (dir: string, name: string, role: Role): Part | undefined => {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    return st?.isFile() ? { name, path, role, mtimeMs: st.mtimeMs } : undefined;
  };

  /** the catalog a split part belongs to: the Ид of its Классификатор / Каталог, the same in every part of one catalog's export */
  const catalogOf = async (p: Part): Promise<string> => {
    const s = sig(p.path) ?? '';
    const known = heads.get(p.path);
    if (known?.sig === s) return known.key;
    let key = '';
    try {
      const h = await readCommerceMLHead(createReadStream(p.path, { highWaterMark: 64 * 1024 }), p.name, xmlOptions);
      key = h.classifierId ?? h.catalogId ?? '';
    } catch (e) {
      // a broken part is found (and quarantined, naming it) when its package is read
      if (!(e instanceof FormatError)) throw e;
    }
    heads.set(p.path, { sig: s, key });
    return key;
  };

  const packagesIn = async (f: Folder): Promise<Package[]> => {
    let names: string[];
    try {
      names = readdirSync(f.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    names.sort(natural);
    const imports = new Map<string, string>();
    const offers = new Map<string, string>();
    const split = new Map<string, Part[]>();
    for (const n of names) {
      if (n.startsWith('.')) continue; // temp files, cfx's own
      const sp = SPLIT.exec(n);
      if (sp) {
        const p = part(f.dir, n, sp[1]!.toLowerCase() as Role);
        if (!p) continue;
        const key = await catalogOf(p);
        split.set(key, [...(split.get(key) ?? []), p]);
        continue;
      }
      const i = importRe.exec(n);
      if (i) imports.set(i[1]!.toLowerCase(), n);
      const of = offersRe.exec(n);
      if (of && !i) offers.set(of[1]!.toLowerCase(), n);
    }
    const out: Package[] = [];
    for (const key of [...new Set([...imports.keys(), ...offers.keys()])].sort(natural)) {
      const parts = [imports.get(key) && part(f.dir, imports.get(key)!, 'import'), offers.get(key) && part(f.dir, offers.get(key)!, 'offers')].filter((p): p is Part => !!p);
      if (parts.length === 0) continue;
      const missing = imports.has(key) ? (offers.has(key) ? [] : [`the offers file (${o.offersFile ?? 'offers*.xml'}) for ${imports.get(key)}`]) : [`the catalog file (${o.importFile ?? 'import*.xml'}) for ${offers.get(key)}`];
      out.push({ name: parts.map((p) => p.name).join('+'), parts, missing });
    }
    for (const parts of split.values()) {
      parts.sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.mtimeMs - b.mtimeMs || natural(a.name, b.name));
      const missing = REQUIRED.filter((r) => !parts.some((p) => p.role === r)).map((r) => `${r}___*.xml`);
      out.push({ name: parts.map((p) => p.name).join('+'), parts, missing });
    }
    return out;
  };

  const packageSig = (p: Package): string | undefined => {
    const sigs = p.parts.map((x) => sig(x.path));
    return sigs.some((s) => s === undefined) ? undefined : sigs.join('|');
  };
  const packageId = (p: Package) => p.parts.map((x) => x.path).join('\0');

  /**
   * Complete = not being written any more: the flag file exists, or the sizes and mtimes stayed the
   * same for stableMs. The wait is done within this call when needed, so a one-shot `cfx publish`
   * takes a finished export without a second run.
   */
  const stable = async (f: Folder, p: Package, signal?: AbortSignal): Promise<string | undefined> => {
    const id = packageId(p);
    const now = packageSig(p);
    if (now === undefined) return undefined;
    if (f.flag !== undefined) return exists(f.flag) ? now : undefined;
    let prev = seen.get(id);
    if (!prev || prev.sig !== now) seen.set(id, (prev = { sig: now, at: Date.now() }));
    const left = stableMs - (Date.now() - prev.at);
    if (left > 0) await sleep(left, undefined, signal ? { signal } : {});
    const again = packageSig(p);
    if (again !== now) {
      if (again !== undefined) seen.set(id, { sig: again, at: Date.now() });
      log?.debug({ dir: f.dir, files: p.name }, 'the CommerceML export is still being written: waiting');
      return undefined;
    }
    return now;
  };

  const partsOf = (p: Package) => p.parts.map((x) => ({ fileName: x.name, input: createReadStream(x.path, { highWaterMark: 256 * 1024 }) }));

  /** the package joined with the office's options, as the one offers-only document every terminal gets */
  const joined = (p: Package, signal?: AbortSignal): Readable =>
    Readable.from(
      (async function* () {
        const d = await joinCommerceML(partsOf(p), xmlOptions, { fileName: p.name, ...(signal ? { signal } : {}) });
        yield* xml.encodePrices!(d.records, d.mode, { options: {}, ...(signal ? { signal } : {}) });
      })(),
      { objectMode: false },
    );

  /** the whole export is read once before anything is handed out: which file is broken, and where, is known only here */
  const check = async (p: Package, signal?: AbortSignal): Promise<FormatError | undefined> => {
    try {
      for await (const _ of joined(p, signal)) signal?.throwIfAborted();
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

  const acknowledge = async (f: Folder, p: Package, sigAtCheck: string, last: boolean): Promise<void> => {
    await withDirLock(f.lockFile, `the CommerceML export folder ${f.dir}`, () => {
      if (packageSig(p) !== sigAtCheck) {
        throw new CfxError(ErrorCodes.JOB_FAILED, `back office "1c": 1C rewrote ${p.parts.map((x) => x.name).join(' / ')} while they were being published; not moved to processed, the new export is published on the next run`, { details: { dir: f.dir, retryable: true } });
      }
      mkdirSync(f.processed, { recursive: true });
      const s = stamp();
      const j: AckJournal = {
        moves: p.parts.map((x) => ({ from: x.path, to: join(f.processed, `${s}_${x.name}`) })),
        // the flag says "an export is complete": it goes with the last export of the folder
        ...(f.flag !== undefined && last ? { flag: f.flag } : {}),
      };
      writeJson(f.journal, j);
      finishJournal(f);
      log?.info({ dir: f.dir, files: p.name, processed: f.processed, terminals: f.terminals }, 'CommerceML export published to every terminal; moved to processed');
    });
  };

  /** an export the core quarantines (once, for the first terminal), naming the file and line; never acknowledged */
  const refused = (f: Folder, p: Package, error: FormatError, raw: Part | undefined): BackOfficeExport => ({
    terminal: f.terminals[0]!,
    fileName: raw?.name ?? p.name,
    formatId: 'xml',
    formatOptions: { ...xmlOptions },
    // a broken XML file reproduces its error alone, so the quarantine keeps the file itself; a
    // package that cannot be joined or is incomplete is refused with the reason
    open: () => (raw ? createReadStream(raw.path) : Readable.from((async function* (): AsyncGenerator<Buffer> {
      throw error;
    })())),
    ack: async () => {
      throw new CfxError(ErrorCodes.FORMAT_INVALID, `back office "1c": ${p.name} could not be read (${error.message}); not acknowledged`);
    },
  });

  /** an export missing a part: told while it may still come, refused once it is overdue */
  const incomplete = (f: Folder, p: Package, opts?: Pick<PendingExportsOptions, 'onWaiting'>): BackOfficeExport | undefined => {
    const oldest = Math.min(...p.parts.map((x) => x.mtimeMs));
    const since = new Date(oldest).toISOString();
    const what = `${p.missing.join(', ')} missing`;
    if (Date.now() - oldest < incompleteAfter) {
      log?.debug({ dir: f.dir, files: p.name, missing: p.missing, since }, 'a CommerceML export without all its parts: waiting');
      for (const terminal of f.terminals) {
        opts?.onWaiting?.({ terminal, fileName: p.name, reason: `CommerceML export incomplete: ${what} (in ${f.dir}); quarantined if still missing ${durationText(incompleteAfter)} after its first file`, since });
      }
      return undefined;
    }
    const error = new FormatError(`the CommerceML export is incomplete: ${what} since ${since} (incompleteAfter ${durationText(incompleteAfter)}); 1C's files stay in ${f.dir}`, { file: p.parts[0]!.name, field: p.missing.join(', ') });
    log?.warn({ dir: f.dir, files: p.name, missing: p.missing, since }, 'a CommerceML export has been missing a part too long: quarantined, 1C\'s files stay where they are');
    return refused(f, p, error, undefined);
  };

  async function pendingExports(terminals: string[], opts?: Pick<PendingExportsOptions, 'signal' | 'onWaiting'>): Promise<BackOfficeExport[]> {
    const signal = opts?.signal;
    const out: BackOfficeExport[] = [];
    for (const f of folders(terminals)) {
      signal?.throwIfAborted();
      if (exists(f.journal)) await withDirLock(f.lockFile, `the CommerceML export folder ${f.dir}`, () => finishJournal(f));
      const packages = await packagesIn(f);
      const complete = packages.filter((p) => p.missing.length === 0);
      for (const p of packages) {
        if (p.missing.length) {
          const q = incomplete(f, p, opts);
          if (q) out.push(q);
          continue;
        }
        const s = await stable(f, p, signal);
        if (s === undefined) {
          if (f.flag !== undefined && !exists(f.flag)) {
            for (const terminal of f.terminals) opts?.onWaiting?.({ terminal, fileName: p.name, reason: `the CommerceML export waits for its flag file ${f.flag}` });
          }
          continue;
        }
        const id = packageId(p);
        let b = broken.get(id);
        if (b && b.sig !== s) {
          broken.delete(id);
          b = undefined;
        }
        if (!b) {
          const err = await check(p, signal);
          if (err) {
            const file = err.location?.file;
            b = { sig: s, error: err, file };
            broken.set(id, b);
            log?.warn({ dir: f.dir, file: file ?? p.name, line: err.location?.line, err: err.message }, 'the CommerceML export cannot be read: it is quarantined, 1C\'s files stay where they are');
          }
        }
        if (b) {
          const named = p.parts.find((x) => x.name === b!.file);
          // the named file alone broken as XML: hand over the file itself
          const raw = named && (await checkCommerceMLSyntax(createReadStream(named.path), named.name, xmlOptions)) ? named : undefined;
          out.push(refused(f, p, b.error, raw));
          continue;
        }
        const waiting = new Set(f.terminals);
        const last = p === complete[complete.length - 1];
        for (const terminal of f.terminals) {
          out.push({
            terminal,
            fileName: p.name,
            formatId: 'xml',
            formatOptions: {},
            open: () => joined(p),
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
