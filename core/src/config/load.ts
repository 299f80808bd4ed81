import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Document, LineCounter, Node } from 'yaml';
import { CfxError, ErrorCodes } from '../api/errors.js';
import type { JsonSchema } from '../api/plugin.js';
import { expandEnv, type PathSeg } from './env.js';
import { redactUrlsIn } from './redact.js';
import { CORE_SECTIONS } from './schema.js';
import { literalSecrets } from './secrets.js';
import type { BackOfficeConfig, CfxConfig, Role, ScheduleEntry } from './types.js';
import type { LogRotation } from '../util/log-file.js';
import { tryParseDuration, tryParseSize } from './units.js';
import { suggest, urlScheme, validateCore, validatePluginSection, type RawProblem } from './validator.js';
import { TO_JS_OPTIONS, YAML_OPTIONS, cachedConfigValue, rememberConfigValue, yaml } from './yaml-cache.js';

/** Option schemas of the contributions the plugin host knows (see `PluginHost.schemas()`). */
export interface PluginSchemas {
  /** by URL scheme: schema of `serverOptions` */
  transports: Record<string, JsonSchema | undefined>;
  /** by format id: schema of `prices.options` / `sales.options` */
  formats: Record<string, JsonSchema | undefined>;
  /** by back-office id: schema of `backoffice.options` */
  backoffices: Record<string, JsonSchema | undefined>;
  /** by plugin id: schema of `pluginOptions.<id>` (optional; without it any object is accepted) */
  plugins?: Record<string, JsonSchema | undefined>;
  /** when given, a scheme / id outside the list is an error that lists the list */
  knownTransports?: string[];
  knownFormats?: string[];
  knownBackoffices?: string[];
  /** when given, `schedule[].job` must be one of these (and, where roles are known, run in this role) */
  knownJobs?: { id: string; roles?: readonly string[] }[];
}

/** One config problem: a dotted path (`prices.poll`, `plugins.1`; '' for the whole file) and the rule broken. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** 1-based line in the YAML file, when known */
  line?: number;
}

export interface LoadConfigOptions {
  /** where `${NAME}` values come from; default process.env */
  env?: NodeJS.ProcessEnv;
  pluginSchemas?: PluginSchemas;
  /** warnings (a secret written in the file) are errors too (`cfx config check --strict`) */
  strict?: boolean;
}

/**
 * what a valid config still should not do, by config object (see configWarnings). Located (line
 * numbers) on first ask: a line needs the YAML document, and a config that came from yaml-cache
 * would parse it only for that — 20–50 ms of every `cfx push` whose URL holds a password, for
 * warnings only `cfx run`, `config check` and `doctor` print.
 */
const WARNINGS = new WeakMap<CfxConfig, () => ConfigProblem[]>();

/**
 * The warnings of a loaded config: a secret written in the file instead of `${ENV}` (the key,
 * and the variable to use). Kept beside the config, not in it: the config object is what the
 * file says, and is printed as such.
 */
export function configWarnings(cfg: CfxConfig): ConfigProblem[] {
  return WARNINGS.get(cfg)?.() ?? [];
}

export interface ParseConfigOptions extends LoadConfigOptions {
  /** the file the text came from (for messages and `cfg.file`) */
  file?: string;
  /** relative paths (dataDir, log.file, sales.spool) are resolved against it */
  baseDir: string;
}

export const DEFAULTS = {
  dataDir: './cfx-data',
  timeout: '30s',
  prices: { dir: '/ftpbox/{terminal}', format: 'csv', poll: '1s', watchPoll: '30s', maxFileSize: '512MB', maxLineLength: '1MB', stable: 0 },
  sales: { dir: '/ftpbox/sales', format: 'csv', connections: 1, maxFileSize: '16MB' },
  backoffice: 'generic',
  archive: { keepDays: 30 },
  status: { dir: '/ftpbox/status', every: '1m' },
  fleet: { staleAfter: '5m', gapRetry: '10m', gapRetryMax: '6h' },
  // 15 files of 10 MB at most (the current one + 14): 150 MB whatever the uptime; two weeks of a quiet till
  log: { level: 'info', rotate: { size: '10MB', frequency: 'daily', keep: 14 } },
  admin: { listen: '127.0.0.1:8730' },
} as const;

