import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
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

/**
 * Kysely prepares every statement it runs anew; SQLite's compile step was a
 * tenth of a bulk load's time. Prepared statements are reused by their SQL
 * text, keeping the most recently used few hundred.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
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
}

/** Opens the store a DATABASE_URL names. The caller runs `migrate()`. */
export function openStore(config: DatabaseConfig, options: OpenStoreOptions = {}): ContentStore {
  if (config.kind === 'postgres') return openPostgresStore(config, options);
  if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
  const sqlite = new SQLite(config.path);
  // WAL lets readers proceed while an import writes; NORMAL sync is durable
  // across process crashes in WAL mode, which is the failure that matters here.
  // First, so that everything after it waits for another process's lock instead of failing.
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  const { onQuery } = options;
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
    log: onQuery
      ? (event) => {
          if (event.level === 'query') onQuery({ sql: event.query.sql, durationMs: event.queryDurationMillis });
        }
      : undefined,
  });
  return new SqlStore(db, sqliteSearchIndex);
}

// PostgreSQL's bigint comes back as a string by default (it may not fit a JavaScript number);
// the store's bigints are epoch milliseconds and counts, which do.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);

/**
 * The PostgreSQL store: the same SqlStore over a `pg` pool of `poolSize`
 * connections, each with `statement_timeout` set to the request deadline so
 * a statement still running when its request gives up is stopped by the
 * database as well (none for `bulk` work).
 */
function openPostgresStore(config: Extract<DatabaseConfig, { kind: 'postgres' }>, { onQuery, searchPath, bulk = false }: OpenStoreOptions): ContentStore {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    options: [`-c statement_timeout=${bulk ? 0 : config.statementTimeoutMs}`, ...(searchPath ? [`-c search_path=${searchPath}`] : [])].join(' '),
  });
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
