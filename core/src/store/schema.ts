import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import Database from 'better-sqlite3';
import { CfxError, ErrorCodes } from '../api/errors.js';

export type Db = Database.Database;

export interface Migration {
  readonly version: number;
  up(db: Db): void;
}

/** the index of products.name_key; a full import drops it and builds it sorted at commit */
export const NAME_KEY_INDEX = 'products_name_key';
export const NAME_KEY_INDEX_SQL = `CREATE INDEX ${NAME_KEY_INDEX} ON products (name_key)`;

/**
 * A product's first barcode (NULL when it has none), as the lookup reads it: the expression of the
 * index products_barcode, so a query spells it this way (of its alias for products) for SQLite to
 * use the index. An expression, not a column: the rows of a full import carry nothing more (a column
 * measured +0.25 s of the build worker's CPU per 1M rows), and the one json_extract per row is paid
 * by the sorted CREATE INDEX at commit, which still costs less than the side table's json_each + sort.
 */
export const firstBarcode = (alias?: string): string => `json_extract(${alias ? `${alias}.` : ''}barcodes, '$[0]')`;
/** the index of firstBarcode(); a full import builds it once, sorted, at commit (as the name key's) */
export const BARCODE_INDEX = 'products_barcode';
// (first barcode, code): products sharing a barcode come in code order, as the side table's
// (barcode, product_code) key gives the others, so a search's order is one, whatever the catalog's history
export const BARCODE_INDEX_SQL = `CREATE INDEX ${BARCODE_INDEX} ON products (${firstBarcode()}, code)`;
/**
 * The side table from products.barcodes: every barcode after a product's first, sorted (random-order
 * index inserts cost ~2.5×). The instr() skips the JSON parse of a product with one barcode (no
 * `","` between two elements; a barcode holding `","` only costs its row the parse).
 */
export const REBUILD_BARCODES_SQL =
  'INSERT OR IGNORE INTO barcodes (barcode, product_code) SELECT j.value, p.code FROM products p, json_each(p.barcodes) j WHERE instr(p.barcodes, \'","\') AND j.key > 0 ORDER BY 1, 2';

/** What a name is searched by: lower case by Unicode rules (Cyrillic included), the same for the query. */
export const nameKey = (name: string): string => name.toLowerCase();

/*
 * Append-only: a shipped migration is never edited, a change is a new entry with the next version.
 * products.barcodes (JSON array, file order) is the truth; the lookup index is derived from it:
 * an index on its first element (firstBarcode), and the barcodes table for the rest, keyed by
 * barcode so it is ONE b-tree (version 4; before it every barcode was in the side table). A full
 * import skips both row by row and builds them sorted at commit: random-order inserts into a
 * barcode index were the import's main cost.
 */