/** `host:port` of `admin.listen` → its parts, or undefined when it is not one (bad port, empty host). */
export function parseAdminListen(listen: string): { host: string; port: number; loopback: boolean } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(listen);
  if (!m) return undefined;
  const host = (m[1] ?? m[2])!;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host, port, loopback: isLoopbackHost(host) };
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped ::ffff:127.x.y.z) and localhost */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.split('.')[0] === '127';
  if (isIPv6(h)) {
    // the URL parser writes an IPv6 address in its one canonical form: [::1], [::ffff:7f00:1]
    const c = new URL(`http://[${h}]/`).hostname;
    return c === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(c);
  }
  return false;
}

/** Reads, expands, validates and normalises a `cfx.yaml`. Throws CfxError CONFIG_NOT_FOUND / CONFIG_PARSE / CONFIG_INVALID. */
export function loadConfig(file: string, opts: LoadConfigOptions = {}): CfxConfig {
  const abs = resolve(file);
  let buf: Buffer;
  try {
    buf = readFileSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new CfxError(ErrorCodes.CONFIG_NOT_FOUND, `config file not found: ${abs} (create one with "cfx init")`, { cause: e, details: { file: abs } });
    }
    throw new CfxError(ErrorCodes.CONFIG_NOT_FOUND, `cannot read config file ${abs}: ${(e as Error).message}`, { cause: e, details: { file: abs, errno: code } });
  }
  return parseConfig(decodeText(buf), { ...opts, file: abs, baseDir: dirname(abs) });
}

/**
 * What the config file parses to, before any check (`plugins` and `dataDir` are needed before the
 * config can be validated), or undefined when it cannot be read or parsed: loadConfig then says why.
 * The same text and parse as loadConfig's, so the second parse of the file comes from yaml-cache.
 */
export function rawConfigValue(file: string): unknown {
  try {
    const text = decodeText(readFileSync(file));
    const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    const cached = cachedConfigValue(src);
    if (cached !== undefined) return cached;
    const { doc } = parseYamlDocument(src);
    if (doc.errors.length > 0) return undefined;
    const raw = doc.toJS(TO_JS_OPTIONS) as unknown;
    if (doc.warnings.length === 0) rememberConfigValue(src, raw);
    return structuredClone(raw);
  } catch {
    return undefined;
  }
}

/** UTF-8 (BOM stripped) or, with a BOM, UTF-16 LE/BE as Windows editors write it. */
function decodeText(buf: Buffer): string {
  if (buf[0] === 0xff && buf[1] === 0xfe) return buf.subarray(2).toString('utf16le');
  if (buf[0] === 0xfe && buf[1] === 0xff) {
    const sw = Buffer.from(buf.subarray(2));
    sw.swap16();
    return sw.toString('utf16le');
  }
  const s = buf.toString('utf8');
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

/** Parses YAML text as a config. Same checks and errors as loadConfig, line numbers included. */
export function parseConfig(text: string, opts: ParseConfigOptions): CfxConfig {
  const file = opts.file !== undefined ? resolve(opts.baseDir, opts.file) : undefined;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  // a text parsed cleanly before (yaml-cache.ts): its value, and the YAML document only if a message needs a line
  const cached = cachedConfigValue(src);
  if (cached !== undefined) {
    let parsed: { doc: Document; lc: LineCounter } | undefined;
    return build(cached, { ...opts, file }, (p, atKey) => {
      parsed ??= parseYamlDocument(src);
      return lineOf(parsed.doc, parsed.lc, p, atKey);
    });
  }
  const { doc, lc: lineCounter } = parseYamlDocument(src);
  if (doc.errors.length > 0) {
    const errs = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return { line: pos.line, column: pos.col, message: redactUrlsIn(e.message.split('\n')[0]!) };
    });
    const where = file ?? '(config)';
    const first = errs[0]!;
    throw new CfxError(
      ErrorCodes.CONFIG_PARSE,
      `${where}: YAML syntax error at line ${first.line}, column ${first.column}: ${first.message}` +
        errs.slice(1).map((e) => `\n${where}: line ${e.line}, column ${e.column}: ${e.message}`).join(''),
      { details: { file, line: first.line, column: first.column, reason: first.message, errors: errs } },
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS(TO_JS_OPTIONS);
  } catch (e) {
    const reason = redactUrlsIn((e as Error).message);
    throw new CfxError(ErrorCodes.CONFIG_PARSE, `${file ?? '(config)'}: ${reason}`, { details: { file, reason } });
  }
  // before build(), which normalises the object in place
  if (doc.warnings.length === 0) rememberConfigValue(src, raw);
  return build(raw, { ...opts, file }, (p, atKey) => lineOf(doc, lineCounter, p, atKey));
}

