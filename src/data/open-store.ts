import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { DatabaseConfig } from '../config.js';
import { sqliteSearchIndex } from './search-index.js';
import { SqlStore } from './sql-store.js';
import type { ContentStore, QueryEvent } from './store.js';
import type { Database } from './tables.js';

const STATEMENT_CACHE = 500;

/**
 * Kysely prepares every statement it runs anew; SQLite's compile step was a
 * tenth of a bulk load's time. Prepared statements are reused by their SQL
 * text, keeping the most recently used few hundred.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
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
}

/** Opens the store a DATABASE_URL names. The caller runs `migrate()`. */
export function openStore(config: DatabaseConfig, options: OpenStoreOptions = {}): ContentStore {
  if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
  const sqlite = new SQLite(config.path);
  // WAL lets readers proceed while an import writes; NORMAL sync is durable
  // across process crashes in WAL mode, which is the failure that matters here.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
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
