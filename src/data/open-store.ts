import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import { storeFailureKind } from './errors.js';
import { postgresSearchIndex, sqliteSearchIndex } from './search-index.js';
import { SqlStore } from './sql-store.js';
import type { ContentStore, QueryEvent } from './store.js';
import type { Database } from './tables.js';

const STATEMENT_CACHE = 500;
/**
 * How long a statement waits for another process's write lock before it
 * fails. better-sqlite3 waits synchronously, holding up every request in
 * this process meanwhile, so the wait is kept short.
 */
const BUSY_TIMEOUT_MS = 5000;

/** The ROLLBACK of a transaction SQLite has already rolled back: nothing to do. */
const ALREADY_ROLLED_BACK: SqliteStatement = {
  reader: false,
  all: () => [],
  run: () => ({ changes: 0, lastInsertRowid: 0 }),
  iterate: () => [][Symbol.iterator](),
};

/**
 * The SQLite connection the store runs on, which may be replaced: a store
 * opened read-only is opened again for writing once its file can be
 * written (see `openStore`).
 */
interface SqliteHandle {
  sqlite: SQLite.Database;
  /** Why it is open read-only, or null. */
  readOnly: string | null;
}

/**
 * Kysely prepares every statement it runs anew; SQLite's compile step was a
 * tenth of a bulk load's time. Prepared statements are reused by their SQL
 * text, keeping the most recently used few hundred. `forget` drops them
 * (the connection they belong to is being replaced).
 */
function withStatementCache(handle: SqliteHandle): SqliteDatabase & { forget(): void } {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close() {
      const { sqlite } = handle;
      if (!sqlite.readonly && !sqlite.memory) leaveAsOneFile(sqlite);
      sqlite.close();
    },
    forget: () => cache.clear(),
    prepare(text: string) {
      const { sqlite } = handle;
      // SQLite rolls a transaction back itself when a write fails for want of disk space (and on
      // some I/O errors), so the ROLLBACK Kysely sends after the failure finds no transaction.
      // Run, it would fail, and its "cannot rollback" would replace the error that says why.
      if (text === 'rollback' && !sqlite.inTransaction) return ALREADY_ROLLED_BACK;
      // Every transaction here writes. A deferred one reads first and fails with "database is
      // locked" when another process committed in between (SQLite cannot upgrade a stale read in
      // WAL mode, and does not wait); an immediate one waits for the write lock (busy_timeout) and
      // then reads what the other process wrote. This is what makes several instances starting on
      // one fresh store migrate and seed it once, in turn.
      const sql = text === 'begin' ? 'begin immediate' : text;
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

/** How often a store opened read-only checks whether its file can be written again. */
const WRITABLE_AGAIN_CHECK_MS = 500;

export interface OpenStoreOptions {
  /** Called after every statement the store runs. */
  onQuery?: (event: QueryEvent) => void;
  /** PostgreSQL only: the schema to work in (tests give each store its own). */
  searchPath?: string;
  /**
   * Bulk work from the command line (import, export, the corpus generator):
   * no statement timeout. The request deadline bounds the statements that
   * serve requests; an import's final VACUUM of 100,000 articles took longer
   * than its 10 s on a slow machine and was cancelled after the import had
   * committed.
   */
  bulk?: boolean;
  /**
   * PostgreSQL only: an idle connection failed (the server restarted or went
   * away). The pool has already dropped it; this is for the log.
   */
  onConnectionError?: (error: Error) => void;
}

/** Opens the store a DATABASE_URL names. The caller runs `migrate()`. */
export function openStore(config: DatabaseConfig, options: OpenStoreOptions = {}): ContentStore {
  if (config.kind === 'postgres') return openPostgresStore(config, options);
  const { path } = config;
  const readOnly = path === ':memory:' ? null : whyReadOnly(path);
  const handle: SqliteHandle = { sqlite: readOnly === null ? openWritable(path) : openReadOnly(path, readOnly), readOnly };
  const database = withStatementCache(handle);
  // A read-only mount made writable again (or permissions fixed) takes writes again without a
  // restart: the connection is replaced between statements, never inside a transaction.
  const writableAgain =
    readOnly === null
      ? null
      : setInterval(() => {
          if (whyReadOnly(path) !== null || handle.sqlite.inTransaction) return;
          let writable: SQLite.Database;
          try {
            writable = openWritable(path);
          } catch {
            return; // Still not writable in some way access() cannot tell; the next tick tries again.
          }
          const old = handle.sqlite;
          database.forget();
          handle.sqlite = writable;
          handle.readOnly = null;
          old.close();
          clearInterval(writableAgain!);
        }, WRITABLE_AGAIN_CHECK_MS);
  writableAgain?.unref();
  const { onQuery } = options;
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({
      database: {
        ...database,
        close() {
          if (writableAgain) clearInterval(writableAgain);
          database.close();
        },
      },
    }),
    log: onQuery
      ? (event) => {
          if (event.level === 'query') onQuery({ sql: event.query.sql, durationMs: event.queryDurationMillis });
        }
      : undefined,
  });
  return new SqlStore(db, sqliteSearchIndex, undefined, () => handle.readOnly);
}

function openWritable(path: string): SQLite.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // First, so that everything after it waits for another process's lock instead of failing.
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // WAL lets readers proceed while an import writes; NORMAL sync is durable
  // across process crashes in WAL mode, which is the failure that matters here.
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
  } catch (error) {
    // No room on the disk for the -wal and -shm files: the store stays in rollback mode (as the last
    // instance left it, see `leaveAsOneFile`) and serves reads; writes fail with SQLITE_FULL until
    // space returns, and then work, synced in full as rollback mode needs. WAL is back from the next start.
    if (storeFailureKind(error) !== 'full') throw error;
  }
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