function parseYamlDocument(src: string): { doc: Document; lc: LineCounter } {
  const y = yaml();
  const lc = new y.LineCounter();
  return { doc: y.parseDocument(src, { lineCounter: lc, ...YAML_OPTIONS }), lc };
}

/** Validates and normalises a config given as a plain object (as the YAML would parse to). */
export function configFromObject(raw: unknown, opts: ParseConfigOptions): CfxConfig {
  return build(raw, { ...opts, file: opts.file !== undefined ? resolve(opts.baseDir, opts.file) : undefined }, () => undefined);
}

/** Line of the node at `path`, or of its deepest existing ancestor (not the root: that says nothing). */
function lineOf(doc: Document, lc: LineCounter, path: PathSeg[], atKey: boolean): number | undefined {
  const { isAlias, isMap, isScalar, isSeq } = yaml();
  let node: unknown = doc.contents;
  let found: Node | undefined;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const seg = path[i]!;
    let next: unknown;
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      next = pair.value;
      keyNode = pair.key;
    } else if (isSeq(node)) {
      next = node.items[Number(seg)];
      if (next === undefined) break;
    } else break;
    const last = i === path.length - 1;
    const pick = (last && atKey ? keyNode : next) ?? keyNode;
    if (pick && typeof pick === 'object' && 'range' in pick && (pick as Node).range) found = pick as Node;
    node = next;
  }
  return found?.range ? lc.linePos(found.range[0]).line : undefined;
}

