// The admin page in a real headless browser (Debian's chromium driven by playwright-core) against
// `cfx run` in a child process and the real vsftpd: status cards, the token asked once, the resend
// form (a backwards period refused with a message; a good one resent, the files back on the
// server), Ukrainian labels for Accept-Language: uk, and screenshots under test/artifacts/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { realServers, freshRemoteDir, onServer, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, officeClient, cfxProcess, type Deployment, type ProcResult } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';
import { until } from './helpers/wait.js';
import { saleJson, SwitchableRelay } from './helpers/sales.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const TOKEN = 'browser-test-token-0123456789';

function browserSkip(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const msg = `CHROMIUM MISSING, admin page browser test NOT RUN: ${CHROMIUM} not found — install it with test/servers/install-browser.sh (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`${msg}. In CI a missing browser is a failure.`);
  process.stderr.write(`\n*** ${msg} ***\n\n`);
  return msg;
}

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : browserSkip();
const env = servers as ServersEnv;


describe('admin page in a real browser (chromium, cfx run, real vsftpd)', { skip, timeout: 180_000 }, () => {
  let d: Deployment & { salesDir: string };
  let base: string;
  let proc: ReturnType<typeof cfxProcess> | undefined;
  let ctx: BrowserContext | undefined;
  let userDataDir: string;
  /** sale files on the server, temp names left out */
  const salesOnServer = () => onServer(d.salesDir, env).filter((n) => !n.startsWith('.'));

  before(async () => {
    const remote = freshRemoteDir('admin-ui');
    const port = await SwitchableRelay.freePort();
    base = `http://127.0.0.1:${port}`;
    const dep = terminalDeployment({
      server: env.ftpUrl,
      remoteBase: remote,
      extra: `sales: { dir: ${remote}/sales, format: csv }\nadmin:\n  listen: "127.0.0.1:${port}"\n  token: "\${CFX_ADMIN_TOKEN}"\n`,
    });
    d = { ...dep, salesDir: `${remote}/sales` };
    const runEnv = { CFX_ADMIN_TOKEN: TOKEN };
    // six sales over three days, uploaded; then the office collects them (the server dir is emptied)
    const sales = [1, 2, 3, 4, 5, 6].map((n) => saleJson(n, `2025-03-0${Math.ceil(n / 2)}`));
    writeFileSync(join(d.dir, 'sales.json'), JSON.stringify(sales));
    const add = await runCli(['sale', 'add', 'sales.json', '--push', '-c', d.config], { cwd: d.dir, env: runEnv });
    assert.equal(add.code, 0, add.err);
    const office = officeClient(env);
    try {
      for (const n of salesOnServer()) await office.delete(`${d.salesDir}/${n}`);
      await office.drop(d.inbox, 'prices-001.csv', 'code;barcodes;name;price\n1;4820000000011;Квиток дорослий;350,00\n2;;Кава американо;45,50\n');
    } finally {
      await office.close();
    }
    proc = cfxProcess(['run', '-c', d.config], { cwd: d.dir, env: runEnv });
    // up, and the price file taken
    await until('cfx run to serve the admin API with the price file applied', async () => {
      try {
        const st = (await (await fetch(`${base}/api/status`)).json()) as { catalog?: { lastFile?: unknown } };
        return st.catalog?.lastFile ? true : undefined;
      } catch {
        return undefined;
      }
    });
    userDataDir = mkdtempSync(join(tmpdir(), 'cfx-chromium-'));
    ctx = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1024, height: 900 } });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await ctx?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    if (proc) {
      proc.child.kill('SIGTERM');
      const r: ProcResult = await proc.done;
      assert.equal(r.code, 0, `cfx run stopped cleanly on SIGTERM\n${r.err}`);
    }
  });

  async function newPage(headers?: Record<string, string>): Promise<Page> {
    const page = await ctx!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    (page as Page & { errors: string[] }).errors = errors;
    if (headers) await page.setExtraHTTPHeaders(headers);
    return page;
  }

  it('shows the status of the running terminal, asks for the token once, refuses a backwards period, resends a good one', async () => {
    // English whatever the machine's language
    const page = await newPage({ 'Accept-Language': 'en-US,en;q=0.9' });
    await page.goto(`${base}/`);
    assert.equal(await page.title(), 'cfx — exchange admin');

    // the token is asked for first and kept for this tab
    await page.locator('#token-panel').waitFor({ state: 'visible' });
    await page.fill('#token-input', 'not-the-token-at-all');
    await page.click('#token-form button[type=submit]');
    await page.locator('#token-message', { hasText: 'The token was not accepted.' }).waitFor();
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.locator('#token-panel').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('cfx.admin.token')), TOKEN);
    await page.reload();
    assert.equal(await page.locator('#token-panel').isHidden(), true, 'asked once: a reload in the same tab does not ask again');

    // status cards
    assert.equal((await page.textContent('[data-testid=card-server-value]'))?.trim(), 'reachable');
    assert.equal((await page.textContent('[data-testid=card-price-file-value]'))?.trim(), 'prices-001.csv');
    assert.match((await page.textContent('#card-price-file'))!, /2 products in the catalog/);
    assert.equal((await page.textContent('[data-testid=card-pending-value]'))?.trim(), '0');
    assert.equal((await page.textContent('[data-testid=card-problems-value]'))?.trim(), 'none');
    // the exchange log shows the pull, and refreshes on its own
    assert.match((await page.textContent('#log-table'))!, /prices\.pull/);
    await page.locator('#refreshed', { hasText: 'updated' }).waitFor({ timeout: 15_000 });

    // a backwards period: refused on the page, nothing asked of the server
    await page.fill('#resend-from', '2025-03-03');
    await page.fill('#resend-to', '2025-03-01');
    await page.click('#resend-submit');
    await page.locator('#resend-message', { hasText: '"From" must not be after "To".' }).waitFor();
    assert.equal(await page.locator('#resend-confirm').isHidden(), true);
    assert.deepEqual(salesOnServer(), []);

    // a good period: the confirmation says how many sales it holds, then the run is followed to the end
    await page.fill('#resend-from', '2025-03-01');
    await page.fill('#resend-to', '2025-03-02');
    await page.click('#resend-submit');
    await page.locator('#resend-confirm').waitFor({ state: 'visible' });
    assert.equal(await page.textContent('#resend-confirm-text'), 'The period 2025-03-01 … 2025-03-02 holds 4 sale(s). Resend them to the server?');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-resend-confirm.png') });
    await page.click('#resend-yes');
    await page.locator('#resend-message', { hasText: 'Done: 4 sale(s) resent.' }).waitFor();
    assert.deepEqual(salesOnServer(), ['box-1_S000001.csv', 'box-1_S000002.csv', 'box-1_S000003.csv', 'box-1_S000004.csv']);
    await until('the resend in the exchange log', async () => ((await page.textContent('#log-table'))?.includes('sales.resend') ? true : undefined));

    // catalog search
    await page.fill('#catalog-q', 'Кава');
    await page.locator('#catalog-table', { hasText: 'Кава американо' }).waitFor();
    assert.match((await page.textContent('#catalog-table'))!, /45\.50/);

    await page.screenshot({ path: join(ARTIFACTS, 'admin-page.png'), fullPage: true });
    await page.setViewportSize({ width: 360, height: 740 });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page-small.png'), fullPage: true });
    assert.ok(existsSync(join(ARTIFACTS, 'admin-page.png')));
    assert.deepEqual((page as Page & { errors: string[] }).errors, [], 'no script errors');
    await page.close();
  });

  it('speaks Ukrainian to Accept-Language: uk (and Russian to ru)', async () => {
    const page = await newPage({ 'Accept-Language': 'uk' });
    await page.goto(`${base}/`);
    assert.equal(await page.getAttribute('html', 'lang'), 'uk');
    assert.equal(await page.title(), 'cfx — адміністрування обміну');
    assert.equal((await page.textContent('#resend h2'))?.trim(), 'Повторно надіслати продажі');
    assert.equal((await page.textContent('#card-server h3'))?.trim(), 'Сервер');
    assert.equal((await page.textContent('[data-testid=card-server-value]'))?.trim(), 'доступний');
    assert.equal((await page.textContent('#log h2'))?.replace(/\s+/g, ' ').trim(), 'Журнал обміну оновлюється кожні 5 с');
    // a new tab asks for the token again (sessionStorage is per tab)
    await page.locator('#token-panel h2', { hasText: 'Токен адміністратора' }).waitFor({ state: 'visible' });
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type=submit]');
    await page.locator('#token-panel').waitFor({ state: 'hidden' });
    await page.fill('#resend-from', '2025-03-02');
    await page.fill('#resend-to', '2025-03-01');
    await page.click('#resend-submit');
    await page.locator('#resend-message', { hasText: 'Дата «З» не може бути пізніше за дату «По».' }).waitFor();
    // the parts refreshed by the script stay Ukrainian
    await page.locator('#refreshed', { hasText: 'оновлено' }).waitFor({ timeout: 15_000 });
    assert.equal((await page.textContent('[data-testid=card-server-value]'))?.trim(), 'доступний');
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page-uk.png'), fullPage: true });
    await page.close();

    const ru = await newPage({ 'Accept-Language': 'ru-RU,ru;q=0.9' });
    await ru.goto(`${base}/`);
    assert.equal((await ru.textContent('#resend h2'))?.trim(), 'Повторно отправить продажи');
    await ru.close();
  });
});
