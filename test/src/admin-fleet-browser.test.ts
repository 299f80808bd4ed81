// The admin page's Fleet section (issue #18) in a real headless chromium at a phone's width, in
// English, Ukrainian and Russian, against an office running in this process (like `cfx run`) that
// collected from the real vsftpd: one terminal behind on prices with a receipt asked for and a
// shift incomplete, one stale. The terminals are real (cfx pull / sale add / push / shift close and
// their status.publish job); only what the office last published to box-1 is seeded in its store
// (a real publish is in fleet.test.ts). Screenshots under test/artifacts/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { App, Service, coreServices, silentLogger } from '@cfx/core';
import { realServers, freshRemoteDir, type ServersEnv } from './helpers/servers.js';
import { officeClient, openApp, terminalDeployment, type Deployment } from './helpers/deploy.js';
import { officeDeployment } from './helpers/office.js';
import { runCli } from './helpers/cli.js';
import { SwitchableRelay, saleJson } from './helpers/sales.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : existsSync(CHROMIUM) ? false : `chromium missing at ${CHROMIUM} (test/servers/install-browser.sh)`;
const env = servers as ServersEnv;

/** a sale of 350.00 cash at `at` (UTC, so its hour is the chart's); shift 3 with its receipt number, or none */
function sale(n: number, at: Date, receiptNo?: number): Record<string, unknown> {
  const time = `${at.toISOString().slice(0, 19)}+00:00`;
  const base = saleJson(n, time.slice(0, 10), { time, lines: [{ code: '1', qty: '1', price: '350.00', amount: '350.00' }], payments: [{ kind: 'cash', amount: '350.00' }] });
  if (receiptNo === undefined) {
    delete base.shift;
    delete base.receiptNo;
    return base;
  }
  return { ...base, shift: 3, receiptNo };
}

async function cli(d: Deployment, ...args: string[]): Promise<void> {
  const r = await runCli([...args, '-c', d.config], { cwd: d.dir });
  assert.equal(r.code, 0, `cfx ${args.join(' ')}: ${r.err}${r.out}`);
}

/** the terminal's status.publish job once, against the real server (what cfx run does every status.every) */
async function publishStatus(d: Deployment): Promise<void> {
  const app = openApp(d, 'rw');
  try {
    assert.equal((await app.jobs.run('status.publish', { trigger: 'cli' })).result, 'idle');
  } finally {
    await app.close();
  }
}

const EXPECTED = {
  en: { title: 'Fleet', behind: 'behind', gaps: 'open 0 · requested 1 · lost at the till 0', shift: 'shift 3: incomplete (3)', stale: 'stale', unknown: 'unknown', noShifts: 'no shifts', chart: '3 sales in the last 24 h', head: 'Last seen' },
  uk: { title: 'Каси', behind: 'застарілі', gaps: 'відкриті 0 · запитані 1 · втрачені на касі 0', shift: 'зміна 3: неповна (3)', stale: 'немає зв’язку', unknown: 'невідомо', noShifts: 'змін немає', chart: '3 продажів за 24 год', head: 'Востаннє на зв’язку' },
  ru: { title: 'Кассы', behind: 'устарели', gaps: 'открыты 0 · запрошены 1 · потеряны на кассе 0', shift: 'смена 3: неполная (3)', stale: 'нет связи', unknown: 'неизвестно', noShifts: 'смен нет', chart: '3 продаж за 24 ч', head: 'Последняя связь' },
} as const;