export const CATALOG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) =>
      db.exec(`
        CREATE TABLE products (
          code TEXT PRIMARY KEY NOT NULL,
          barcodes TEXT NOT NULL DEFAULT '[]',
          name TEXT NOT NULL,
          receipt_name TEXT,
          price INTEGER NOT NULL,
          unit TEXT,
          weighed INTEGER NOT NULL DEFAULT 0,
          group_code TEXT,
          tax_group TEXT,
          article TEXT,
          stock INTEGER,
          enabled INTEGER NOT NULL DEFAULT 1,
          extras TEXT
        );
        CREATE TABLE barcodes (
          barcode TEXT NOT NULL,
          product_code TEXT NOT NULL,
          PRIMARY KEY (barcode, product_code)
        ) WITHOUT ROWID;
        CREATE TABLE inbox_log (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          size INTEGER NOT NULL,
          mtime TEXT,
          sha256 TEXT NOT NULL,
          applied_at TEXT NOT NULL,
          records INTEGER NOT NULL,
          mode TEXT NOT NULL CHECK (mode IN ('full', 'delta')),
          UNIQUE (name, sha256)
        );
        CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
      `),
  },
  {
    // Catalog search by name prefix in any case, from an index (a LIKE over 1M names took seconds).
    // The key is written by JS (nameKey): SQLite's lower() folds ASCII only, and names are Cyrillic.
    // The function below exists on the migrating connection only and is not part of the schema, so
    // any other client (sqlite3 CLI, an older reader) can still read and write the file.
    version: 2,
    up: (db) => {
      db.function('cfx_name_key', { deterministic: true }, (name: unknown) => nameKey(String(name)));
      db.exec(`
        ALTER TABLE products ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
        UPDATE products SET name_key = cfx_name_key(name);
        CREATE INDEX products_name_key ON products (name_key);
      `);
    },
  },
  {
    // A delivery is an event, not a name: the same name (and even the same bytes) arriving again is a
    // new delivery. UNIQUE (name, sha256) made a fixed-name office's third write (A, B, A) look
    // "already applied" forever. Now a row stays open (confirmed_at NULL) only until the remote
    // delete is confirmed: that open row is what a crash leaves, and the only thing the next run may
    // treat as "already applied". `archived` is the archive path chosen inside the apply transaction,
    // so the archive step is idempotent (a crash after the move does not leave a second copy).
    // `skipped` / `skipped_lines`: what the decoder passed over ("no silent success").
    // Rows from version 2 are closed, except the newest: it may be a crash's leftover.
    version: 3,
    up: (db) =>
      db.exec(`
        CREATE TABLE inbox_log_v3 (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          size INTEGER NOT NULL,
          mtime TEXT,
          sha256 TEXT NOT NULL,
          applied_at TEXT NOT NULL,
          records INTEGER NOT NULL,
          mode TEXT NOT NULL CHECK (mode IN ('full', 'delta')),
          archived TEXT,
          skipped INTEGER NOT NULL DEFAULT 0,
          skipped_lines TEXT,
          confirmed_at TEXT
        );
        INSERT INTO inbox_log_v3 (id, name, size, mtime, sha256, applied_at, records, mode, confirmed_at)
          SELECT id, name, size, mtime, sha256, applied_at, records, mode,
                 CASE WHEN id = (SELECT max(id) FROM inbox_log) THEN NULL ELSE applied_at END FROM inbox_log;
        DROP TABLE inbox_log;
        ALTER TABLE inbox_log_v3 RENAME TO inbox_log;
        CREATE INDEX inbox_log_open ON inbox_log (name) WHERE confirmed_at IS NULL;
      `),
  },
  {
    // A product's first barcode indexed as an expression of products.barcodes: most products have
    // exactly one, and one CREATE INDEX measured cheaper at the end of a full import than the side
    // table filled by json_each and a sort (issue 20). The side table keeps the barcodes after the
    // first (products with 2+), so a lookup reads the expression's index, then the side table.
    // Written out, not the constants above: a shipped migration must not change with them.
    version: 4,
    up: (db) =>
      db.exec(`
        DELETE FROM barcodes;
        INSERT OR IGNORE INTO barcodes (barcode, product_code)
          SELECT j.value, p.code FROM products p, json_each(p.barcodes) j WHERE j.key > 0 ORDER BY 1, 2;
        CREATE INDEX products_barcode ON products (json_extract(barcodes, '$[0]'), code);
      `),
  },
];

