// The whole pull over STAT listings (issue #19): a name on vsftpd that holds a line break and a
// fake end line ("a\n213 End of status") sorts before the price file. A reader that took that
// line for the reply's end would hide the price file and answer the next command with the real
// end line; cfx applies the file, skips the name and counts it in `cfx status` (exit 0: nothing
// of the terminal's was dropped).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { realServers, freshRemoteDir, ftpRootPath, type ServersEnv } from './helpers/servers.js';
import { terminalDeployment, cp1251Csv } from './helpers/deploy.js';
import { runCli } from './helpers/cli.js';

const servers = await realServers();
const skip = 'skip' in servers ? servers.skip : process.getuid?.() !== 0 ? 'writes a name with a line break on the server disk: needs root' : false;
const env = servers as ServersEnv;

describe('price pull over STAT listings against vsftpd', { skip }, () => {
  for (const listing of ['auto', 'list'] as const) {
    it(`listing: ${listing} — a hostile name neither hides the price file nor passes as plain; cfx status counts it`, async () => {
      const d = terminalDeployment({ server: env.ftpUrl, remoteBase: freshRemoteDir(`stat-pull-${listing}`), extra: `serverOptions: { listing: ${listing} }\n` });
      const inbox = ftpRootPath(d.inbox, env);
      mkdirSync(inbox, { recursive: true });
      chmodSync(inbox, 0o777);
      writeFileSync(`${inbox}/a\n213 End of status`, 'not a price file');
      writeFileSync(`${inbox}/prices-001.full.csv`, cp1251Csv(['code;barcodes;name;price', '7;;Кава;45,50']));
      writeFileSync(`${inbox}/prices-001.full.csv.done`, '');
      chmodSync(`${inbox}/prices-001.full.csv`, 0o666);
      chmodSync(`${inbox}/prices-001.full.csv.done`, 0o666);
      const pull = await runCli(['pull', '--json', '-c', d.config], { cwd: d.dir });
      assert.equal(pull.code, 0, `${pull.out}\n${pull.err}`);
      const out = pull.json() as { files: { name: string; result: string }[] };
      assert.deepEqual(out.files.map((f) => [f.name, f.result]), [['prices-001.full.csv', 'applied']]);
      const cat = await runCli(['catalog', '--code', '7', '--json', '-c', d.config], { cwd: d.dir });
      assert.deepEqual([(cat.json() as { name: string }).name, (cat.json() as { price: string }).price], ['Кава', '45.50'], cat.out);
      const st = await runCli(['status', '--json', '-c', d.config], { cwd: d.dir });
      const u = (st.json() as { unsafeNames?: { count: number; jobs: Record<string, { names: { dir: string; name: string }[] }> } }).unsafeNames;
      assert.ok(u, st.out);
      assert.deepEqual(u.jobs['prices.pull']!.names.map((n) => [n.dir, n.name]), [[d.inbox, 'a\n213 End of status']]);
    });
  }
});