describe('admin page: the Fleet section in chromium at 375 px (en, uk, ru)', { skip, timeout: 180_000 }, () => {
  let app: App;
  let svc: Service;
  let base: string;
  let ctx: BrowserContext | undefined;
  let userDataDir: string;

  before(async () => {
    const remote = freshRemoteDir('fleet-ui');
    const port = await SwitchableRelay.freePort();
    base = `http://127.0.0.1:${port}`;
    const { config } = officeDeployment(env, {
      salesDir: `${remote}/sales/{terminal}`,
      extra: `prices: { dir: "${remote}/in/{terminal}" }\nstatus: { dir: "${remote}/status" }\nadmin: { listen: "127.0.0.1:${port}" }\n`,
    });
    const terminal = (id: string) => terminalDeployment({ server: env.ftpUrl, remoteBase: `${remote}/in`, terminal: id, extra: `sales: { dir: "${remote}/sales/{terminal}", format: csv }\nstatus: { dir: "${remote}/status" }\n` });
    const [t1, t2] = [terminal('box-1'), terminal('box-2')];
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    // box-1 applies a price file, sells receipts 1, 2 and 4 (3 is missing) in two hours of the last day and closes the shift up to 4
    const client = officeClient(env);
    try {
      await client.drop(`${remote}/in/box-1`, 'prices-0001.csv', 'code;barcodes;name;price\n1;4820000000011;Квиток дорослий;350,00\n');
    } finally {
      await client.close();
    }
    await cli(t1, 'pull');
    const sales = [sale(1, new Date(hour - 2 * 3_600_000 + 300_000), 1), sale(2, new Date(hour - 2 * 3_600_000 + 600_000), 2), sale(4, new Date(hour - 5 * 3_600_000 + 60_000), 4)];
    writeFileSync(join(t1.dir, 'sales.json'), JSON.stringify(sales));
    await cli(t1, 'sale', 'add', 'sales.json');
    await cli(t1, 'push');
    writeFileSync(join(t1.dir, 'close.json'), JSON.stringify({ shift: 3, closedAt: sales[2]!.time, firstReceiptNo: 1, lastReceiptNo: 4, totals: { cash: '1400.00' } }));
    await cli(t1, 'shift', 'close', 'close.json', '--push');
    // box-2 journals three sales (no shift numbers), not pushed yet, and says so in its status
    writeFileSync(join(t2.dir, 'sales.json'), JSON.stringify([5, 6, 7].map((n) => sale(n, new Date(hour - 3_600_000)))));
    await cli(t2, 'sale', 'add', 'sales.json');
    await publishStatus(t2);

    // the office reads box-2's status 20 minutes "ago" by its clock (stale now), then box-1's now
    let now = Date.now() - 20 * 60_000;
    app = App.open({ configFile: config, env: {}, store: 'rw', logger: silentLogger() });
    app.services.value(coreServices.clock, { now: () => new Date(now) });
    await app.jobs.run('sales.collect', { trigger: 'cli' });
    now = Date.now();
    await publishStatus(t1);
    // what office.publish records after an upload: a newer file than box-1 applied
    app.store.fleet.recordPublished({ terminalId: 'box-1', name: 'goods-2-bbbbbbbbbbbb.csv', sha256: 'b'.repeat(64), publishedAt: new Date().toISOString() });
    await app.jobs.run('sales.collect', { trigger: 'cli' });
    // the clock follows the wall clock from here on
    app.services.value(coreServices.clock, { now: () => new Date() });
    svc = new Service(app);
    await svc.start();

    userDataDir = mkdtempSync(join(tmpdir(), 'cfx-chromium-'));
    ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 375, height: 812 }, isMobile: true, deviceScaleFactor: 2 });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await ctx?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await svc?.stop();
    await app?.close();
  });

  for (const lang of ['en', 'uk', 'ru'] as const) {
    it(`${lang}: one row per terminal with its state, a chart of sales per hour, no sideways scrolling`, async () => {
      const x = EXPECTED[lang];
      const page = await ctx!.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${base}/?lang=${lang}`);
      assert.equal((await page.textContent('#fleet h2'))?.split('\n')[0]?.trim().startsWith(x.title), true);
      const rows = page.locator('#fleet-table tbody tr');
      assert.equal(await rows.count(), 2);
      const b1 = page.locator('#fleet-table tr[data-terminal="box-1"]');
      const b2 = page.locator('#fleet-table tr[data-terminal="box-2"]');
      const text = async (row: typeof b1, id: string) => (await row.locator(`[data-testid=${id}]`).innerText()).replace(/\s+/g, ' ').trim();

      assert.match(await text(b1, 'catalog'), new RegExp(`^${x.behind} prices-0001\\.csv$`));
      assert.equal(await text(b1, 'gaps'), x.gaps);
      assert.equal(await text(b1, 'shifts'), x.shift);
      assert.equal(await text(b1, 'pending'), '0');
      assert.equal(await b1.locator('[data-testid=stale]').count(), 0);
      assert.equal(await b1.locator('svg.spark rect').count(), 2, 'two hours with sales');
      assert.equal(await b1.locator('svg.spark').getAttribute('aria-label'), x.chart);

      assert.equal(await b2.locator('[data-testid=stale]').innerText(), x.stale);
      assert.equal(await text(b2, 'catalog'), x.unknown);
      assert.equal(await text(b2, 'shifts'), x.noShifts);
      assert.equal(await text(b2, 'pending'), '3');
      assert.equal(await b2.locator('svg.spark rect').count(), 0);

      // stacked rows on a phone: each cell says what it is
      const label = await b1.locator('[data-testid=last-seen]').evaluate((el) => (globalThis as any).getComputedStyle(el, '::before').content as string);
      assert.equal(label, `"${x.head}: "`);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      assert.ok(overflow <= 0, `no sideways scrolling at 375 px (overflow ${overflow} px)`);

      // the refreshed part stays in the page's language
      await page.locator('#refreshed', { hasText: /\d/ }).waitFor({ timeout: 15_000 });
      assert.equal(await text(page.locator('#fleet-table tr[data-terminal="box-1"]'), 'gaps'), x.gaps);

      const shot = join(ARTIFACTS, `admin-fleet-${lang}.png`);
      await page.locator('#fleet').screenshot({ path: shot });
      assert.ok(existsSync(shot));
      assert.deepEqual(errors, [], 'no script errors');
      await page.close();
    });
  }

  it('GET /api/fleet is the cfx fleet --json body', async () => {
    const r = await fetch(`${base}/api/fleet`);
    assert.equal(r.status, 200);
    const j = (await r.json()) as { terminals: { terminal: string; catalog: { state: string }; gaps: unknown; stale: boolean }[] };
    assert.deepEqual(
      j.terminals.map((t) => [t.terminal, t.catalog.state, t.gaps, t.stale]),
      [
        ['box-1', 'behind', { open: 0, requested: 1, lostAtTill: 0 }, false],
        ['box-2', 'unknown', { open: 0, requested: 0, lostAtTill: 0 }, true],
      ],
    );
    const m = await (await fetch(`${base}/metrics`)).text();
    assert.match(m, /^cfx_fleet_receipt_gaps\{terminal="box-1",state="requested"\} 1$/m);
    assert.match(m, /^cfx_fleet_pending_sales\{terminal="box-2"\} 3$/m);
    assert.match(m, /^cfx_fleet_shifts\{terminal="box-1",state="incomplete"\} 1$/m);
    assert.match(m, /^cfx_fleet_last_seen_timestamp_seconds\{terminal="box-1"\} \d+(\.\d+)?$/m);
  });
});
