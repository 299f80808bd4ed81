import type { Command } from 'commander';
import { CfxError, ErrorCodes } from '../api/index.js';
import type { CollectRunResult } from '../jobs/sales-collect/sales-collect.js';
import type { PublishResult } from '../jobs/office-publish/publish.js';
import type { App } from '../app/app.js';
import { requireRole, type CliContext } from './context.js';
import { Exit } from './exit.js';
import { money, printJson, println, table, type Io } from './output.js';
import { interruptible } from './interrupt.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function date(v: string | undefined, flag: string): string | undefined {
  if (v === undefined) return undefined;
  if (!DATE.test(v) || Number.isNaN(Date.parse(v))) throw new CfxError(ErrorCodes.USAGE, `${flag} must be a date YYYY-MM-DD, got "${v}"`);
  return v;
}

function period(o: { from?: string; to?: string }): { from?: string; to?: string } {
  const from = date(o.from, '--from');
  const to = date(o.to, '--to');
  if (from !== undefined && to !== undefined && from > to) throw new CfxError(ErrorCodes.USAGE, `--from ${from} is after --to ${to}`);
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}


/** Office-role commands (publish, collect, sales listing for the office; `cfx sales` lists the journal on a terminal). */
export function registerOfficeCommands(program: Command, ctx: CliContext): void {
  const { io } = ctx;

  program
    .command('publish')
    .description("office: publish the back office's goods exports (1C: goods file + flag in each terminal's exchange folder) to the terminals' inboxes, then acknowledge them to the back office; a broken file is quarantined and left unacknowledged")
    .action(async () => {
      const app = ctx.open('rw');
      try {
        await interruptible(ctx, app, 'cfx publish', async (stop) => {
          requireRole(app, 'office', 'publish');
          const r = (await app.jobs.run('office.publish', { trigger: 'cli', signal: stop })).output as PublishResult;
          if (ctx.json()) printJson(io.out, r);
          else printPublish(io, r);
          if (r.quarantined) ctx.setExit(Exit.REJECTED);
        });
      } finally {
        await app.close();
      }
    });

  program
    .command('collect')
    .description('office: take every sale file waiting on the server, store each sale once, archive the file, delete it remotely, then deliver the new sales to the back office (exactly once)')
    .option('--redeliver', 'also deliver again every already delivered sale of --from..--to (a new batch); nothing else is ever delivered twice')
    .option('--from <date>', 'first local date (YYYY-MM-DD) of the period to redeliver')
    .option('--to <date>', 'last local date (YYYY-MM-DD) of the period to redeliver, inclusive')
    .action(async (o: { redeliver?: boolean; from?: string; to?: string }) => {
      const p = period(o);
      if (o.redeliver && (p.from === undefined || p.to === undefined)) throw new CfxError(ErrorCodes.USAGE, '--redeliver needs --from and --to (local dates YYYY-MM-DD)');
      if (!o.redeliver && (p.from !== undefined || p.to !== undefined)) throw new CfxError(ErrorCodes.USAGE, '--from/--to go with --redeliver');
      const app = ctx.open('rw');
      try {
        await interruptible(ctx, app, 'cfx collect', async (stop) => {
          requireRole(app, 'office', 'collect');
          const r = (await app.jobs.run('sales.collect', { trigger: 'cli', signal: stop, ...(o.redeliver ? { params: { redeliver: { from: p.from!, to: p.to! } } } : {}) })).output as CollectRunResult;
          if (ctx.json()) printJson(io.out, collectJson(r));
          else printCollect(io, r);
          // a status file the office could not read, or a receipt found lost at the till, needs a person too
          if (r.collect.quarantined || r.delivery.heldBack || r.fleet?.warnings || r.fleet?.gaps.lost) ctx.setExit(Exit.REJECTED);
        });
      } finally {
        await app.close();
      }
    });

  program
    .command('sales')
    .description('office: the collected sales (delivered to the back office or not); terminal: the sales journal (sent to the server or pending)')
    .option('--from <date>', 'first local date (YYYY-MM-DD)')
    .option('--to <date>', 'last local date (YYYY-MM-DD), inclusive')
    .option('--pending', 'office: only sales not yet delivered; terminal: only sales not yet on the server')
    .action(async (o: { from?: string; to?: string; pending?: boolean }) => {
      const p = period(o);
      const app = ctx.open('ro');
      try {
        const s = app.store;
        if (app.config.role === 'office') {
          const rows = s.collected.list({ ...p, ...(o.pending ? { pending: true } : {}) }).map((c) => ({
            terminal: c.terminalId,
            saleId: c.saleId,
            time: c.time,
            localDate: c.localDate,
            kind: c.kind,
            total: money(c.total),
            delivered: c.deliveredAt !== undefined,
            ...(c.batchId !== undefined ? { batchId: c.batchId } : {}),
            ...(c.deliveredAt !== undefined ? { deliveredAt: c.deliveredAt } : {}),
            file: c.fileName,
          }));
          if (ctx.json()) printJson(io.out, { role: 'office', count: rows.length, sales: rows });
          else {
            println(io.out, table(rows.map((r) => [r.terminal, r.saleId, r.time, r.kind, r.total, r.delivered ? `delivered ${r.batchId}` : r.batchId ? `assigned ${r.batchId}` : 'pending']), ['TERMINAL', 'SALE', 'TIME', 'KIND', 'TOTAL', 'BACK OFFICE']));
            println(io.out, `${rows.length} sale(s)`);
          }
        } else {
          const pending = new Set(s.journal.pendingOutbox(Number.MAX_SAFE_INTEGER).map((e) => `${e.terminalId}\u0000${e.saleId}`));
          const rows = s.journal
            .salesBetween(p.from ?? '0000-01-01', p.to ?? '9999-12-31')
            .map((r) => ({ terminal: r.terminalId, saleId: r.saleId, time: r.time, localDate: r.localDate, kind: r.kind, total: money(r.total), sent: !pending.has(`${r.terminalId}\u0000${r.saleId}`) }))
            .filter((r) => !o.pending || !r.sent);
          if (ctx.json()) printJson(io.out, { role: 'terminal', count: rows.length, sales: rows });
          else {
            println(io.out, table(rows.map((r) => [r.saleId, r.time, r.kind, r.total, r.sent ? 'sent' : 'pending']), ['SALE', 'TIME', 'KIND', 'TOTAL', 'SERVER']));
            println(io.out, `${rows.length} sale(s)`);
          }
        }
      } finally {
        await app.close();
      }
    });
}