export function dotted(path: PathSeg[]): string {
  return path.map(String).join('.');
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `key:` with nothing after it means "use the default" for the core's own keys. */
function dropNulls(r: Record<string, unknown>): void {
  const strip = (o: Record<string, unknown>) => {
    for (const k of Object.keys(o)) if (o[k] === null) delete o[k];
  };
  strip(r);
  for (const s of CORE_SECTIONS) if (isObject(r[s])) strip(r[s] as Record<string, unknown>);
  if (isObject(r.backoffice)) strip(r.backoffice);
  if (Array.isArray(r.schedule)) for (const e of r.schedule) if (isObject(e)) strip(e);
}

function available(list: string[]): string {
  return list.length ? [...list].sort().join(', ') : 'none (no plugin contributes one)';
}

interface BuildOptions {
  file: string | undefined;
  baseDir: string;
  env?: NodeJS.ProcessEnv;
  pluginSchemas?: PluginSchemas;
  strict?: boolean;
}

function build(input: unknown, opts: BuildOptions, lineAt: (p: PathSeg[], atKey: boolean) => number | undefined): CfxConfig {
  const problems: RawProblem[] = [];
  const fail = (): never => {
    throw invalid(problems, opts.file, lineAt);
  };
  if (input === null || input === undefined) {
    problems.push({ path: [], message: 'the config is empty: it needs at least "role" and "server" (see "cfx init")' });
    fail();
  }
  if (!isObject(input)) {
    problems.push({ path: [], message: 'must be a mapping of keys (e.g. "role: terminal")' });
    fail();
  }

  // before expansion: afterwards a password from the environment and one in the file look alike
  const literal = literalSecrets(input as Record<string, unknown>);
  if (opts.strict) problems.push(...literal);
  const expanded = expandEnv(input, opts.env ?? process.env);
  const envPaths = expanded.problems.map((p) => p.path);
  const missingEnv = [...new Set(expanded.problems.flatMap((p) => (p.variable ? [p.variable] : [])))];
  problems.push(...expanded.problems.map((p) => ({ path: p.path, message: p.message })));
  const r = expanded.value as Record<string, unknown>;
  // `admin:` with nothing after it turns the admin page on with its defaults
  if (r.admin === null) r.admin = {};
  dropNulls(r);
  // plugin sections exist before validation so their schemas can require keys and fill defaults
  r.serverOptions ??= {};
  if (isObject(r.prices)) r.prices.options ??= {};
  if (isObject(r.sales)) r.sales.options ??= {};
  if (isObject(r.backoffice)) r.backoffice.options ??= {};
  if (typeof r.backoffice === 'string' || r.backoffice === undefined) r.backoffice = { use: r.backoffice ?? DEFAULTS.backoffice, options: {} };
  const backofficeWasString = typeof (input as Record<string, unknown>).backoffice === 'string';

  const startsWith = (p: PathSeg[], q: PathSeg[]) => q.length <= p.length && q.every((s, i) => String(p[i]) === String(s));
  const coreProblems = validateCore(r).map((p) => (backofficeWasString && String(p.path[0]) === 'backoffice' ? { ...p, path: ['backoffice'] } : p));
  // a value whose variable is missing is already reported; its other complaints would only be noise
  problems.push(...coreProblems.filter((p) => !envPaths.some((e) => startsWith(p.path, e))));
  const badAt = (...p: PathSeg[]) => problems.some((x) => startsWith(x.path, p) || startsWith(p, x.path));

  if (r.role === 'terminal' && r.terminal === undefined) problems.push({ path: ['terminal'], message: 'is required when role is terminal' });
  if (isObject(r.admin) && !badAt('admin')) {
    const listen = parseAdminListen((r.admin.listen ?? DEFAULTS.admin.listen) as string);
    if (!listen) problems.push({ path: ['admin', 'listen'], message: 'must be host:port with a port from 1 to 65535, e.g. "127.0.0.1:8730" or "[::1]:8730"' });
    else if (!listen.loopback && r.admin.token === undefined) {
      problems.push({ path: ['admin', 'token'], message: `is required when admin.listen is not a loopback address (${listen.host}): anyone who can reach the port could change data` });
    }
  }

  // plugin sections
  const ps = opts.pluginSchemas;
  const check = (
    kind: string,
    id: unknown,
    idPath: PathSeg[],
    known: string[] | undefined,
    schemas: Record<string, JsonSchema | undefined> | undefined,
    section: unknown,
    sectionPath: PathSeg[],
  ) => {
    if (typeof id !== 'string' || badAt(...idPath)) return;
    if (known && !known.includes(id)) {
      const near = suggest(id, known);
      problems.push({ path: idPath, message: `unknown ${kind} "${id}"${near ? ` (did you mean "${near}"?)` : ''}; available: ${available(known)}` });
      return;
    }
    const schema = schemas?.[id];
    if (!schema || !isObject(section) || badAt(...sectionPath)) return;
    problems.push(...validatePluginSection(schema, section, sectionPath, `${kind} "${id}"`));
  };
  if (typeof r.server === 'string' && !badAt('server')) {
    const scheme = urlScheme(r.server);
    if (scheme) check('transport (URL scheme)', scheme, ['server'], ps?.knownTransports, ps?.transports, r.serverOptions, ['serverOptions']);
  }
  if (isObject(r.prices)) {
    check('format', r.prices.format ?? DEFAULTS.prices.format, ['prices', 'format'], ps?.knownFormats, ps?.formats, r.prices.options, ['prices', 'options']);
  } else if (r.prices === undefined) {
    check('format', DEFAULTS.prices.format, ['prices', 'format'], ps?.knownFormats, ps?.formats, (r.prices = { options: {} }).options, ['prices', 'options']);
  }
  if (isObject(r.sales)) {
    check('format', r.sales.format ?? DEFAULTS.sales.format, ['sales', 'format'], ps?.knownFormats, ps?.formats, r.sales.options, ['sales', 'options']);
  } else if (r.sales === undefined) {
    check('format', DEFAULTS.sales.format, ['sales', 'format'], ps?.knownFormats, ps?.formats, (r.sales = { options: {} }).options, ['sales', 'options']);
  }
  // only the office talks to a back office: a terminal's config may leave the default in place
  if (isObject(r.backoffice) && r.role === 'office') {
    check('back office', r.backoffice.use, backofficeWasString ? ['backoffice'] : ['backoffice', 'use'], ps?.knownBackoffices, ps?.backoffices, r.backoffice.options, ['backoffice', 'options']);
  }
  if (Array.isArray(r.schedule) && ps?.knownJobs) {
    const ids = ps.knownJobs.map((j) => j.id);
    r.schedule.forEach((e: unknown, i: number) => {
      if (!isObject(e) || typeof e.job !== 'string' || badAt('schedule', i, 'job')) return;
      const known = ps.knownJobs!.find((j) => j.id === e.job);
      if (!known) {
        const near = suggest(e.job, ids);
        problems.push({ path: ['schedule', i, 'job'], message: `unknown job "${e.job}"${near ? ` (did you mean "${near}"?)` : ''}; available: ${available(ids)}` });
      } else if (known.roles && typeof r.role === 'string' && !known.roles.includes(r.role)) {
        problems.push({ path: ['schedule', i, 'job'], message: `job "${e.job}" runs in the ${known.roles.join('/')} role, not in this ${r.role} config` });
      }
    });
  }
  if (isObject(r.pluginOptions) && ps?.plugins) {
    for (const [id, section] of Object.entries(r.pluginOptions)) {
      const schema = ps.plugins[id];
      if (schema && isObject(section) && !badAt('pluginOptions', id)) problems.push(...validatePluginSection(schema, section, ['pluginOptions', id], `plugin "${id}"`));
    }
  }

  if (problems.length > 0) throw invalid(problems, opts.file, lineAt, missingEnv);
  const cfg = normalise(r, opts);
  if (literal.length > 0) {
    let found: ConfigProblem[] | undefined;
    WARNINGS.set(cfg, () => (found ??= located(literal, lineAt)));
  }
  return cfg;
}

function resolveLocal(baseDir: string, p: string): string {
  if (p === '~' || p.startsWith('~/') || p.startsWith('~\\')) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? resolve(p) : resolve(baseDir, p);
}

function normalise(r: Record<string, any>, opts: BuildOptions): CfxConfig {
  const prices = (r.prices ?? {}) as Record<string, any>;
  const sales = (r.sales ?? {}) as Record<string, any>;
  const log = (r.log ?? {}) as Record<string, any>;
  const backoffice: BackOfficeConfig = { use: r.backoffice.use, options: r.backoffice.options ?? {} };
  const cfg: CfxConfig = {
    ...(opts.file !== undefined ? { file: opts.file } : {}),
    role: r.role as Role,
    ...(r.terminal !== undefined ? { terminal: r.terminal as string } : {}),
    terminals: (r.terminals ?? []) as string[],
    dataDir: resolveLocal(opts.baseDir, (r.dataDir ?? DEFAULTS.dataDir) as string),
    server: r.server as string,
    serverOptions: r.serverOptions ?? {},
    timeoutMs: tryParseDuration(r.timeout ?? DEFAULTS.timeout)!,
    prices: {
      dir: prices.dir ?? DEFAULTS.prices.dir,
      format: prices.format ?? DEFAULTS.prices.format,
      pollMs: tryParseDuration(prices.poll ?? DEFAULTS.prices.poll)!,
      watchPollMs: tryParseDuration(prices.watchPoll ?? DEFAULTS.prices.watchPoll)!,
      options: prices.options ?? {},
      maxFileBytes: tryParseSize(prices.maxFileSize ?? DEFAULTS.prices.maxFileSize)!,
      maxLineBytes: tryParseSize(prices.maxLineLength ?? DEFAULTS.prices.maxLineLength)!,
      stableMs: tryParseDuration(prices.stable ?? DEFAULTS.prices.stable)!,
      order: prices.order ?? 'natural',
      allowEmptyFull: prices.allowEmptyFull === true,
      ...(typeof prices.maxRemovedShare === 'number' ? { maxRemovedShare: prices.maxRemovedShare } : {}),
    },
    sales: {
      dir: sales.dir ?? DEFAULTS.sales.dir,
      format: sales.format ?? DEFAULTS.sales.format,
      options: sales.options ?? {},
      connections: sales.connections ?? DEFAULTS.sales.connections,
      maxFileBytes: tryParseSize(sales.maxFileSize ?? DEFAULTS.sales.maxFileSize)!,
      ...(sales.spool !== undefined ? { spool: resolveLocal(opts.baseDir, sales.spool as string) } : {}),
    },
    backoffice,
    plugins: (r.plugins ?? []) as string[],
    pluginOptions: (r.pluginOptions ?? {}) as Record<string, Record<string, unknown>>,
    schedule: ((r.schedule ?? []) as ScheduleEntry[]).map((e) => ({ job: e.job, cron: e.cron })),
    archive: { keepDays: (r.archive?.keepDays ?? DEFAULTS.archive.keepDays) as number },
    status: { dir: (r.status?.dir ?? DEFAULTS.status.dir) as string, everyMs: tryParseDuration(r.status?.every ?? DEFAULTS.status.every)! },
    fleet: {
      staleAfterMs: tryParseDuration(r.fleet?.staleAfter ?? DEFAULTS.fleet.staleAfter)!,
      gapRetryMs: tryParseDuration(r.fleet?.gapRetry ?? DEFAULTS.fleet.gapRetry)!,
      gapRetryMaxMs: tryParseDuration(r.fleet?.gapRetryMax ?? DEFAULTS.fleet.gapRetryMax)!,
    },
    log: {
      level: (log.level ?? DEFAULTS.log.level) as string,
      ...(log.file !== undefined ? { file: resolveLocal(opts.baseDir, log.file as string), rotate: logRotation(log.rotate) } : {}),
    },
  };
  if (r.admin !== undefined) {
    const listen = (r.admin.listen ?? DEFAULTS.admin.listen) as string;
    cfg.admin = { listen, ...parseAdminListen(listen)!, ...(r.admin.token !== undefined ? { token: r.admin.token as string } : {}) };
  }
  return cfg;
}

/** `log.rotate` (validated): false = plain append; true, absent or partial = the defaults filled in */
function logRotation(v: unknown): LogRotation | false {
  if (v === false) return false;
  const o = isObject(v) ? v : {};
  const d = DEFAULTS.log.rotate;
  return {
    sizeBytes: tryParseSize(o.size ?? d.size)!,
    frequency: (o.frequency ?? d.frequency) as LogRotation['frequency'],
    keep: (o.keep ?? d.keep) as number,
  };
}

/** problems with their dotted path and line, in file order (those without a line, missing top-level keys, first) */
function located(raw: RawProblem[], lineAt: (p: PathSeg[], atKey: boolean) => number | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = raw.map((p) => {
    const line = p.path.length > 0 ? lineAt(p.path, p.atKey ?? false) : undefined;
    let message = p.message;
    if (p.wantedString && line !== undefined) message += ' (put the value in quotes)';
    return { path: dotted(p.path), message, ...(line !== undefined ? { line } : {}) };
  });
  return problems.map((p, i) => ({ p, i })).sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || a.i - b.i).map((x) => x.p);
}

function invalid(raw: RawProblem[], file: string | undefined, lineAt: (p: PathSeg[], atKey: boolean) => number | undefined, missingEnv: string[] = []): CfxError {
  const ordered = located(raw, lineAt);
  const n = ordered.length;
  return new CfxError(
    ErrorCodes.CONFIG_INVALID,
    `invalid config${file ? ` ${file}` : ''}: ${n} problem${n === 1 ? '' : 's'}\n${renderProblems(ordered)}`,
    { details: { ...(file ? { file } : {}), problems: ordered, ...(missingEnv.length ? { missingEnv } : {}) } },
  );
}

export function renderProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `${p.path === '' ? '(config)' : p.path}: ${p.message}${p.line !== undefined ? ` (line ${p.line})` : ''}`).join('\n');
}

/** The problems of a CONFIG_INVALID error one per line (`path: message (line N)`); any other error's message. */
export function formatProblems(err: unknown): string {
  if (Array.isArray(err)) return renderProblems(err as ConfigProblem[]);
  const problems = err instanceof CfxError ? err.details.problems : undefined;
  if (Array.isArray(problems)) return renderProblems(problems as ConfigProblem[]);
  return err instanceof Error ? err.message : String(err);
}