export const JOURNAL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) =>
      db.exec(`
        CREATE TABLE sales (
          terminal_id TEXT NOT NULL,
          sale_id TEXT NOT NULL,
          time TEXT NOT NULL,
          local_date TEXT NOT NULL,
          kind TEXT NOT NULL,
          total INTEGER NOT NULL,
          body TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          recorded_at TEXT NOT NULL,
          PRIMARY KEY (terminal_id, sale_id)
        );
        CREATE INDEX sales_local_date ON sales (local_date);
        CREATE TABLE outbox (
          id INTEGER PRIMARY KEY,
          terminal_id TEXT NOT NULL,
          sale_id TEXT NOT NULL,
          dest TEXT NOT NULL,
          state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent')),
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          sent_at TEXT,
          remote_name TEXT,
          UNIQUE (terminal_id, sale_id, dest),
          FOREIGN KEY (terminal_id, sale_id) REFERENCES sales (terminal_id, sale_id)
        );
        CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';
        CREATE TABLE runs (
          id INTEGER PRIMARY KEY,
          job TEXT NOT NULL,
          started_at TEXT NOT NULL,
          finished_at TEXT,
          result TEXT NOT NULL DEFAULT 'running' CHECK (result IN ('ok', 'failed', 'partial', 'running')),
          files INTEGER NOT NULL DEFAULT 0,
          bytes INTEGER NOT NULL DEFAULT 0,
          error_code TEXT,
          error_message TEXT,
          details TEXT
        );
        CREATE INDEX runs_job ON runs (job, id);
        CREATE INDEX runs_job_result ON runs (job, result, id);
        CREATE TABLE quarantine (
          id INTEGER PRIMARY KEY,
          job TEXT NOT NULL,
          file_name TEXT NOT NULL,
          local_path TEXT NOT NULL,
          remote_path TEXT,
          reason TEXT NOT NULL,
          created_at TEXT NOT NULL,
          state TEXT NOT NULL DEFAULT 'quarantined' CHECK (state IN ('quarantined', 'retried', 'deleted'))
        );
        CREATE TABLE collected (
          terminal_id TEXT NOT NULL,
          sale_id TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          received_at TEXT NOT NULL,
          delivered_at TEXT,
          PRIMARY KEY (terminal_id, sale_id)
        ) WITHOUT ROWID;
        CREATE TABLE kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
      `),
  },
  {
    // The office's inbox and its delivery log. Version 1's `collected` table was a placeholder that
    // no cfx ever wrote to (it could not hold the sale itself), so it is replaced, not migrated.
    // A sale is collected once per (terminal, saleId); `batch_id` is the batch of its first delivery
    // (NULL: not yet handed to the back office). A batch is created with its sales assigned in one
    // transaction ('assigned'), handed to the adapter under its id, then marked 'delivered': a crash
    // in between re-delivers the same batch id, which adapters treat as one delivery.
    version: 2,
    up: (db) =>
      db.exec(`
        DROP TABLE collected;
        CREATE TABLE delivery_batches (
          id TEXT PRIMARY KEY NOT NULL,
          seq INTEGER NOT NULL UNIQUE,
          terminal_id TEXT NOT NULL,
          backoffice TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('new', 'redeliver')),
          state TEXT NOT NULL DEFAULT 'assigned' CHECK (state IN ('assigned', 'delivered')),
          sales INTEGER NOT NULL,
          from_date TEXT,
          to_date TEXT,
          created_at TEXT NOT NULL,
          delivered_at TEXT,
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT
        );
        CREATE INDEX delivery_batches_assigned ON delivery_batches (seq) WHERE state = 'assigned';
        CREATE TABLE collected (
          id INTEGER PRIMARY KEY,
          terminal_id TEXT NOT NULL,
          sale_id TEXT NOT NULL,
          time TEXT NOT NULL,
          local_date TEXT NOT NULL,
          kind TEXT NOT NULL,
          total INTEGER NOT NULL,
          body TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          file_name TEXT NOT NULL,
          received_at TEXT NOT NULL,
          batch_id TEXT REFERENCES delivery_batches (id),
          delivered_at TEXT,
          UNIQUE (terminal_id, sale_id)
        );
        CREATE INDEX collected_undelivered ON collected (terminal_id, id) WHERE batch_id IS NULL;
        CREATE INDEX collected_local_date ON collected (local_date);
        CREATE TABLE delivery_items (
          batch_id TEXT NOT NULL REFERENCES delivery_batches (id),
          collected_id INTEGER NOT NULL REFERENCES collected (id),
          PRIMARY KEY (batch_id, collected_id)
        ) WITHOUT ROWID;
        CREATE TABLE collected_files (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          size INTEGER NOT NULL,
          sha256 TEXT NOT NULL,
          sales INTEGER NOT NULL,
          stored INTEGER NOT NULL,
          duplicates INTEGER NOT NULL,
          collected_at TEXT NOT NULL
        );
        CREATE INDEX collected_files_name ON collected_files (name, sha256);
      `),
  },
  {
    // The fleet, terminal side (docs/fleet.md). A till's shift closes, one per terminal + shift,
    // with their outbox state in the same row (a close is pushed like a sale, and journaled and
    // queued in one statement). The resend requests of the office this till served, with the
    // receipt numbers its journal held for the period: what the status file's `resends` reports.
    // (The office's fleet tables are version 4.)
    version: 3,
    up: (db) =>
      db.exec(`
        CREATE TABLE shift_closes (
          terminal_id TEXT NOT NULL,
          shift INTEGER NOT NULL,
          closed_at TEXT NOT NULL,
          local_date TEXT NOT NULL,
          body TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          recorded_at TEXT NOT NULL,
          state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent')),
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          sent_at TEXT,
          remote_name TEXT,
          PRIMARY KEY (terminal_id, shift)
        );
        CREATE INDEX shift_closes_local_date ON shift_closes (local_date);
        CREATE TABLE resends_served (
          id INTEGER PRIMARY KEY,
          request TEXT NOT NULL,
          served_at TEXT NOT NULL,
          from_date TEXT NOT NULL,
          to_date TEXT NOT NULL,
          sales INTEGER NOT NULL,
          receipts TEXT NOT NULL
        );
      `),
  },
  {
    // The office's picture of its fleet (docs/fleet.md). `fleet_status`: the last status file read
    // per terminal (its body kept whole: a reader ignores fields it does not know, a newer terminal
    // may send more). `fleet_shifts`: shift closes collected from the sales dirs, one per terminal
    // + shift (the till journals one). `fleet_gaps`: every missing receipt number found, with its
    // resend requests (back-off: next_request_at) and its state — closed and acked rows stay as
    // the record. `fleet_published`: the last file office.publish put into each terminal's inbox,
    // what "catalog current or behind" compares the terminal's status with.
    version: 4,
    up: (db) =>
      db.exec(`
        CREATE TABLE fleet_status (
          terminal_id TEXT PRIMARY KEY NOT NULL,
          seq INTEGER NOT NULL,
          written_at TEXT NOT NULL,
          read_at TEXT NOT NULL,
          body TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE fleet_shifts (
          terminal_id TEXT NOT NULL,
          shift INTEGER NOT NULL,
          closed_at TEXT NOT NULL,
          local_date TEXT NOT NULL,
          first_receipt_no INTEGER,
          last_receipt_no INTEGER NOT NULL,
          totals TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          file_name TEXT NOT NULL,
          received_at TEXT NOT NULL,
          PRIMARY KEY (terminal_id, shift)
        ) WITHOUT ROWID;
        CREATE TABLE fleet_gaps (
          terminal_id TEXT NOT NULL,
          shift INTEGER NOT NULL,
          receipt_no INTEGER NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('open', 'requested', 'lost', 'closed', 'acked')),
          from_date TEXT NOT NULL,
          to_date TEXT NOT NULL,
          detected_at TEXT NOT NULL,
          requests INTEGER NOT NULL DEFAULT 0,
          first_request_at TEXT,
          last_request_at TEXT,
          next_request_at TEXT,
          request_name TEXT,
          ended_at TEXT,
          PRIMARY KEY (terminal_id, shift, receipt_no)
        ) WITHOUT ROWID;
        CREATE TABLE fleet_published (
          terminal_id TEXT PRIMARY KEY NOT NULL,
          name TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          published_at TEXT NOT NULL
        ) WITHOUT ROWID;
      `),
  },
];

