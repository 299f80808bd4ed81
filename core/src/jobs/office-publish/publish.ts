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
  type WaitingExport,
} from '../../api/index.js';
import type { App } from '../../app/app.js';
import { dataPaths, localDate } from '../../app/paths.js';
import type { CfxConfig } from '../../config/types.js';
import { fault } from '../../faults/index.js';
import type { Store } from '../../store/index.js';
import { formatProblem, isOverLimit, stageStream } from '../shared/file-steps.js';
import { expandTemplate, remotePath, safeLocalName } from '../shared/names.js';
import { putFile, putsAtomically } from '../shared/put.js';

/*
 * Publish (office → terminals): the back office's goods/price exports are validated, uploaded to
 * each terminal's inbox (`prices.dir`, `{terminal}` expanded) and then acknowledged to the back
 * office. See docs/backoffice-1c.md for the 1C side.
 *
 * For each export: its bytes are staged locally (fsync, sha256) → the whole file is decoded with
 * its own format (a broken file is quarantined locally with the reason, and the back office's
 * files are left alone: it is not acknowledged) → converted to the terminals' `prices.format`
 * when that is another format → uploaded under a temp name and renamed → an archive copy is kept
 * → `ack()`.
 *
 * Names: every publish gets the next number of the office's one counter (`goods-<seq>-<sha256
 * prefix of the uploaded bytes>.<ext>`), so the names on a terminal's server sort in publish order
 * and a name is never used for a later publish. The content cannot be the identity: 1C writes X,
 * Y, then X again, and the third publish must reach a terminal as a new file after Y — under X's
 * old name a terminal that pulls each time would skip it by its inbox log, and one that was
 * offline would apply X then Y (by name) and end at Y.
 *
 * Identity of a publish: one export of the back office, i.e. terminal + source file name + source
 * sha256 while it is not acknowledged. It is recorded (number and name, kv `publish.open.<terminal>`)
 * *before* anything is uploaded, and closed after `ack()`. Crash windows:
 * - before the record (staging, decoding; or between taking the number and writing the record):
 *   nothing on the server; the next run takes a new number (a gap, never a number used twice:
 *   the counter is written first).
 * - after the record, before or after the temp upload: at most a temp file, which terminals never
 *   take; the back office offers the export again, the next run finds the open record with the
 *   same source and sha256 and writes the same temp name and renames it to the recorded name.
 * - after the rename, before `ack()`: a terminal may already have applied (and deleted) the file.
 *   The export is offered again and goes out under the same name with the same bytes: one file
 *   per publish on the server. A terminal that already applied it is at those bytes whether it
 *   skips them (name + sha256 in its inbox log) or applies them again: nothing was published to
 *   it from that source in between (a new version of the source replaces the open record).
 * - after `ack()`, before the record is closed: the back office no longer offers the export, so
 *   the next run closes every open record it was not offered (`closeUnoffered`). Only if the back
 *   office writes the same bytes again before that run does the new export take the old name —
 *   harmless for the same reason: it was the last thing that terminal got from that source.
 * - after the close: a new export, even with the same bytes, is a new publish with a new number.
 */

/** the job name of publish runs (`runs` table, `schedule`, logs) */
export const PUBLISH_JOB = 'office.publish';

export type PublishOutcome =
  /** `resumed`: a publish a crash interrupted, finished under its recorded name */
  | { terminal: string; source: string; result: 'published'; name: string; remote: string; mode: PriceFileMode; records: number; bytes: number; sha256: string; converted: boolean; archived: string; resumed: boolean }
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
  /** exports the back office holds back, and why (not an error: e.g. a package still being written) */
  waiting: WaitingExport[];
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
  /** finish the export in flight, start no other (a signal to the command) */
  stop?: AbortSignal;
}

const kvRejected = (terminal: string) => `publish.rejected.${terminal}`;
/** a terminal's open publishes: source file name → {@link OpenPublish} */
const kvOpen = (terminal: string) => `publish.open.${terminal}`;
/** the office's one counter of publishes (all terminals) */
const KV_SEQ = 'publish.seq';
/** the content → name map of earlier versions, which re-used names */
const KV_LEGACY_NAMES = 'publish.name.';

/** a publish recorded before its upload and not yet acknowledged to the back office */
interface OpenPublish {
  seq: number;
  name: string;
  /** of the back office's bytes (the export), not of the converted upload */
  sha256: string;
}

/** the quarantine reason of an export the terminals could not take for its size */
const tooBig = (file: string, what: string, limit: number): Record<string, unknown> => ({
  file,
  code: ErrorCodes.FILE_TOO_LARGE,
  message: `file is ${what}; the terminals take at most ${limit} (prices.maxFileSize)`,
  limit,
});

