import { formatMoney as money } from '../text/fixed.js';
import { Ajv } from 'ajv';
import rateLimit from '@fastify/rate-limit';
import { fastify, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { CfxError, ErrorCodes, coreServices, errorMessage } from '../api/index.js';
import { fleetReport } from '../fleet/report.js';
import { collectStatus } from '../cli/status.js';
import type { AdminConfig } from '../config/index.js';
import type { Service } from '../scheduler/service.js';
import type { QuarantineState, RunRecord } from '../store/index.js';
import { APP_CSS, APP_JS } from './assets.js';
import { TOKEN_ATTEMPTS_MAX, TOKEN_ATTEMPTS_WINDOW_MS, bearerMatches, hostAllowed, originAllowed, tokenNeeded } from './auth.js';
import { ApiError, DATE_PATTERN, fromFastifyError, toApiError } from './http-errors.js';
import { LABELS, LANGS, pickLang, type Lang } from './i18n.js';
import { renderFleet, salesPerHour } from './fleet.js';
import { AdminMetrics } from './metrics.js';
import { renderCards, renderLog, renderPage, renderQuarantine } from './page.js';
import { retryQuarantined } from './quarantine.js';
import { BackgroundResend } from './resend.js';

const DATE = { type: 'string', pattern: DATE_PATTERN } as const;
const JOB = { type: 'string', pattern: '^[a-z][a-z0-9._-]{0,63}$' } as const;
const ID = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } as const;

/** a sale batch may be large; everything else is small */
const SALES_BODY_LIMIT = 16 * 1024 * 1024;
const BODY_LIMIT = 64 * 1024;


const milli = (m: number): string => `${m < 0 ? '-' : ''}${Math.trunc(Math.abs(m) / 1000)}.${String(Math.abs(m) % 1000).padStart(3, '0')}`;

/** a real calendar date (the schema checked the shape) */
function checkDate(value: string, field: string): void {
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) throw new ApiError(400, ErrorCodes.USAGE, `${field}: ${value} is not a calendar date`, field);
}

function checkPeriod(from: string, to: string): void {
  checkDate(from, 'from');
  checkDate(to, 'to');
  if (from > to) throw new ApiError(400, ErrorCodes.USAGE, `from: ${from} is after to (${to}); the period is backwards`, 'from');
}

