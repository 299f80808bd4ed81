import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import {
  CfxError,
  ErrorCodes,
  errorMessage,
  FormatError,
  isCfxError,
  type BackOffice,
  type BackOfficeExport,
  type Format,
  type Logger,
  type PriceFileMode,
  type PriceRecord,
  type Transport,
} from '../api/index.js';
import type { App } from '../app/app.js';
import { dataPaths, localDate } from '../app/paths.js';
import type { CfxConfig } from '../config/types.js';
import type { Store } from '../store/index.js';
import { formatProblem, stageStream } from './file-steps.js';
import { expandTemplate, safeLocalName } from './names.js';

/*
 * Publish (office → terminals): the back office's goods/price exports are validated, uploaded to
 * each terminal's inbox (`prices.dir`, `{terminal}` expanded) and then acknowledged to the back
 * office. See docs/backoffice-1c.md for the 1C side.
 *
 * For each export: its bytes are staged locally (fsync, sha256) → the whole file is decoded with
 * its own format (a broken file is quarantined locally with the reason, and the back office's
 * files are left alone: it is not acknowledged) → converted to the terminals' `prices.format`
 * when that is another format → uploaded under a temp name and renamed → an archive copy is kept
 * → `ack()`. The remote name is fixed per terminal and content (`goods-<seq>-<sha256 prefix>`,
 * remembered in the store), so a re-publish after a crash writes the same name with the same
 * bytes, and a terminal that already applied it skips it by its inbox log. `<seq>` grows with
 * every new content, so a terminal that was offline applies the files in publish order.
 */

/** the job name of publish runs (`runs` table, `schedule`, logs) */
export const PUBLISH_JOB = 'office.publish';

export type PublishOutcome =
  | { terminal: string; source: string; result: 'published'; name: string; remote: string; mode: PriceFileMode; records: number; bytes: number; sha256: string; converted: boolean; archived: string }
  | { terminal: string; source: string; result: 'quarantined'; reason: Record<string, unknown>; quarantined: string }
  /** quarantined before and unchanged since: the back office has to write a new file */
  | { terminal: string; source: string; result: 'rejected-before'; sha256: string };

export interface PublishResult {
  /** exports the back office had ready */
  exports: number;
  published: number;
  quarantined: number;
  bytes: number;
  outcomes: PublishOutcome[];
}

export interface PublishDeps {
  config: CfxConfig;
  store: Store;
  /** the server connection, opened when there is something to upload */
  transport: () => Promise<Transport>;
  /** a format by id with its options */
  format: (id: string, options: Record<string, unknown>) => Promise<Format>;
  backoffice: BackOffice;
  logger: Logger;
  signal?: AbortSignal;
}

const kvName = (terminal: string, sha: string) => `publish.name.${terminal}.${sha}`;
const kvRejected = (terminal: string) => `publish.rejected.${terminal}`;
const KV_SEQ = 'publish.seq';

export class Publish {
  constructor(private readonly deps: PublishDeps) {}

  /** the inbox dir of a terminal */
  inbox(terminal: string): string {
    return expandTemplate(this.deps.config.prices.dir, { terminal });
  }

  /**
   * One publish cycle: every export the back office has ready. A bad file is quarantined and the
   * others go on; a network error on one terminal's export does not stop the others and is thrown
   * at the end (the next cycle publishes that one again).
   */
  async cycle(): Promise<PublishResult> {
    const { backoffice, config, signal, logger } = this.deps;
    const result: PublishResult = { exports: 0, published: 0, quarantined: 0, bytes: 0, outcomes: [] };
    if (!backoffice.pendingExports) return result;
    const exports = await backoffice.pendingExports({ terminals: config.terminals, ...(signal ? { signal } : {}) });
    result.exports = exports.length;
    let firstError: unknown;
    for (const e of exports) {
      if (signal?.aborted) break;
      try {
        const o = await this.publishOne(e);
        result.outcomes.push(o);
        if (o.result === 'published') {
          result.published++;
          result.bytes += o.bytes;
        } else if (o.result === 'quarantined') result.quarantined++;
      } catch (err) {
        logger.error({ terminal: e.terminal, file: e.fileName, err: errorMessage(err) }, 'publishing failed; it is tried again on the next run');
        firstError ??= err;
      }
    }
    if (firstError !== undefined) throw firstError;
    return result;
  }