export const latestVersion = (migrations: readonly Migration[]): number => migrations[migrations.length - 1]?.version ?? 0;

function tooNew(file: string, found: number, supported: number): CfxError {
  return new CfxError(
    ErrorCodes.STORE_VERSION,
    `${basename(file)} (${file}) has schema version ${found}, this cfx supports up to version ${supported}: ` +
      'it was written by a newer cfx; upgrade cfx or restore a backup',
    { details: { file, version: found, supported } },
  );
}

/**
 * Opens one store file with the pragmas every connection needs. Read-write: migrates to the latest
 * version. Read-only: the file must exist and already be at exactly the version this code knows,
 * since a reader cannot migrate and would otherwise fail on a missing table later.
 */
export function openDb(file: string, migrations: readonly Migration[], readonly: boolean, opts: { mustExist?: boolean } = {}): Db {
  const supported = latestVersion(migrations);
  if (readonly && !existsSync(file)) {
    throw new CfxError(ErrorCodes.STORE_IO, `${basename(file)} not found at ${file}: no cfx store here yet (run cfx once to create it)`, {
      details: { file },
    });
  }
  let db: Db | undefined;
  try {
    db = new Database(file, readonly ? { readonly: true, fileMustExist: true } : { fileMustExist: opts.mustExist === true });
    const found = db.pragma('user_version', { simple: true }) as number;
    if (found > supported) throw tooNew(file, found, supported);
    if (readonly && found < supported) {
      throw new CfxError(ErrorCodes.STORE_VERSION, `${file} has schema version ${found}, this cfx reads version ${supported}; run cfx once (not read-only) to migrate it`, {
        details: { file, version: found, supported },
      });
    }
    if (!readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    if (!readonly) migrate(db, file, migrations);
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof CfxError) throw e;
    throw new CfxError(ErrorCodes.STORE_IO, `cannot open ${file}: ${(e as Error).message}`, { cause: e, details: { file } });
  }
}

/** Each pending migration with its user_version bump in one IMMEDIATE transaction, so two processes starting at once cannot both migrate. */
export function migrate(db: Db, file: string, migrations: readonly Migration[]): void {
  const supported = latestVersion(migrations);
  // up to date: no write lock taken, so a store opens while a price import holds the catalog's lock
  if ((db.pragma('user_version', { simple: true }) as number) === supported) return;
  for (const m of migrations) {
    db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > supported) throw tooNew(file, current, supported);
      if (m.version <= current) return;
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}