const publishName = (seq: number, uploadSha: string, ext: string) => `goods-${String(seq).padStart(8, '0')}-${uploadSha.slice(0, 12)}.${ext}`;

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
    const { backoffice, config, signal, stop, logger } = this.deps;
    const result: PublishResult = { exports: 0, published: 0, quarantined: 0, bytes: 0, outcomes: [], waiting: [] };
    if (!backoffice.pendingExports) return result;
    const exports = await backoffice.pendingExports({ terminals: config.terminals, onWaiting: (w) => result.waiting.push(w), ...(signal ? { signal } : {}) });
    result.exports = exports.length;
    this.closeUnoffered(exports);
    let firstError: unknown;
    for (const e of exports) {
      if (signal?.aborted || stop?.aborted) break;
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
      const limit = config.prices.maxFileBytes;
      try {
        // the terminals take at most prices.maxFileSize: nothing bigger is read to the end either
        src = await stageStream(e.open(), staged, { signal, maxBytes: limit });
      } catch (err) {
        if (isOverLimit(err)) {
          // what identifies it until the back office writes another: its first `limit` bytes
          const sha256 = String(err.details.prefixSha256);
          if (store.kv.get(kvRejected(terminal)) === sha256) return { terminal, source: e.fileName, result: 'rejected-before', sha256 };
          writeFileSync(staged, '');
          return this.quarantine(e, staged, sha256, tooBig(e.fileName, `more than ${limit} bytes`, limit));
        }
        // an export the back office makes on the fly (e.g. 1C's import.xml + offers.xml combined)
        // can fail while it is read: the same quarantine as a file that fails to decode. What was
        // staged before the failure depends on buffering, so the failure itself (file, line,
        // message) stands for the content: the same broken input is not quarantined twice
        const sha256 = createHash('sha256').update(`${e.fileName}\0${JSON.stringify((err as FormatError).location ?? {})}\0${errorMessage(err)}`).digest('hex');
        const reason = formatProblem(err, (err instanceof FormatError ? err.location?.file : undefined) ?? e.fileName, sha256);
        if (!reason) throw err;
        if (store.kv.get(kvRejected(terminal)) === sha256) return { terminal, source: e.fileName, result: 'rejected-before', sha256 };
        if (!existsSync(staged)) writeFileSync(staged, '');
        return this.quarantine(e, staged, sha256, reason);
      }
      if (store.kv.get(kvRejected(terminal)) === src.sha256) {
        logger.debug({ terminal, file: e.fileName }, 'this file was quarantined before and has not changed: waiting for a new one');
        return { terminal, source: e.fileName, result: 'rejected-before', sha256: src.sha256 };
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
        // converted to the terminals' format it grew past their limit
        if (isOverLimit(err)) return this.quarantine(e, staged, src.sha256, tooBig(e.fileName, `converted to ${config.prices.format}, more than ${limit} bytes`, limit));
        const reason = formatProblem(err, e.fileName, src.sha256);
        if (reason) return this.quarantine(e, staged, src.sha256, reason);
        throw err;
      }
      signal?.throwIfAborted();

      const { publish, resumed } = this.record(terminal, e.fileName, src.sha256, (seq) => publishName(seq, up.sha256, target.extension));
      const name = publish.name;
      fault('office.publish:recorded');
      const dir = this.inbox(terminal);
      const remote = remotePath(dir, name);
      const transport = await this.deps.transport();
      await transport.mkdir(dir, { signal });
      const body = createReadStream(upload);
      body.on('error', () => undefined); // the transport sees read errors through its own pipe; none may go unhandled after a failed call
      try {
        await putFile(transport, dir, name, body, { signal, afterTemp: () => fault('office.publish:uploaded-temp') });
      } finally {
        body.destroy();
      }
      // The file is complete under its name; say so with its flag (`<name>.done`), so a terminal
      // takes it at first sight instead of waiting for a second listing to see its size hold
      // still (a poll interval of latency per publish). An atomic transport needs none: a listed
      // file is whole there. A crash before the flag only costs that interval.
      if (!putsAtomically(transport)) await transport.write(remotePath(dir, `${name}.done`), new Uint8Array(0), { signal });
      // what the terminal's catalog is compared with (cfx fleet: current or behind): the bytes it will download
      store.fleet.recordPublished({ terminalId: terminal, name, sha256: up.sha256, publishedAt: new Date().toISOString() });
      fault('office.publish:renamed');

      const archiveDir = join(paths.archive, 'prices-out', localDate());
      mkdirSync(archiveDir, { recursive: true });
      const archived = join(archiveDir, safeLocalName(`${terminal}_${name}`));
      if (!existsSync(archived)) copyFileSync(upload, archived);

      // every copy for this terminal is on the server: now the back office may be told
      await e.ack();
      fault('office.publish:acked');
      this.close(terminal, e.fileName, publish.seq);
      logger.info({ terminal, file: e.fileName, remote, mode, records, bytes: up.bytes, converted: target !== source, resumed }, 'goods file published to the terminal and acknowledged to the back office');
      return { terminal, source: e.fileName, result: 'published', name, remote, mode, records, bytes: up.bytes, sha256: up.sha256, converted: target !== source, archived, resumed };
    } finally {
      rmSync(staged, { force: true });
      rmSync(converted, { force: true });
    }
  }

  private openPublishes(terminal: string): Record<string, OpenPublish> {
    const v = this.deps.store.kv.get(kvOpen(terminal));
    return v === undefined ? {} : (JSON.parse(v) as Record<string, OpenPublish>);
  }

  private saveOpen(terminal: string, open: Record<string, OpenPublish>): void {
    if (Object.keys(open).length) this.deps.store.kv.set(kvOpen(terminal), JSON.stringify(open));
    else this.deps.store.kv.delete(kvOpen(terminal));
  }

  /**
   * The publish of this export: the open one of the same source and bytes (a run a crash
   * interrupted), else a new one with the next number, recorded before anything is uploaded.
   */
  private record(terminal: string, source: string, sha256: string, nameOf: (seq: number) => string): { publish: OpenPublish; resumed: boolean } {
    const { store } = this.deps;
    const open = this.openPublishes(terminal);
    const was = open[source];
    // the converted bytes can differ for the same source when prices.format changed since: a new publish then
    if (was && was.sha256 === sha256 && was.name === nameOf(was.seq)) return { publish: was, resumed: true };
    store.kv.delete(KV_LEGACY_NAMES, { prefix: true });
    // the counter first: a crash before the record leaves a gap, never a number used twice;
    // one statement, so a `cfx publish` beside `cfx run` cannot take the same number either
    const seq = store.kv.increment(KV_SEQ);
    const publish: OpenPublish = { seq, name: nameOf(seq), sha256 };
    // replaces an open publish of an earlier version of this source: the back office superseded it
    open[source] = publish;
    this.saveOpen(terminal, open);
    return { publish, resumed: false };
  }

  /** the back office has the export: the next one of this source, whatever its bytes, is a new publish */
  private close(terminal: string, source: string, seq: number): void {
    const open = this.openPublishes(terminal);
    if (open[source]?.seq !== seq) return;
    delete open[source];
    this.saveOpen(terminal, open);
  }

  /**
   * An open publish whose export the back office no longer offers was acknowledged before a crash
   * kept its record from being closed, or the back office withdrew it: either way the next export
   * of that source is a new publish.
   */
  private closeUnoffered(exports: readonly BackOfficeExport[]): void {
    const offered = new Set(exports.map((e) => `${e.terminal}\0${e.fileName}`));
    for (const terminal of this.deps.config.terminals) {
      const open = this.openPublishes(terminal);
      const kept = Object.fromEntries(Object.entries(open).filter(([source]) => offered.has(`${terminal}\0${source}`)));
      if (Object.keys(kept).length !== Object.keys(open).length) this.saveOpen(terminal, kept);
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
      const converted = await stageStream(encoded, convert.out, { signal, maxBytes: config.prices.maxFileBytes });
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
    store.quarantine.add({ job: PUBLISH_JOB, fileName: e.fileName, localPath: qfile, reason: full });
    store.kv.set(kvRejected(e.terminal), sha256);
    logger.warn({ terminal: e.terminal, ...reason }, 'goods file from the back office quarantined: not published, not acknowledged');
    return { terminal: e.terminal, source: e.fileName, result: 'quarantined', reason: full, quarantined: qfile };
  }
}

/**
 * One publish run (the office.publish job: `cfx publish` and the office's `cfx run`); the job
 * executor records it. `stop`: finish the export in flight, start no other. `strict`: a back office
 * that exports no goods is a usage error (a command asked for a publish), not an idle run.
 */
export async function runPublish(app: App, opts: { signal?: AbortSignal; stop?: AbortSignal; strict?: boolean } = {}): Promise<PublishResult> {
  const c = app.config;
  if (c.role !== 'office') throw new CfxError(ErrorCodes.USAGE, `cfx publish is for the office role (this config has role: ${c.role})`);
  let bo: BackOffice | undefined;
  try {
    bo = await app.host.backoffice(c.backoffice.use, c.backoffice.options);
    if (!bo.pendingExports && opts.strict) throw new CfxError(ErrorCodes.USAGE, `back office "${bo.id}" has nothing to publish (it does not export goods)`);
    const job = new Publish({
      config: c,
      store: app.store,
      transport: () => app.transport(),
      format: (id, options) => app.host.format(id, options),
      backoffice: bo,
      logger: app.logger,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.stop ? { stop: opts.stop } : {}),
    });
    return await job.cycle();
  } finally {
    await bo?.close?.().catch(() => undefined);
  }
}