  private async publishOne(e: BackOfficeExport): Promise<PublishOutcome> {
    const { config, store, logger, signal } = this.deps;
    const terminal = e.terminal;
    if (config.terminals.length && !config.terminals.includes(terminal)) {
      throw new CfxError(ErrorCodes.CONFIG_INVALID, `the back office has an export for terminal ${terminal}, which is not one of this office's terminals (${config.terminals.join(', ')})`);
    }
    const paths = dataPaths(config.dataDir);
    mkdirSync(paths.staging, { recursive: true });
    const base = safeLocalName(`publish_${terminal}_${posix.basename(e.fileName.replace(/\\/g, '/'))}`);
    const staged = join(paths.staging, base);
    const converted = join(paths.staging, `${base}.out`);
    try {
      let src: { sha256: string; bytes: number };
      try {
        src = await stageStream(e.open(), staged, { signal });
      } catch (err) {
        // an export the back office makes on the fly (e.g. 1C's import.xml + offers.xml combined)
        // can fail while it is read: the same quarantine as a file that fails to decode. What was
        // staged before the failure depends on buffering, so the failure itself (file, line,
        // message) stands for the content: the same broken input is not quarantined twice
        const sha256 = createHash('sha256').update(`${e.fileName}\0${JSON.stringify((err as FormatError).location ?? {})}\0${errorMessage(err)}`).digest('hex');
        const reason = formatProblem(err, (err instanceof FormatError ? err.location?.file : undefined) ?? e.fileName, sha256);
        if (!reason) throw err;
        if (store.kvGet(kvRejected(terminal)) === sha256) return { terminal, source: e.fileName, result: 'rejected-before', sha256 };
        if (!existsSync(staged)) writeFileSync(staged, '');
        return this.quarantine(e, staged, sha256, reason);
      }
      if (store.kvGet(kvRejected(terminal)) === src.sha256) {
        logger.debug({ terminal, file: e.fileName }, 'this file was quarantined before and has not changed: waiting for a new one');
        return { terminal, source: e.fileName, result: 'rejected-before', sha256: src.sha256 };
      }
      if (src.bytes > config.prices.maxFileBytes) {
        return this.quarantine(e, staged, src.sha256, { file: e.fileName, code: ErrorCodes.FILE_TOO_LARGE, message: `file is ${src.bytes} bytes; the terminals take at most ${config.prices.maxFileBytes} (prices.maxFileSize)` });
      }

      // the whole file must decode: the terminals would refuse it otherwise
      const source = await this.deps.format(e.formatId, e.formatOptions ?? {});
      const target = e.formatId === config.prices.format ? source : await this.deps.format(config.prices.format, config.prices.options);
      let mode: PriceFileMode;
      let records = 0;
      let upload = staged;
      let up = src;
      try {
        // one pass: the decode that checks the whole file also feeds the converter
        const checked = await this.decode(source, e, staged, target === source ? undefined : { target, out: converted });
        mode = checked.mode;
        records = checked.records;
        if (checked.converted) {
          up = checked.converted;
          upload = converted;
        }
      } catch (err) {
        const reason = formatProblem(err, e.fileName, src.sha256);
        if (reason) return this.quarantine(e, staged, src.sha256, reason);
        throw err;
      }
      signal?.throwIfAborted();

      // the same content always gets the same name (a re-publish overwrites it), new content the next number
      let name = store.kvGet(kvName(terminal, up.sha256));
      if (name === undefined) {
        const seq = Number(store.kvGet(KV_SEQ) ?? '0') + 1;
        store.kvSet(KV_SEQ, String(seq));
        name = `goods-${String(seq).padStart(8, '0')}-${up.sha256.slice(0, 12)}.${target.extension}`;
        store.kvSet(kvName(terminal, up.sha256), name);
      }
      const dir = this.inbox(terminal);
      const remote = posix.join(dir, name);
      const tmp = posix.join(dir, `.${name}.part`);
      const transport = await this.deps.transport();
      await transport.mkdir(dir, { signal });
      const body = createReadStream(upload);
      body.on('error', () => undefined); // the transport sees read errors through its own pipe; none may go unhandled after a failed call
      try {
        await transport.write(tmp, body, { signal });
      } finally {
        body.destroy();
      }
      await transport.rename(tmp, remote, { signal });

      const archiveDir = join(paths.archive, 'prices-out', localDate());
      mkdirSync(archiveDir, { recursive: true });
      const archived = join(archiveDir, safeLocalName(`${terminal}_${name}`));
      if (!existsSync(archived)) copyFileSync(upload, archived);

      // every copy for this terminal is on the server: now the back office may be told
      await e.ack();
      logger.info({ terminal, file: e.fileName, remote, mode, records, bytes: up.bytes, converted: target !== source }, 'goods file published to the terminal and acknowledged to the back office');
      return { terminal, source: e.fileName, result: 'published', name, remote, mode, records, bytes: up.bytes, sha256: up.sha256, converted: target !== source, archived };
    } finally {
      rmSync(staged, { force: true });
      rmSync(converted, { force: true });
    }
  }

