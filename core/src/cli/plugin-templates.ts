// The files `cfx plugin new` writes. Kept apart from the command so they read as the files they become.
import { API_MAJOR } from '../api/index.js';

export type PluginKind = 'transport' | 'format' | 'backoffice' | 'job';
export const PLUGIN_KINDS: readonly PluginKind[] = ['transport', 'format', 'backoffice', 'job'];

/** the versions a scaffold builds with (those cfx itself is built and tested with) */
export const SCAFFOLD_TYPESCRIPT = '5.9.3';
export const SCAFFOLD_TYPES_NODE = '20.19.43';

export interface ScaffoldVars {
  kind: PluginKind;
  /** the contribution id: URL scheme, format id or back-office id */
  id: string;
  packageName: string;
  /** what devDependencies["@cfx/core"] says: a version or `file:<path>` */
  coreSpec: string;
  /** the @cfx/core version the scaffold was made with (peer range floor) */
  coreVersion: string;
}

/** `my-store.v2` → `MyStoreV2` */
export function pascal(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((s) => s[0]!.toUpperCase() + s.slice(1))
    .join('');
}

const KEY = { transport: 'transports', format: 'formats', backoffice: 'backoffices', job: 'jobs' } as const;

function configSchema(v: ScaffoldVars): Record<string, unknown> | undefined {
  switch (v.kind) {
    case 'job':
      // a job's own settings live in pluginOptions.<plugin id> (ctx.config in activate)
      return undefined;
    case 'transport':
      return {
        type: 'object',
        additionalProperties: false,
        description: `${v.id}:// server options (serverOptions)`,
        properties: {
          user: { type: 'string', description: 'login name; overrides the user in the URL' },
          password: { type: 'string', 'x-secret': true, description: 'login password; write ${ENV_VAR} in cfx.yaml, never a literal. x-secret: redacted in logs and `cfx config check --print`' },
        },
      };
    case 'format':
      return {
        type: 'object',
        additionalProperties: false,
        description: `options of the ${v.id} format (prices.options / sales.options)`,
        properties: {
          encoding: { enum: ['utf-8'], default: 'utf-8', description: 'text encoding of the files' },
        },
      };
    case 'backoffice':
      return {
        type: 'object',
        additionalProperties: false,
        required: ['outDir'],
        description: `options of the ${v.id} back office (backoffice.options)`,
        properties: {
          outDir: { type: 'string', minLength: 1, description: 'the folder the back office reads delivered sales from' },
        },
      };
  }
}

export function packageJson(v: ScaffoldVars): string {
  const pkg = {
    name: v.packageName,
    version: '0.1.0',
    description: `cfx ${v.kind} plugin: ${v.kind === 'transport' ? `${v.id}://` : v.id}`,
    license: 'UNLICENSED',
    type: 'module',
    main: './dist/src/index.js',
    types: './dist/src/index.d.ts',
    exports: { '.': { types: './dist/src/index.d.ts', default: './dist/src/index.js' }, './package.json': './package.json' },
    files: ['dist/src', 'README.md'],
    scripts: {
      build: 'tsc -p tsconfig.json',
      test: 'tsc -p tsconfig.json && node --test dist/test/',
      check: 'cfx plugins check .',
      prepack: 'tsc -p tsconfig.json',
    },
    // jobs came with plugin API 1.1
    engines: { node: '>=20', cfx: v.kind === 'job' ? `^${API_MAJOR}.1.0` : `^${API_MAJOR}.0.0` },
    cfx: {
      apiVersion: API_MAJOR,
      contributes: { [KEY[v.kind]]: [v.id] },
      ...(configSchema(v) ? { configSchema: { [v.id]: configSchema(v) } } : {}),
    },
    peerDependencies: { '@cfx/core': `>=${v.coreVersion}` },
    devDependencies: { '@cfx/core': v.coreSpec, '@types/node': SCAFFOLD_TYPES_NODE, typescript: SCAFFOLD_TYPESCRIPT },
  };
  return JSON.stringify(pkg, null, 2) + '\n';
}

