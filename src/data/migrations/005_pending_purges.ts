import type { Kysely } from 'kysely';
import { generatedId } from './dialect.js';

// Purges of the shared response cache that could not be delivered (Redis away when a write
// committed), kept in the store every instance shares until one of them delivers them.
export async function up(db: Kysely<unknown>): Promise<void> {
  const [idType, id] = generatedId(db);
  await db.schema
    .createTable('pending_purges')
    .addColumn('id', idType, id)
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('pending_purges').execute();
}
