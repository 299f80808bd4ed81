// The fleet bench (bench/src/fleet.ts) end to end at N = 3 on the real vsftpd: the terminals in one
// child process pull what the office's publish job put in their inboxes, every one ends at the
// round's prices, and the bench reports each terminal's applied time. Values only; the timings the
// bench measures are not asserted here (speed belongs in bench/).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { realServers } from './helpers/servers.js';

/** what this test reads of bench/dist/fleet.js (the bench is a separate project: no type import across) */
interface Dist { p50Ms: number; p99Ms: number; maxMs: number }
interface FleetModule {
  fleetBench(o: { ns: number[]; steps: number[]; rounds: number; window: number; items: number; transports: string[]; log: (l: string) => void }): Promise<FleetResult>;
  renderFleet(r: FleetResult): string;
}
interface FleetResult {
  transports: {
    transport: string;
    skipped?: string;
    steps: { n: number; listErrors: number; watches: number; serverProcesses: number }[];
    latency: { n: number; rounds: { round: number; missing: number; wrong: string[]; landedToApplied: Dist; late: { terminal: string }[] }[] }[];
    target?: unknown;
  }[];
}

const servers = await realServers();
const built = existsSync(new URL('../../bench/dist/fleet.js', import.meta.url));
const skip = 'skip' in servers ? servers.skip : !built ? 'bench/dist is not built (npx tsc -b)' : false;

describe('fleet bench (N terminals in one process)', { skip }, () => {
  it('publishes to 3 terminals and reports each one applied at the round price, over the real vsftpd', async () => {
    // the bench's own servers are the tests' ones here: three sessions fit their max_clients
    process.env.CFX_BENCH_FLEET_BASE = process.env.CFX_TEST_BASE || '/tmp/cfx-test-servers';
    const fleet = (await import(new URL('../../bench/dist/fleet.js', import.meta.url).href)) as FleetModule;
    const lines: string[] = [];
    const r = await fleet.fleetBench({ ns: [3], steps: [3], rounds: 2, window: 1, items: 5, transports: ['ftp'], log: (l) => lines.push(l) });
    assert.equal(r.transports.length, 1);
    const ftp = r.transports[0]!;
    assert.equal(ftp.transport, 'ftp');
    assert.equal(ftp.skipped, undefined);
    assert.deepEqual(ftp.steps.map((s) => [s.n, s.listErrors, s.watches]), [[3, 0, 0]]);
    // the listener and a session pair per terminal at least (other tests' sessions may add to it)
    assert.ok(ftp.steps[0]!.serverProcesses >= 7, `vsftpd processes: ${ftp.steps[0]!.serverProcesses}`);
    assert.equal(ftp.latency.length, 1);
    const lat = ftp.latency[0]!;
    assert.equal(lat.n, 3);
    assert.deepEqual(lat.rounds.map((x) => [x.round, x.missing, x.wrong]), [[1, 0, []], [2, 0, []]]);
    // every terminal applied after its file landed, and the five latest are the three terminals
    for (const x of lat.rounds) {
      assert.ok(x.landedToApplied.p50Ms > 0 && Number.isFinite(x.landedToApplied.maxMs), JSON.stringify(x.landedToApplied));
      assert.deepEqual(x.late.map((l) => l.terminal).sort(), ['t00001', 't00002', 't00003']);
    }
    assert.equal(ftp.target, undefined, 'N = 100 was not measured');
    assert.match(fleet.renderFleet(r), /N=3: landed → applied p50\/p99 per round/);
  });
});