export const TSCONFIG = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "lib": ["ES2023"],
    "types": ["node"],
    "strict": true,
    "declaration": true,
    "skipLibCheck": true,
    "rootDir": ".",
    "outDir": "dist"
  },
  "include": ["src", "test"]
}
`;

export const GITIGNORE = 'node_modules/\ndist/\n*.tgz\n';

function transportIndex(v: ScaffoldVars): string {
  const C = pascal(v.id);
  return `// ${v.packageName}: the ${v.id}:// transport for cfx.
import { Readable } from 'node:stream';
import { TransportError, type CallOptions, type PluginContext, type RemoteEntry, type Transport, type TransportCreateContext, type TransportProvider } from '@cfx/core/api';

/** serverOptions, as package.json's cfx.configSchema.${v.id} describes them (validated before create() is called) */
export interface ${C}Options {
  user?: string;
  password?: string;
}

/**
 * The ${v.id}:// transport. The contract (@cfx/core/api, docs/plugins.md):
 * - paths are POSIX and absolute from the server root ("/ftpbox/box-1/prices.csv");
 * - every failure is a TransportError with one of the closed kinds (NotFound, AlreadyExists,
 *   PermissionDenied, Unavailable, Timeout, Protocol, Aborted, HostKey): the jobs retry on
 *   Unavailable/Timeout and treat the rest as final;
 * - opts.signal aborts a call: reject with TransportError('Aborted') and leave nothing half-open;
 * - no temp-name + rename of your own: the core uploads to a temp name and calls rename()
 *   (a store whose writes are all-or-nothing declares capabilities: { atomicPut: true } and the
 *   core writes under the final name instead);
 * - honour ctx.timeoutMs for each network step.
 */
export class ${C}Transport implements Transport {
  // TODO: connection state (a client, opened on first use and reopened after close())

  constructor(readonly ctx: TransportCreateContext) {}

  get options(): ${C}Options {
    return this.ctx.options as ${C}Options;
  }

  async list(dir: string, opts?: CallOptions): Promise<RemoteEntry[]> {
    throw new Error('TODO: list(): the entries of dir (name, size, mtime, type); a missing dir is TransportError NotFound');
  }

  read(path: string, opts?: CallOptions): Readable {
    throw new Error('TODO: read(): a stream of the file bytes; errors (NotFound too) are emitted on the stream');
  }

  async write(path: string, data: Readable | Uint8Array, opts?: CallOptions): Promise<number> {
    throw new Error('TODO: write(): create or truncate the file, resolve with the byte count once the server has it all');
  }

  async rename(from: string, to: string, opts?: CallOptions): Promise<void> {
    throw new Error('TODO: rename(): replace an existing target; a missing source is NotFound');
  }

  async delete(path: string, opts?: CallOptions): Promise<void> {
    throw new Error('TODO: delete(): delete a file; a missing one is NotFound');
  }

  async mkdir(path: string, opts?: CallOptions): Promise<void> {
    throw new Error('TODO: mkdir(): create the directory and its parents; an existing one is fine');
  }

  async close(): Promise<void> {
    throw new Error('TODO: close(): close connections; a later call reconnects');
  }
}

export const ${v.id.replace(/[^A-Za-z0-9]/g, '_')}TransportProvider: TransportProvider = {
  schemes: ['${v.id}'],
  create: (ctx) => new ${C}Transport(ctx),
};

/** Called once, on first use of ${v.id}://. Register exactly what package.json's cfx.contributes declares. */
export function activate(ctx: PluginContext): void {
  ctx.registerTransport(${v.id.replace(/[^A-Za-z0-9]/g, '_')}TransportProvider);
}

/** Called when cfx stops: release what activate() acquired (registrations are disposed by the host). */
export function deactivate(): void {}

// keep the import used until the stubs are filled
void TransportError;
`;
}

function transportTest(v: ScaffoldVars): string {
  const P = `${v.id.replace(/[^A-Za-z0-9]/g, '_')}TransportProvider`;
  return `// The transport conformance kit from @cfx/core/testing: the same behaviour as cfx's own transports.
import { silentLogger } from '@cfx/core';
import { describeTransportConformance } from '@cfx/core/testing';
import { ${P} } from '../src/index.js';

// TODO: point this at a test server of yours (e.g. started in a before() hook or from the environment)
const url = new URL(process.env.CFX_TEST_URL ?? '${v.id}://localhost/');