  /**
   * Decodes the whole staged file (the terminals would refuse a file that does not), counting its
   * records; with `convert`, the same records are written in the terminals' format on the way.
   */
  private async decode(
    format: Format,
    e: BackOfficeExport,
    staged: string,
    convert?: { target: Format; out: string },
  ): Promise<{ mode: PriceFileMode; records: number; converted?: { sha256: string; bytes: number } }> {
    const { config, signal } = this.deps;
    if (!format.decodePrices) throw new CfxError(ErrorCodes.FORMAT_UNSUPPORTED, `format "${format.id}" cannot read price files`);
    if (convert && !convert.target.encodePrices) throw new CfxError(ErrorCodes.FORMAT_UNSUPPORTED, `format "${convert.target.id}" (prices.format) cannot write price files`);
    const input = createReadStream(staged, { highWaterMark: 256 * 1024 });
    try {
      const d = await format.decodePrices(input, { fileName: e.fileName, options: e.formatOptions ?? {}, maxLineLength: config.prices.maxLineBytes, ...(signal ? { signal } : {}) });
      let records = 0;
      if (!convert) {
        for await (const r of d.records) if (r.op !== 'clear') records++;
        return { mode: d.mode, records };
      }
      async function* counted(): AsyncGenerator<PriceRecord> {
        for await (const r of d.records) {
          if (r.op !== 'clear') records++;
          yield r;
        }
      }
      const encoded = convert.target.encodePrices!(counted(), d.mode, { options: config.prices.options, ...(signal ? { signal } : {}) });
      const converted = await stageStream(encoded, convert.out, { signal });
      return { mode: d.mode, records, converted };
    } finally {
      input.destroy();
    }
  }

  /** a local copy with its reason, a quarantine row; the back office's own files are not touched */
  private quarantine(e: BackOfficeExport, staged: string, sha256: string, reason: Record<string, unknown>): PublishOutcome {
    const { config, store, logger } = this.deps;
    const qdir = dataPaths(config.dataDir).quarantine;
    mkdirSync(qdir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const qfile = join(qdir, safeLocalName(`${stamp}_${e.terminal}_${posix.basename(e.fileName.replace(/\\/g, '/'))}`));
    copyFileSync(staged, qfile);
    const full = { ...reason, terminal: e.terminal, source: e.fileName, sha256, quarantinedAt: new Date().toISOString() };
    writeFileSync(`${qfile}.reason.json`, JSON.stringify(full, null, 2) + '\n');
    store.addQuarantine({ job: PUBLISH_JOB, fileName: e.fileName, localPath: qfile, reason: full });
    store.kvSet(kvRejected(e.terminal), sha256);
    logger.warn({ terminal: e.terminal, ...reason }, 'goods file from the back office quarantined: not published, not acknowledged');
    return { terminal: e.terminal, source: e.fileName, result: 'quarantined', reason: full, quarantined: qfile };
  }
}

/**
 * One publish run as `cfx publish` (and the office's `cfx run`) does it, recorded as an
 * `office.publish` row in `runs` unless `record: false` (the service records only runs that did
 * something).
 */
export async function runPublish(app: App, opts: { signal?: AbortSignal; record?: boolean } = {}): Promise<PublishResult> {
  const c = app.config;
  if (c.role !== 'office') throw new CfxError(ErrorCodes.USAGE, `cfx publish is for the office role (this config has role: ${c.role})`);
  const store = app.store;
  const recording = opts.record !== false;
  const runId = recording ? store.startRun(PUBLISH_JOB) : 0;
  let bo: BackOffice | undefined;
  try {
    bo = await app.host.backoffice(c.backoffice.use, c.backoffice.options);
    if (!bo.pendingExports && recording) throw new CfxError(ErrorCodes.USAGE, `back office "${bo.id}" has nothing to publish (it does not export goods)`);
    const job = new Publish({
      config: c,
      store,
      transport: () => app.transport(),
      format: (id, options) => app.host.format(id, options),
      backoffice: bo,
      logger: app.logger,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const r = await job.cycle();
    if (recording) {
      store.finishRun(runId, {
        result: r.quarantined ? 'partial' : 'ok',
        files: r.published,
        bytes: r.bytes,
        details: { exports: r.exports, published: r.published, quarantined: r.quarantined, outcomes: r.outcomes.map((o) => ({ terminal: o.terminal, result: o.result, ...(o.result === 'published' ? { name: o.name } : {}) })) },
      });
    }
    return r;
  } catch (e) {
    if (recording) store.finishRun(runId, { result: 'failed', error: { code: isCfxError(e) ? (e as CfxError).code : ErrorCodes.INTERNAL, message: errorMessage(e) } });
    throw e;
  } finally {
    await bo?.close?.().catch(() => undefined);
  }
}
