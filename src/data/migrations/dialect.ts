import { type ColumnDefinitionBuilder, type Kysely, PostgresAdapter } from 'kysely';

/** Whether a migration runs on PostgreSQL (otherwise SQLite). */
export function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** An integer primary key the database numbers: `integer … autoincrement` on SQLite, `serial` on PostgreSQL. */
export function generatedId(
  db: Kysely<unknown>,
): [type: 'serial' | 'integer', build: (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder] {
  return isPostgres(db) ? ['serial', (c) => c.primaryKey()] : ['integer', (c) => c.primaryKey().autoIncrement()];
}
