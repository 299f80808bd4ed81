import type { JsonSchema } from '../api/plugin.js';

/** A terminal id: it goes into remote paths and file names, so no separators, no `..`. */
export const TERMINAL_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** keys whose schema is an object: `key: ` with nothing after it (null) means "use the default" */
export const CORE_SECTIONS = ['prices', 'sales', 'archive', 'log', 'admin', 'status', 'fleet'] as const;

/** `admin.listen`: `host:port`, an IPv6 host in brackets (`[::1]:8730`) */
export const ADMIN_LISTEN_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$';

const duration = (min: number, description: string): JsonSchema => ({ description, 'x-duration': { min } });
const size = (description: string): JsonSchema => ({ description, 'x-size': { min: 1 } });
const anyObject = (description: string): JsonSchema => ({ description, type: 'object' });
const nonEmpty = (description: string): JsonSchema => ({ description, type: 'string', minLength: 1 });

/**
 * JSON Schema of `cfx.yaml` as written by the user (before defaults). Every object is closed
 * (`additionalProperties: false`). Custom keywords (registered by the validator): `x-duration`,
 * `x-size`, `x-cron`, `x-url` check the value, `x-secret` marks a value to redact.
 * Cross-field rules (terminal required for role terminal, plugin sections) are checked in code.
 */
export const coreSchema: JsonSchema = {
  $id: 'cfx:core/config',
  title: 'cfx.yaml',
  type: 'object',
  additionalProperties: false,
  required: ['role', 'server'],
  properties: {
    role: { description: 'what this machine is', enum: ['terminal', 'office'] },
    terminal: { description: 'this terminal\'s id (role terminal)', type: 'string', pattern: TERMINAL_ID_PATTERN },
    terminals: {
      description: 'office: the terminals it serves',
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', pattern: TERMINAL_ID_PATTERN },
    },
    dataDir: nonEmpty('local data dir, relative to the config file'),
    server: { description: 'server URL; the scheme picks the transport', type: 'string', minLength: 1, 'x-url': true },
    serverOptions: anyObject('options of the transport'),
    timeout: duration(1000, 'deadline of one remote call (at least 1s: a bare number is ms)'),
    prices: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dir: nonEmpty('remote inbox dir; {terminal} expands to the terminal id'),
        format: nonEmpty('format id'),
        poll: duration(100, 'poll interval'),
        watchPoll: duration(100, "poll interval while the transport's watch is live (changes pushed; the poll is then only the fallback); the office's collect too; back to poll the moment the watch fails"),
        options: anyObject('options of the format'),
        maxFileSize: size('largest price file accepted'),
        maxLineLength: size('longest line accepted'),
        stable: duration(0, 'size must be unchanged this long (0: across two listings)'),
        order: { description: 'order of the files in one listing: natural (numbers in names compare as numbers, then mtime), name (plain string order) or mtime', enum: ['natural', 'name', 'mtime'] },
        allowEmptyFull: { description: 'a full file with no products may empty the catalog (default: quarantined)', type: 'boolean' },
        maxRemovedShare: { description: 'quarantine a full file that removes more than this share (0..1) of the catalog; default: no limit', type: 'number', minimum: 0, maximum: 1 },
      },
    },
    sales: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dir: nonEmpty('remote sales dir; {terminal} expands to the terminal id (one dir per terminal: the office then knows whose file it is)'),
        format: nonEmpty('format id'),
        options: anyObject('options of the format'),
        connections: { description: 'parallel uploads', type: 'integer', minimum: 1, maximum: 16 },
        spool: nonEmpty('local dir the till drops sale JSON files into'),
        maxFileSize: size('office: largest sale file accepted (a bigger one, by its listing or by what the server sends, is quarantined)'),
      },
    },
    backoffice: {
      description: 'back-office adapter: an id, or { use, options }',
      type: ['string', 'object'],
      minLength: 1,
      additionalProperties: false,
      required: ['use'],
      properties: {
        use: nonEmpty('back-office adapter id'),
        options: anyObject('options of the adapter'),
      },
    },
    plugins: {
      description: 'extra plugins: npm package names or paths',
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', minLength: 1 },
    },
    pluginOptions: {
      description: 'options per plugin id',
      type: 'object',
      additionalProperties: { type: 'object' },
    },
    schedule: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['job', 'cron'],
        properties: {
          job: nonEmpty('job name'),
          cron: { description: 'node-cron expression', type: 'string', 'x-cron': true },
        },
      },
    },
    status: {
      description: "terminal: the status file the office reads (docs/fleet.md)",
      type: 'object',
      additionalProperties: false,
      properties: {
        dir: nonEmpty('remote dir of <terminal>.status.json; {terminal} expands to the terminal id'),
        every: duration(1000, 'written at least this often (and soon after every change)'),
      },
    },
    fleet: {
      description: "office: how it judges its terminals and heals receipt gaps (docs/fleet.md)",
      type: 'object',
      additionalProperties: false,
      properties: {
        staleAfter: duration(1000, 'a terminal whose last status is older than this is stale'),
        gapRetry: duration(1000, 'a receipt gap is asked for again after this, doubling each time'),
        gapRetryMax: duration(1000, 'the longest wait between two requests for one gap'),
      },
    },
    archive: {
      type: 'object',
      additionalProperties: false,
      properties: {
        keepDays: { description: 'days of local archive kept', type: 'integer', minimum: 1 },
      },
    },
    admin: {
      description: 'the local admin page and HTTP API served by `cfx run` (absent: not served)',
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: { description: 'host:port to listen on (default 127.0.0.1:8730); a non-loopback host needs a token', type: 'string', pattern: ADMIN_LISTEN_PATTERN },
        token: { description: 'bearer token required for every state-changing call', type: 'string', minLength: 16, 'x-secret': true },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: {
        level: { enum: [...LOG_LEVELS] },
        file: nonEmpty('log file, relative to the config file; default stderr'),
        rotate: {
          description: 'rotation of log.file: a new file at `size` and every day (or hour), `keep` old files kept; true: the defaults; false: plain append (an external logrotate)',
          type: ['boolean', 'object'],
          additionalProperties: false,
          properties: {
            size: { description: 'largest size of one log file (at least 1KB)', 'x-size': { min: 1024 } },
            frequency: { description: 'a new file every day or every hour', enum: ['daily', 'hourly'] },
            keep: { description: 'old log files kept beside the current one', type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
      },
    },
  },
};