describeTransportConformance('${v.id}://', {
  create: () => ${P}.create({ url, options: {}, logger: silentLogger(), timeoutMs: 10_000 }),
  root: \`/cfx-conformance/\${process.pid}-\${Date.now()}\`,
  largeBytes: 2 * 1024 * 1024,
});
`;
}

function formatIndex(v: ScaffoldVars): string {
  const C = pascal(v.id);
  return `// ${v.packageName}: the ${v.id} file format for cfx.
import type { Readable } from 'node:stream';
import { FormatError, type DecodeContext, type EncodeContext, type Format, type PluginContext, type PriceDecoding, type PriceFileMode, type PriceRecord, type Sale } from '@cfx/core/api';

/** prices.options / sales.options, as package.json's cfx.configSchema.${v.id} describes them */
export interface ${C}FormatOptions {
  encoding?: 'utf-8';
}

/**
 * The ${v.id} format: bytes <-> the canonical model (@cfx/core/api model.ts: money in integer minor
 * units, quantities in integer thousandths — never floats). The contract (docs/plugins.md):
 * - decoders stream: a 1M-row file never sits in memory;
 * - bad input throws FormatError naming the line and/or field; the core then applies nothing;
 * - a full price file yields { op: 'clear' } before its first product;
 * - encodeSale is deterministic (a resend writes the same bytes).
 */
export function create${C}Format(options: ${C}FormatOptions = {}): Format {
  return {
    id: '${v.id}',
    extension: '${v.id.replace(/[^A-Za-z0-9]/g, '')}',
    encodings: ['utf-8'],
    async decodePrices(input: Readable, ctx: DecodeContext): Promise<PriceDecoding> {
      throw new Error('TODO: decodePrices(): read the header, return { mode, records } with records streamed as they are parsed');
    },
    encodePrices(records: AsyncIterable<PriceRecord> | Iterable<PriceRecord>, mode: PriceFileMode, ctx: EncodeContext): Readable {
      throw new Error('TODO: encodePrices(): a Readable of the file bytes, written as the records come');
    },
    encodeSale(sale: Sale, ctx: EncodeContext): Uint8Array {
      throw new Error('TODO: encodeSale(): the bytes of one sale file');
    },
    async *decodeSales(input: Readable, ctx: DecodeContext): AsyncIterable<Sale> {
      throw new Error('TODO: decodeSales(): the sales of one file, streamed');
    },
  };
}

/** Called once, on first use of the format. Register exactly what package.json's cfx.contributes declares. */
export function activate(ctx: PluginContext): void {
  ctx.registerFormat({ id: '${v.id}', create: (options) => create${C}Format(options as ${C}FormatOptions) });
}

export function deactivate(): void {}

// keep the import used until the stubs are filled
void FormatError;
`;
}

function formatTest(v: ScaffoldVars): string {
  const C = pascal(v.id);
  return `// The format conformance kit from @cfx/core/testing: round trips, errors that say where, bounded memory.
import { describeFormatConformance } from '@cfx/core/testing';
import { create${C}Format } from '../src/index.js';

describeFormatConformance('${v.id}', {
  create: () => create${C}Format(),
  // TODO: inputs your decoder must refuse, with the line (and field) its FormatError must name
  malformed: [{ name: 'not a ${v.id} file', bytes: 'this is not a ${v.id} file\\n', line: 1 }],
});
`;
}

function backofficeIndex(v: ScaffoldVars): string {
  const C = pascal(v.id);
  return `// ${v.packageName}: the ${v.id} back office for cfx.
import { CfxError, ErrorCodes, type BackOffice, type DeliverOptions, type PluginContext, type Sale } from '@cfx/core/api';

/** backoffice.options, as package.json's cfx.configSchema.${v.id} describes them */
export interface ${C}Options {
  outDir: string;
}

/**
 * The ${v.id} back office. The contract (docs/plugins.md):
 * - deliverSales must be idempotent per opts.batchId: after a crash the core hands the same batch
 *   (same id, same sales) again, and it must end up in the back office once (write the batch under
 *   a name made of its id, replacing it; or remember delivered batch ids in the back office);
 * - resolve only when the batch is durably there;
 * - pendingExports (optional, office role): exports stay offered until ack() is called.
 */
export class ${C}BackOffice implements BackOffice {
  readonly id = '${v.id}';

  constructor(readonly options: ${C}Options) {}

  async deliverSales(terminal: string, sales: Sale[], opts?: DeliverOptions): Promise<void> {
    throw new Error('TODO: deliverSales(): hand the sales to the back office, once per opts.batchId');
  }

  /** what the back office holds now, one entry per sale occurrence: the conformance kit reads it back */
  async inspect(): Promise<{ terminal: string; saleId: string }[]> {
    throw new Error('TODO: inspect(): read back what deliverSales wrote');
  }

  // Optional (office role): goods/price exports for the terminals.
  // async pendingExports(opts?: CallOptions): Promise<BackOfficeExport[]> { ... }

  async close(): Promise<void> {}
}

/** Called once, on first use of the back office. Register exactly what package.json's cfx.contributes declares. */
export function activate(ctx: PluginContext): void {
  ctx.registerBackOffice({
    id: '${v.id}',
    create: (options) => {
      const o = options as Partial<${C}Options>;
      if (typeof o.outDir !== 'string') throw new CfxError(ErrorCodes.CONFIG_INVALID, 'back office "${v.id}" needs options.outDir');
      return new ${C}BackOffice(o as ${C}Options);
    },
  });
}

export function deactivate(): void {}
`;
}

function backofficeTest(v: ScaffoldVars): string {
  const C = pascal(v.id);
  return `// The back-office conformance kit from @cfx/core/testing: a batch delivered twice is there once.
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackOfficeConformance } from '@cfx/core/testing';
import { ${C}BackOffice } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), '${v.id}-conformance-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

describeBackOfficeConformance('${v.id}', {
  // a fresh, empty back office per test; the kit reads it back through inspect()
  create: () => new ${C}BackOffice({ outDir: join(root, String(++n)) }),
});
`;
}

function jobIndex(v: ScaffoldVars): string {
  const C = pascal(v.id);
  return `// ${v.packageName}: the ${v.id} job for cfx.
import { coreServices, defineJob, type PluginContext } from '@cfx/core/api';

/**
 * The ${v.id} job: what a \`schedule:\` entry runs (\`- { job: ${v.id}, cron: "0 3 * * *" }\`).
 * deps are service refs from the catalogue (docs/plugins.md): core resolves them, a test passes
 * fakes. A run returns a summary, and core records it once (cfx status --json: lastRuns). Throw to
 * fail the run; core records the error's code.
 *
 * As scaffolded it counts the catalog and remembers when it last ran: replace the body of run().
 */
export const ${C}Job = defineJob({
  id: '${v.id}',
  roles: ['terminal', 'office'],
  description: 'TODO: say what ${v.id} does',
  deps: { catalog: coreServices.catalog, kv: coreServices.kv, clock: coreServices.clock, logger: coreServices.logger },
  create({ catalog, kv, clock, logger }) {
    return {
      async run() {
        const products = catalog.count();
        const previous = kv.get('lastRun');
        kv.set('lastRun', clock.now().toISOString());
        logger.info({ products, previous }, '${v.id} ran');
        return { result: 'ok', details: { products, previous: previous ?? null } };
      },
    };
  },
});

/** Called once, on first use of the job. Register exactly what package.json's cfx.contributes declares. */
export function activate(ctx: PluginContext): void {
  ctx.registerJob(${C}Job);
}

export function deactivate(): void {}
`;
}

function jobTest(v: ScaffoldVars): string {
  const C = pascal(v.id);
  return `// The job with fake deps: a fixed clock, an in-memory kv, a catalog of three products.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { CatalogReader, KeyValueStore, Logger } from '@cfx/core/api';
import { ${C}Job } from '../src/index.js';

it('counts the catalog and remembers its last run', async () => {
  const kv = new Map<string, string>();
  const store: KeyValueStore = { get: (k) => kv.get(k), set: (k, v) => void kv.set(k, v), delete: (k) => void kv.delete(k) };
  const catalog = { count: () => 3 } as unknown as CatalogReader;
  const logger = { info() {}, warn() {}, error() {}, debug() {}, child: () => logger } as unknown as Logger;
  let now = new Date('2025-03-15T03:00:00.000Z');
  const runner = await ${C}Job.create({ catalog, kv: store, clock: { now: () => now }, logger });
  const signal = new AbortController().signal;
  assert.deepEqual(await runner.run({ signal, trigger: 'schedule' }), { result: 'ok', details: { products: 3, previous: null } });
  now = new Date('2025-03-16T03:00:00.000Z');
  assert.deepEqual(await runner.run({ signal, trigger: 'schedule' }), { result: 'ok', details: { products: 3, previous: '2025-03-15T03:00:00.000Z' } });
});
`;
}

function manifestTest(v: ScaffoldVars): string {
  return `// activate() registers exactly what package.json declares (cfx plugins check does the same, and more).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PluginContext } from '@cfx/core/api';
import { activate } from '../src/index.js';

it('activate registers what cfx.contributes declares', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const got = { transports: [] as string[], formats: [] as string[], backoffices: [] as string[], jobs: [] as string[] };
  const none = { dispose() {} };
  await activate({
    pluginId: pkg.name,
    version: pkg.version,
    config: {},
    registerTransport: (p: { schemes: string[] }) => (got.transports.push(...p.schemes), none),
    registerFormat: (p: { id: string }) => (got.formats.push(p.id), none),
    registerBackOffice: (p: { id: string }) => (got.backoffices.push(p.id), none),
    registerJob: (j: { id: string }) => (got.jobs.push(j.id), none),
  } as unknown as PluginContext);
  assert.deepEqual(got.${KEY[v.kind]}, pkg.cfx.contributes.${KEY[v.kind]});
});
`;
}

function readme(v: ScaffoldVars): string {
  const what = v.kind === 'transport' ? `the \`${v.id}://\` transport` : v.kind === 'format' ? `the \`${v.id}\` file format` : v.kind === 'job' ? `the \`${v.id}\` job` : `the \`${v.id}\` back office`;
  const use =
    v.kind === 'transport'
      ? `server: ${v.id}://user:\${MY_PASSWORD}@host/\nserverOptions: {}`
      : v.kind === 'format'
        ? `prices: { format: ${v.id} }\nsales: { format: ${v.id} }`
        : v.kind === 'job'
          ? `schedule:\n  - { job: ${v.id}, cron: "0 3 * * *" }`
          : `backoffice:\n  use: ${v.id}\n  options: { outDir: ./to-back-office }`;
  return `# ${v.packageName}

A cfx plugin contributing ${what}. Made with \`cfx plugin new ${v.kind} ${v.id}\`.

## Finish it
1. \`npm install\`, then \`npm test\`: it builds and runs the ${v.kind} conformance kit from
   \`@cfx/core/testing\` — it fails until the \`TODO\`s in \`src/index.ts\` are done.
2. Fill in the stubs until \`npm test\` passes. The contract, its error codes and the lifecycle are in
   cfx's \`docs/plugins.md\`.
3. \`npx cfx plugins check .\` validates the manifest, the \`engines.cfx\` range and the option schemas,
   loads the plugin in a test host and compares what it registers with what it declares.

## Use it
\`\`\`sh
npm pack                                   # builds (prepack) and packs ${v.packageName}-0.1.0.tgz
cd /path/to/deployment && npm install /path/to/${v.packageName}-0.1.0.tgz
\`\`\`
\`\`\`yaml
plugins: [${v.packageName}]
${use}
\`\`\`

## Compatibility
\`engines.cfx\` (\`^${API_MAJOR}.0.0\`) is the range of the cfx plugin API this plugin works with: cfx
refuses to load it, before importing any of its code, when its API is outside the range. A minor API
version only adds; a new major may break.
`;
}

/** relative path → content */
export function scaffoldFiles(v: ScaffoldVars): Record<string, string> {
  const [index, test, testName] =
    v.kind === 'transport'
      ? [transportIndex(v), transportTest(v), 'conformance.test.ts']
      : v.kind === 'format'
        ? [formatIndex(v), formatTest(v), 'conformance.test.ts']
        : v.kind === 'job'
          ? [jobIndex(v), jobTest(v), 'job.test.ts']
          : [backofficeIndex(v), backofficeTest(v), 'conformance.test.ts'];
  return {
    'package.json': packageJson(v),
    'tsconfig.json': TSCONFIG,
    '.gitignore': GITIGNORE,
    'README.md': readme(v),
    'src/index.ts': index,
    [`test/${testName}`]: test,
    'test/manifest.test.ts': manifestTest(v),
  };
}
