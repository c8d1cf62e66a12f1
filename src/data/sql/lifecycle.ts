import { Migrator, sql } from 'kysely';
import { migrationProvider } from '../migrations/index.js';
import type { StoreReadiness } from '../store.js';
import type { SqlHandle } from './handle.js';

// Bringing a store up: migrations, readiness, the start-up lock.

/** How this store was opened, as far as migrations and readiness care. */
export interface Opening {
  /** The PostgreSQL schema the store lives in, when not the default: Kysely looks for its migration tables by schema. */
  schema?: string;
  /** SQLite only: why the store is open read-only now (its file cannot be written), or null when it takes writes. */
  readOnlyNow: () => string | null;
}

function migrator(h: SqlHandle, opening: Opening): Migrator {
  return new Migrator({ db: h.db, provider: migrationProvider, ...(opening.schema ? { migrationTableSchema: opening.schema } : {}) });
}

/**
 * Runs every pending migration. Safe when several instances start at once:
 * on SQLite, where Kysely's migration lock does nothing across processes,
 * the whole run is one immediate transaction, so the others wait for the
 * write lock, then find the migrations done; a failed run leaves nothing.
 * (On PostgreSQL, Kysely takes an advisory lock.) A store opened read-only
 * is only checked: it serves reads if every migration has run, and refuses
 * to start otherwise.
 */
export async function migrate(h: SqlHandle, opening: Opening): Promise<void> {
  if (opening.readOnlyNow() !== null) {
    const pending = await pendingMigrations(h, opening);
    if (pending.length)
      throw new Error(
        `${opening.readOnlyNow()}, and migrations ${pending.join(', ')} have not run: run them once where the store can be written`,
      );
    return;
  }
  const sqlite = !h.postgres;
  if (sqlite) await sql`begin immediate`.execute(h.db);
  try {
    const { error, results } = await migrator(h, opening).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`migration ${failed} failed`, { cause: error });
    }
    if (sqlite) await sql`commit`.execute(h.db);
  } catch (error) {
    if (sqlite) await sql`rollback`.execute(h.db).catch(() => undefined);
    throw error;
  }
}

export async function checkReady(h: SqlHandle, opening: Opening): Promise<StoreReadiness> {
  const pending = await pendingMigrations(h, opening);
  if (pending.length) throw new Error(`migrations not run: ${pending.join(', ')}`);
  const readOnly = opening.readOnlyNow();
  if (readOnly !== null) return { writable: false, reason: readOnly };
  if (h.postgres) {
    // A standby (after a failover, say) or a database set read-only answers reads and refuses every write (25006).
    const { rows } = await sql<{ readOnly: string }>`SELECT current_setting('transaction_read_only') AS "readOnly"`.execute(h.db);
    if (rows[0]?.readOnly === 'on')
      return {
        writable: false,
        reason: 'the store is read-only: the PostgreSQL server takes no writes (a standby, or default_transaction_read_only)',
      };
  }
  return { writable: true };
}

async function pendingMigrations(h: SqlHandle, opening: Opening): Promise<string[]> {
  const migrations = await migrator(h, opening).getMigrations();
  return migrations.filter((m) => !m.executedAt).map((m) => m.name);
}

export async function isEmpty(h: SqlHandle): Promise<boolean> {
  const row = await h.db.selectFrom('articles').select('id').limit(1).executeTakeFirst();
  return row === undefined;
}

/** How long an instance waits for another's migrating and seeding before it gives up, and how often it looks. */
const STARTUP_LOCK_WAIT_MS = 120_000;
const STARTUP_LOCK_POLL_MS = 100;

export async function withStartupLock<T>(h: SqlHandle, work: () => Promise<T>): Promise<T> {
  // SQLite: every write transaction is immediate, so seeding is already taken in turn, and a
  // second seeding finds every page unchanged. PostgreSQL: two instances inserting the same
  // seed page would collide on its slug, so the whole seeding holds a session advisory lock,
  // keyed by schema, on a connection of its own (PG_POOL_SIZE is at least 2 for this).
  // The lock is tried rather than waited for: pg_advisory_lock would be cancelled by the
  // connection's lock_timeout (PG_LOCK_TIMEOUT_MS, a second by default), and an instance seeding
  // a large page set holds it longer than that. Bounded: STARTUP_LOCK_WAIT_MS, then it says who waits.
  if (!h.postgres) return work();
  return h.db.connection().execute(async (connection) => {
    const key = sql`hashtext('newsgraph start-up ' || current_schema())`;
    const giveUpAt = Date.now() + STARTUP_LOCK_WAIT_MS;
    for (;;) {
      const { rows } = await sql<{ locked: boolean }>`SELECT pg_try_advisory_lock(${key}) AS locked`.execute(connection);
      if (rows[0]?.locked) break;
      if (Date.now() >= giveUpAt) {
        throw new Error(
          `another instance has held the start-up lock (migrating or seeding this store) for ${STARTUP_LOCK_WAIT_MS / 1000} s; start this one again once it is up`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, STARTUP_LOCK_POLL_MS));
    }
    try {
      return await work();
    } finally {
      await sql`SELECT pg_advisory_unlock(${key})`.execute(connection);
    }
  });
}
