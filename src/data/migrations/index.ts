import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './001_initial.js';
import * as search from './002_search.js';
import * as editorial from './003_editorial.js';
import * as searchTitles from './004_search_titles.js';
import * as pendingPurges from './005_pending_purges.js';

// Migrations are listed here rather than read from a folder, so they work the
// same from source, from a build and inside a bundle. Names sort in order.
const migrations: Record<string, Migration> = {
  '001_initial': initial,
  '002_search': search,
  '003_editorial': editorial,
  '004_search_titles': searchTitles,
  '005_pending_purges': pendingPurges,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