function collectJson(r: CollectRunResult): Record<string, unknown> {
  const c = r.collect;
  return {
    dirs: c.dirs,
    files: c.files,
    counts: { files: c.files.length, sales: c.sales, stored: c.stored, duplicates: c.duplicates, quarantined: c.quarantined, bytes: c.bytes, ...(c.shifts ? { shifts: c.shifts } : {}) },
    delivered: r.delivery,
    ...(r.fleet ? { fleet: r.fleet } : {}),
    ...(r.redelivery ? { redelivered: r.redelivery } : {}),
  };
}

function printCollect(io: Io, r: CollectRunResult): void {
  const c = r.collect;
  if (c.files.length === 0) println(io.out, `no sale files in ${c.dirs.join(', ')}`);
  for (const f of c.files) {
    if (f.result === 'collected') {
      println(io.out, `collected    ${f.name}  ${f.stored} new, ${f.duplicates} duplicate(s) → ${f.archived}`);
      for (const p of f.rejectedParts ?? []) println(io.out, `QUARANTINED  ${f.name}#${p.part}  ${[p.reason.line !== undefined ? `line ${String(p.reason.line)}` : '', p.reason.field ? `field ${String(p.reason.field)}` : '', p.reason.message].filter(Boolean).join(', ')} → ${p.quarantined}`);
    } else if (f.result === 'waiting') println(io.out, `waiting      ${f.name}  ${f.reason}; left on the server`);
    else if (f.result === 'shift') println(io.out, `shift close  ${f.name}  terminal ${f.terminal}, shift ${f.shift}${f.stored ? '' : ' (already collected)'} → ${f.archived}`);
    else println(io.out, `QUARANTINED  ${f.name}  ${[f.reason.line !== undefined ? `line ${String(f.reason.line)}` : '', f.reason.field ? `field ${String(f.reason.field)}` : '', f.reason.message].filter(Boolean).join(', ')} → ${f.quarantined}`);
  }
  println(io.out, `files ${c.files.length}, sales stored ${c.stored}, duplicates ${c.duplicates}, quarantined ${c.quarantined}${c.shifts ? `, shift closes ${c.shifts}` : ''}`);
  if (r.fleet) {
    const f = r.fleet;
    for (const s of f.statuses.filter((x) => x.result === 'warning')) println(io.out, `WARNING      status of ${s.terminal}  field ${s.field}: ${s.message}`);
    for (const q of f.gaps.requests) println(io.out, `requested    ${q.request} → terminal ${q.terminal}  receipt gap(s) ${q.gaps.join(', ')}`);
    println(io.out, `fleet: statuses read ${f.statuses.filter((x) => x.result === 'read').length}, warnings ${f.warnings}; receipt gaps new ${f.gaps.opened}, closed ${f.gaps.closed}, lost at the till ${f.gaps.lost} (cfx fleet)`);
  }
  const d = r.delivery;
  for (const b of d.batches) println(io.out, `delivered    batch ${b.batchId}  terminal ${b.terminal}, ${b.sales} sale(s)${b.heldBack ? `, ${b.heldBack} held back (needs attention, see cfx status)` : ''}${b.resumed ? ' (resumed after an interrupted run)' : ''} → ${d.backoffice}`);
  println(io.out, `delivered ${d.sales} sale(s) in ${d.batches.length} batch(es) to back office ${d.backoffice}${d.heldBack ? `; ${d.heldBack} sale(s) held back, needing attention` : ''}`);
  if (r.redelivery) {
    const rd = r.redelivery;
    for (const b of rd.batches) println(io.out, `redelivered  batch ${b.batchId}  terminal ${b.terminal}, ${b.sales} sale(s)`);
    println(io.out, `redelivered ${rd.sales} sale(s) of ${rd.from}..${rd.to} in ${rd.batches.length} batch(es)`);
  }
}

function printPublish(io: Io, r: PublishResult): void {
  if (r.exports === 0 && r.waiting.length === 0) println(io.out, 'nothing to publish: the back office has no new goods file');
  for (const w of r.waiting) println(io.out, `waiting      ${w.fileName}${w.terminal ? ` (terminal ${w.terminal})` : ''}  ${w.reason}${w.since ? ` (since ${w.since})` : ''}`);
  for (const o of r.outcomes) {
    if (o.result === 'published') println(io.out, `published    ${o.source} → ${o.remote}  ${o.mode}, ${o.records} records, ${o.bytes} bytes${o.converted ? ' (converted)' : ''}; acknowledged`);
    else if (o.result === 'quarantined') println(io.out, `QUARANTINED  ${o.source} (terminal ${o.terminal})  ${[o.reason.line !== undefined ? `line ${String(o.reason.line)}` : '', o.reason.field ? `field ${String(o.reason.field)}` : '', o.reason.message].filter(Boolean).join(', ')} → ${o.quarantined}; not acknowledged`);
    else println(io.out, `waiting      ${o.source} (terminal ${o.terminal})  quarantined before and unchanged: the back office has to write a new file`);
  }
  println(io.out, `published ${r.published}, quarantined ${r.quarantined}`);
}