export interface AdminServer {
  readonly fastify: FastifyInstance;
  /** `http://host:port` once listening */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The local HTTP API and admin page of a running cfx (`admin:` in cfx.yaml), on fastify with
 * JSON-schema-validated routes. On loopback reads need nothing and every state-changing call (POST)
 * needs the bearer token when one is configured. Beyond loopback a token is required (refused
 * without one) and every call needs it, reads included, but the page's empty shell and assets;
 * wrong tokens are counted per address and refused with 429 past TOKEN_ATTEMPTS_MAX per window.
 */
export function buildAdminApp(svc: Service, admin: AdminConfig): { app: FastifyInstance; resend: BackgroundResend } {
  const { config: c, logger } = svc.app;
  if (!admin.loopback && !admin.token) {
    throw new CfxError(ErrorCodes.CONFIG_INVALID, `admin.token: is required when admin.listen is not a loopback address (${admin.listen}); refusing to serve the admin API there without one`, {
      details: { field: 'admin.token' },
    });
  }
  const store = () => svc.app.store;
  const resend = new BackgroundResend(svc);
  const clock = svc.app.services.resolve(coreServices.clock);
  const metrics = new AdminMetrics(store(), c, clock);
  // the Fleet section and GET /api/fleet (office): the same report as `cfx fleet --json`
  const fleet = () => fleetReport(store().fleet, c, clock.now());
  const fleetHtml = (lang: Lang) => {
    const now = clock.now();
    return renderFleet(fleetReport(store().fleet, c, now), salesPerHour(store().fleet, c.terminals, now), LABELS[lang]);
  };
  const app = fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // a stopping cfx does not wait for idle keep-alive connections of a browser tab
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  // query and path parameters arrive as text and are coerced to the schema's types; a JSON body
  // never is (a string where a sale belongs is an error, not a one-element array)
  const ajvOptions = { strict: true, allErrors: false, useDefaults: true, removeAdditional: false, allowUnionTypes: true } as const;
  const coercing = new Ajv({ ...ajvOptions, coerceTypes: 'array' });
  const exact = new Ajv({ ...ajvOptions, coerceTypes: false });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exact : coercing).compile(schema));

  // JSON only: a form or text/plain post from another page is refused before any route runs (415)
  app.removeContentTypeParser('text/plain');

  // ---- errors: always { error: { code, message, field? } }
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const post = req.method === 'POST';
    const inputCode = post && req.routeOptions?.url === '/api/sales' ? ErrorCodes.SALE_INVALID : post && req.routeOptions?.url === '/api/shifts' ? ErrorCodes.SHIFT_INVALID : ErrorCodes.USAGE;
    const mapped = fromFastifyError(err as Parameters<typeof fromFastifyError>[0], inputCode) ?? toApiError(err);
    if (mapped.status >= 500) logger.error({ url: req.url, method: req.method, err: errorMessage(err) }, 'admin API call failed');
    void reply.code(mapped.status).header('cache-control', 'no-store').send(mapped.body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: ErrorCodes.USAGE, message: `no such route: ${req.method} ${req.url.split('?')[0]}` } });
  });

  // ---- who may call: loopback names only on a loopback listener; POSTs same-origin; the token
  // where tokenNeeded() says. Beyond loopback wrong tokens are rate-limited per address
  // (@fastify/rate-limit's counter, consumed only by a failure); on loopback every caller is
  // 127.0.0.1, so a limit there would let any local program lock the till out of POST /api/sales.
  if (!admin.loopback) void app.register(rateLimit, { global: false, max: TOKEN_ATTEMPTS_MAX, timeWindow: TOKEN_ATTEMPTS_WINDOW_MS });
  let attempts: ReturnType<FastifyInstance['createRateLimit']> | undefined;
  const limiter = () => (admin.loopback ? undefined : (attempts ??= app.createRateLimit()));
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer');
    if (!hostAllowed(admin.loopback, req.headers.host)) {
      throw new ApiError(403, ErrorCodes.USAGE, `this admin API answers on ${admin.listen} only (Host: ${req.headers.host ?? 'none'})`);
    }
    const read = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
    if (!read && !originAllowed(req.headers.origin, req.headers.host)) {
      throw new ApiError(403, ErrorCodes.USAGE, `a call from another origin (${req.headers.origin}) is refused`);
    }
    if (admin.token === undefined) return;
    const route = req.routeOptions?.url;
    const needed = tokenNeeded(admin, req.method, route);
    const given = req.headers.authorization !== undefined;
    // a token checked here: a needed one, or the page's check of one (/api/auth answers either way)
    const checked = needed || (given && route === '/api/auth');
    if (!checked) return;
    const limit = limiter();
    const now = limit ? await limit(req, { increment: false }) : undefined;
    // TOKEN_ATTEMPTS_MAX failures spent: refused before the comparison, so guessing stops there
    if (now && !now.isAllowed && now.remaining === 0) {
      const wait = Math.max(1, now.ttlInSeconds);
      void reply.header('retry-after', String(wait));
      throw new ApiError(429, ErrorCodes.USAGE, `too many wrong admin tokens from ${req.ip}: every token from there is refused for ${wait} s`, 'authorization');
    }
    if (bearerMatches(admin.token, req.headers.authorization)) return;
    if (given) {
      // never the token itself: what was called, from where, how many tries are left
      const after = limit ? await limit(req) : undefined;
      logger.warn({ ip: req.ip, method: req.method, url: req.url.split('?')[0], ...(after && !after.isAllowed ? { attemptsLeft: Math.max(0, after.remaining) } : {}) }, 'admin API: wrong token');
    }
    if (!needed) return;
    void reply.header('www-authenticate', 'Bearer realm="cfx"');
    throw new ApiError(401, ErrorCodes.USAGE, given ? 'the admin token is wrong' : `this call needs the admin token: Authorization: Bearer <admin.token>${read ? ` (every call does: ${admin.listen} is not a loopback address)` : ''}`, 'authorization');
  });

  const langOf = (req: FastifyRequest<{ Querystring: { lang?: Lang } }>): Lang => req.query.lang ?? pickLang(req.headers['accept-language']);
  const LANG_QS = { type: 'object', additionalProperties: false, properties: { lang: { enum: [...LANGS] } } } as const;
  const html = (reply: FastifyReply, body: string) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
  const json = (reply: FastifyReply, body: unknown, code = 200) => reply.code(code).header('cache-control', 'no-store').send(body);
  const problems = () => store().quarantine.list({ state: 'quarantined' });

  // ---- the page
  app.get<{ Querystring: { lang?: Lang } }>('/', { schema: { querystring: LANG_QS } }, async (req, reply) => {
    const lang = langOf(req);
    void reply.header('content-language', lang).header('vary', 'Accept-Language');
    void reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    // beyond loopback a browser's first request carries no token: it gets the page without data
    const shell = tokenNeeded(admin, 'GET', undefined) && !bearerMatches(admin.token!, req.headers.authorization);
    return html(
      reply,
      renderPage({
        lang,
        L: LABELS[lang],
        status: collectStatus(svc.app),
        runs: shell ? [] : store().runs.list({ limit: 20 }),
        quarantine: shell ? [] : problems(),
        tokenRequired: admin.token !== undefined,
        shell,
        ...(c.role === 'office' && !shell ? { fleet: fleetHtml(lang) } : {}),
      }),
    );
  });
  app.get('/app.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(APP_JS));
  app.get('/app.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(APP_CSS));
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send());
  app.get<{ Querystring: { lang?: Lang } }>('/ui/cards', { schema: { querystring: LANG_QS } }, async (req, reply) => html(reply, renderCards(collectStatus(svc.app), LABELS[langOf(req)])));
  app.get<{ Querystring: { lang?: Lang } }>('/ui/log', { schema: { querystring: LANG_QS } }, async (req, reply) => html(reply, renderLog(store().runs.list({ limit: 20 }), LABELS[langOf(req)])));
  app.get<{ Querystring: { lang?: Lang } }>('/ui/fleet', { schema: { querystring: LANG_QS } }, async (req, reply) => {
    if (c.role !== 'office') throw new ApiError(404, ErrorCodes.USAGE, 'the fleet is the office\'s view');
    return html(reply, fleetHtml(langOf(req)));
  });
  app.get<{ Querystring: { lang?: Lang } }>('/ui/quarantine', { schema: { querystring: LANG_QS } }, async (req, reply) => html(reply, renderQuarantine(problems(), LABELS[langOf(req)])));

  // ---- the API
  app.get('/api/status', async (_req, reply) => json(reply, collectStatus(svc.app)));
  app.get('/api/fleet', async (_req, reply) => {
    if (c.role !== 'office') throw new ApiError(409, ErrorCodes.USAGE, `the fleet is the office's view (this cfx has role: ${c.role})`);
    return json(reply, fleet());
  });

  app.get('/api/auth', async (req, reply) =>
    json(reply, { tokenRequired: admin.token !== undefined, authorized: admin.token === undefined || bearerMatches(admin.token, req.headers.authorization) }),
  );

  app.get<{ Querystring: { limit: number; job?: string } }>(
    '/api/runs',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 }, job: JOB } } } },
    async (req, reply) => json(reply, { runs: store().runs.list({ limit: req.query.limit, ...(req.query.job ? { job: req.query.job } : {}) }) }),
  );

  app.get<{ Params: { id: number } }>('/api/runs/:id', { schema: { params: ID } }, async (req, reply) => {
    const run: RunRecord | undefined = store().runs.get(req.params.id);
    if (!run) throw new ApiError(404, ErrorCodes.USAGE, `no run with id ${req.params.id}`, 'id');
    return json(reply, run);
  });

  app.get<{ Querystring: { from?: string; to?: string; pending?: boolean; limit: number } }>(
    '/api/sales',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { from: DATE, to: DATE, pending: { type: 'boolean' }, limit: { type: 'integer', minimum: 0, maximum: 10000, default: 100 } },
        },
      },
    },
    async (req, reply) => {
      const from = req.query.from ?? '0000-01-01';
      const to = req.query.to ?? '9999-12-31';
      if (req.query.from) checkDate(req.query.from, 'from');
      if (req.query.to) checkDate(req.query.to, 'to');
      if (from > to) throw new ApiError(400, ErrorCodes.USAGE, `from: ${from} is after to (${to}); the period is backwards`, 'from');
      const limit = req.query.limit;
      const s = store();
      if (c.role === 'terminal') {
        // which sales still wait for the upload: only looked up when asked (a filter, or rows to show)
        const flag = req.query.pending !== undefined || limit > 0;
        const pendingKeys = flag ? new Set(s.journal.pendingOutbox(10_000_000).map((o) => `${o.terminalId}/${o.saleId}`)) : undefined;
        let rows = s.journal.salesBetween(from, to).map((r) => ({ r, pending: pendingKeys?.has(`${r.terminalId}/${r.saleId}`) ?? false }));
        if (req.query.pending !== undefined) rows = rows.filter((x) => x.pending === req.query.pending);
        const total = rows.reduce((t, x) => t + x.r.total, 0);
        return json(reply, {
          from: req.query.from ?? null,
          to: req.query.to ?? null,
          count: rows.length,
          ...(flag ? { pending: rows.filter((x) => x.pending).length } : {}),
          total: money(total),
          sales: rows.slice(0, limit).map(({ r, pending }) => ({ terminalId: r.terminalId, saleId: r.saleId, time: r.time, localDate: r.localDate, kind: r.kind, total: money(r.total), pending, recordedAt: r.recordedAt })),
        });
      }
      const rows = s.collected.list({ from, to, ...(req.query.pending ? { pending: true } : {}) }).filter((r) => (req.query.pending === false ? r.deliveredAt !== undefined : true));
      return json(reply, {
        from: req.query.from ?? null,
        to: req.query.to ?? null,
        count: rows.length,
        pending: rows.filter((r) => r.deliveredAt === undefined).length,
        total: money(rows.reduce((t, r) => t + r.total, 0)),
        sales: rows.slice(0, limit).map((r) => ({ terminalId: r.terminalId, saleId: r.saleId, time: r.time, localDate: r.localDate, kind: r.kind, total: money(r.total), pending: r.deliveredAt === undefined, fileName: r.fileName, receivedAt: r.receivedAt })),
      });
    },
  );

  app.get<{ Querystring: { q?: string; limit: number; offset: number } }>(
    '/api/catalog',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { q: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, offset: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 0 } },
        },
      },
    },
    async (req, reply) => {
      const { limit, offset } = req.query;
      const q = (req.query.q ?? '').trim();
      // one row more than asked tells whether there is a next page, without counting a big catalog
      const items = store().catalog.list({ limit: limit + 1, offset, ...(q ? { q } : {}) });
      return json(reply, {
        q,
        offset,
        limit,
        hasMore: items.length > limit,
        items: items.slice(0, limit).map((p) => ({ ...p, price: money(p.price), ...(p.stock !== undefined ? { stock: milli(p.stock) } : {}) })),
      });
    },
  );

  app.post<{ Body: { from: string; to: string } }>(
    '/api/resend',
    { schema: { body: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: DATE, to: DATE } } } },
    async (req, reply) => {
      checkPeriod(req.body.from, req.body.to);
      const started = await resend.start(req.body.from, req.body.to, `admin API (${req.ip})`);
      return json(reply.header('location', `/api/runs/${started.runId}`), started, 202);
    },
  );

  app.post<{ Body: unknown }>('/api/sales', { bodyLimit: SALES_BODY_LIMIT, schema: { body: { type: ['object', 'array'] } } }, async (req, reply) => {
    if (c.role !== 'terminal') throw new ApiError(409, ErrorCodes.USAGE, `sales are recorded on a terminal (this cfx has role: ${c.role})`);
    const out = svc.recordSale(req.body);
    const recorded = out.some((o) => o.status === 'recorded');
    return json(reply, { sales: out.map((o) => ({ ...o, total: money(o.total) })) }, recorded ? 201 : 200);
  });

  // a shift close (docs/fleet.md): the same bearer rule and body checks as a sale
  app.post<{ Body: unknown }>('/api/shifts', { schema: { body: { type: 'object' } } }, async (req, reply) => {
    if (c.role !== 'terminal') throw new ApiError(409, ErrorCodes.USAGE, `shift closes are recorded on a terminal (this cfx has role: ${c.role})`);
    const out = svc.closeShift(req.body);
    return json(reply, { ...out, totals: Object.fromEntries(Object.entries(out.totals).map(([k, v]) => [k, money(v ?? 0)])) }, out.status === 'recorded' ? 201 : 200);
  });

  app.get<{ Querystring: { state: QuarantineState | 'all' } }>(
    '/api/quarantine',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { state: { enum: ['quarantined', 'retried', 'deleted', 'all'], default: 'quarantined' } } } } },
    async (req, reply) => json(reply, { files: store().quarantine.list(req.query.state === 'all' ? {} : { state: req.query.state }) }),
  );

  // the page's "retry" is a person's decision after reading the reason: it applies a refused full file anyway
  app.post<{ Params: { id: number } }>('/api/quarantine/:id/retry', { schema: { params: ID } }, async (req, reply) => json(reply, await retryQuarantined(svc, req.params.id, { force: true })));

  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).header('cache-control', 'no-store').send(await metrics.text()));

  return { app, resend };
}

