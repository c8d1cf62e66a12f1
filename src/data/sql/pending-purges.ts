import type { PendingPurge } from '../store.js';
import type { SqlHandle } from './handle.js';

// Purges of the shared response cache kept until delivered (src/cache/shared-purges.ts).

export async function recordPendingPurge(h: SqlHandle, { tags }: { tags: readonly string[] | 'all' }): Promise<void> {
  await h.db
    .insertInto('pending_purges')
    .values({ tags: JSON.stringify(tags === 'all' ? ['*'] : tags), created_at: Date.now() })
    .execute();
}

export async function listPendingPurges(h: SqlHandle): Promise<PendingPurge[]> {
  const rows = await h.db.selectFrom('pending_purges').select(['id', 'tags']).orderBy('id').limit(1000).execute();
  return rows.map((row) => {
    const tags = JSON.parse(row.tags) as string[];
    return { id: row.id, tags: tags.includes('*') ? 'all' : tags };
  });
}

export async function forgetPendingPurges(h: SqlHandle, { ids }: { ids: readonly number[] }): Promise<void> {
  if (ids.length === 0) return;
  await h.db
    .deleteFrom('pending_purges')
    .where('id', 'in', [...ids])
    .execute();
}
