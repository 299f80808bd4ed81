// The worker of fuzzDecoderIsolated: imports the module, fuzzes the one target asked for, and
// tells the parent each input before decoding it (so a thread that never yields is reported
// with the input that blocked it).
import { parentPort, workerData } from 'node:worker_threads';
import { fuzzDecoder, type DecoderFuzzTarget, type FuzzOptions } from './fuzz.js';

const { module, target, opts } = workerData as { module: string; target: string; opts: FuzzOptions };
const mod = (await import(module)) as { fuzzTargets(): DecoderFuzzTarget[] | Promise<DecoderFuzzTarget[]> };
const t = (await mod.fuzzTargets()).find((x) => x.name === target);
if (!t) throw new Error(`${module} has no fuzz target "${target}"`);
const report = await fuzzDecoder(t, { ...opts, onCase: (input) => parentPort!.postMessage({ type: 'case', input }) });
parentPort!.postMessage({ type: 'report', report });