const servers = new WeakMap<Service, AdminServer>();

/** Starts the admin server of a Service (from `Service.start()` when `admin` is configured). */
export async function startAdmin(svc: Service): Promise<AdminServer> {
  const admin = svc.app.config.admin;
  if (!admin) throw new CfxError(ErrorCodes.INTERNAL, 'startAdmin: the config has no admin section');
  const existing = servers.get(svc);
  if (existing) return existing;
  const { app, resend } = buildAdminApp(svc, admin);
  try {
    await app.listen({ host: admin.host, port: admin.port });
  } catch (e) {
    await app.close().catch(() => undefined);
    const why = (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `${admin.listen} is already in use (another cfx run?)` : errorMessage(e);
    throw new CfxError(ErrorCodes.CONFIG_INVALID, `admin.listen: cannot listen on ${admin.listen}: ${why}`, { cause: e, details: { field: 'admin.listen' } });
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : admin.port;
  const host = admin.host.includes(':') ? `[${admin.host}]` : admin.host;
  const server: AdminServer = {
    fastify: app,
    url: `http://${host}:${port}`,
    async close() {
      servers.delete(svc);
      await app.close();
      await resend.settle();
    },
  };
  servers.set(svc, server);
  svc.app.logger.info({ url: server.url, token: admin.token ? 'required for changes' : 'none (loopback only)' }, 'admin page and API listening');
  return server;
}

/** Stops the admin server of a Service, if it runs (first thing in `Service.stop()`). */
export async function stopAdmin(svc: Service): Promise<void> {
  await servers.get(svc)?.close();
}

/** the admin server a Service started, if any */
export function adminServerOf(svc: Service): AdminServer | undefined {
  return servers.get(svc);
}