/**
 * Why the SQLite file at `path` cannot be written (a read-only mount, or the
 * permissions of the file or of its folder, where SQLite keeps its journal),
 * or null when it can be, or does not exist yet and is to be created.
 */
function whyReadOnly(path: string): string | null {
  if (!existsSync(path)) return null;
  for (const [target, what] of [
    [path, 'file'],
    [dirname(path), 'folder'],
  ] as const) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      return `the store is read-only: its ${what} cannot be written (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`;
    }
  }
  return null;
}

/**
 * A store whose file cannot be written, opened to serve reads. Nothing is
 * set that would write (the journal mode); every write fails with
 * SQLITE_READONLY, which the API layer answers with STORE_READ_ONLY.
 */
function openReadOnly(path: string, reason: string): SQLite.Database {
  const sqlite = new SQLite(path, { readonly: true, fileMustExist: true });
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  try {
    // SQLite reads the file on the first statement, not on open.
    sqlite.prepare('SELECT count(*) FROM sqlite_schema').get();
  } catch (error) {
    sqlite.close();
    // A WAL-mode file is readable only beside its -wal and -shm files, which SQLite cannot create
    // here (and better-sqlite3 cannot pass SQLite's immutable=1). A store whose last instance stopped
    // cleanly is one file in rollback mode (`leaveAsOneFile`); one whose last instance crashed still
    // has both files. What fails here is a WAL-mode file without them: one last closed by an older
    // newsgraph, or copied away from them.
    const hint =
      (error as { code?: unknown }).code === 'SQLITE_CANTOPEN'
        ? `: it is in WAL mode without its -wal and -shm files. Start newsgraph on it once where it can be written and stop it; the last instance to stop leaves the store as one file, readable read-only anywhere`
        : '';
    throw new Error(`cannot open the SQLite store ${path} (${reason})${hint}`, { cause: error });
  }
  return sqlite;
}

/**
 * Turns the store from WAL to rollback-journal mode as its last connection
 * closes, so that it is one file again: SQLite opens a WAL-mode file
 * read-only only beside its -wal and -shm files, and cannot create them on a
 * read-only mount. The next instance to open the store turns WAL back on.
 * While another instance has the store open the change is refused at once
 * (SQLITE_BUSY) and the store is left as it is; on a full disk it fails too,
 * and the WAL is kept with everything in it (SQLite deletes the WAL only
 * after copying all of it into the file).
 */
function leaveAsOneFile(sqlite: SQLite.Database): void {
  try {
    sqlite.pragma('journal_mode = DELETE');
  } catch {
    // Left in WAL mode, as explained above; closing then checkpoints what it can.
  }
}

// PostgreSQL's bigint comes back as a string by default (it may not fit a JavaScript number);
// the store's bigints are epoch milliseconds and counts, which do.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);

/**
 * The PostgreSQL store: the same SqlStore over a `pg` pool of `poolSize`
 * connections. Each connection stops a statement after the request deadline
 * (`statement_timeout`, so a statement still running when its request gives
 * up is stopped by the database as well) and stops waiting for another
 * session's lock after `lockTimeoutMs` (a table held by a long lock then
 * costs its readers a fast 503, and their connections go back to the pool
 * for requests that do not touch it). Waiting for a connection is bounded by
 * the deadline too. `bulk` work has none of these limits.
 *
 * The database may go away (a restart, a crash, a failover): an idle
 * connection that the server closes emits `error` on the pool, which must
 * be listened for or it ends the process; the pool drops that connection
 * and opens a new one on demand, so the store serves again as soon as the
 * server is back, with no restart.
 */
function openPostgresStore(
  config: Extract<DatabaseConfig, { kind: 'postgres' }>,
  { onQuery, searchPath, bulk = false, onConnectionError = () => {} }: OpenStoreOptions,
): ContentStore {
  const settings = bulk
    ? ['-c statement_timeout=0']
    : [`-c statement_timeout=${config.statementTimeoutMs}`, `-c lock_timeout=${config.lockTimeoutMs}`];
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    options: [...settings, ...(searchPath ? [`-c search_path=${searchPath}`] : [])].join(' '),
    // A dead peer (a cut link, a frozen server) is noticed by TCP keepalives and by the client's own
    // timeout, which the database's statement_timeout cannot provide when the server does not answer.
    keepAlive: true,
    // The request's own deadline gives up on a wait for a connection; this takes the abandoned waiter
    // out of the pool's queue (never under a second: opening a connection takes a few milliseconds).
    ...(bulk
      ? {}
      : { connectionTimeoutMillis: Math.max(config.statementTimeoutMs, 1000), query_timeout: config.statementTimeoutMs + 1000 }),
  });
  pool.on('error', onConnectionError);
  // The pool listens for errors only on idle connections; one checked out between two statements
  // (a query just finished, the next not yet sent) that the server closes would emit an error
  // nobody hears, which ends the process. The pool drops such a connection when it comes back.
  pool.on('connect', (client) => client.on('error', onConnectionError));
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: onQuery
      ? (event) => {
          if (event.level === 'query') onQuery({ sql: event.query.sql, durationMs: event.queryDurationMillis });
        }
      : undefined,
  });
  return new SqlStore(db, postgresSearchIndex, searchPath);
}
