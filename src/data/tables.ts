import type { Generated } from 'kysely';

// Row shapes of the tables the migrations create. Times are epoch milliseconds.

export interface SectionsTable {
  id: Generated<number>;
  slug: string;
  name: string;
  parent_id: number | null;
  position: number;
  created_at: number;
}

export interface ArticlesTable {
  id: Generated<number>;
  slug: string;
  title: string;
  source_name: string | null;
  source_url: string | null;
  published_at: number;
  section_id: number;
  /** JSON array of content blocks. */
  body: string;
  excerpt: string;
  word_count: number;
  reading_minutes: number;
  version: Generated<number>;
  created_at: number;
  updated_at: number;
  status: Generated<string>;
  deleted_at: number | null;
  created_by: string | null;
  updated_by: string | null;
}

export interface ArticleRevisionsTable {
  article_id: number;
  /** The article's version when it was in this state. */
  version: number;
  /** JSON of the article's editable state (see ArticleSnapshot). */
  snapshot: string;
  created_at: number;
  created_by: string | null;
}

export interface CreditsTable {
  article_id: number;
  position: number;
  role: string;
  label: string;
  name: string;
}

export interface TagsTable {
  id: Generated<number>;
  slug: string;
  name: string;
}

export interface ArticleTagsTable {
  article_id: number;
  tag_id: number;
  position: number;
  /** The article's publication time (kept in step with `articles.published_at`). */
  published_at: number;
}

export interface TeasersTable {
  section_id: number;
  kind: string;
  position: number;
  title: string | null;
  summary: string | null;
  url: string | null;
  published_at: number | null;
  article_id: number | null;
  /** When this list was curated: a page's publication time for imported lists. */
  curated_at: number;
}

export interface SearchTermsTable {
  term: string;
  /** How many articles hold the term. */
  articles: number;
}

export interface PendingPurgesTable {
  id: Generated<number>;
  /** JSON array of cache tags; `["*"]` is everything. */
  tags: string;
  created_at: number;
}

export interface Database {
  sections: SectionsTable;
  articles: ArticlesTable;
  credits: CreditsTable;
  tags: TagsTable;
  article_tags: ArticleTagsTable;
  teasers: TeasersTable;
  search_terms: SearchTermsTable;
  article_revisions: ArticleRevisionsTable;
  pending_purges: PendingPurgesTable;
}
