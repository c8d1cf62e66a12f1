import type { Kysely } from 'kysely';
import type { SearchIndex } from '../search-index.js';
import type { StatementShapes } from '../statement-shapes.js';
import type { Database } from '../tables.js';

/**
 * What every SQL function of the store works with: the database, the
 * engine's search index, and the per-page statements compiled once per
 * shape. Built once by SqlStore and passed as the first argument.
 */
export interface SqlHandle {
  readonly db: Kysely<Database>;
  readonly search: SearchIndex;
  readonly shapes: StatementShapes<Database>;
  /** PostgreSQL, or else SQLite: where the two differ in locking and maintenance, not in queries. */
  readonly postgres: boolean;
}
