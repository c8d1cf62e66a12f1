// The shapes the data module hands out. Resolver types are generated against
// these (codegen `mappers`), so a field whose stored shape differs from the
// GraphQL shape needs a resolver and everything else resolves by default.

export type CreditRole = 'WRITER' | 'EDITOR' | 'COVER';
export type TeaserKind = 'HOT' | 'LATEST';
export type RelatedKind = TeaserKind | 'RELATED';

export interface ParagraphBlock {
  type: 'paragraph';
  text: string;
}

export interface ImageBlock {
  type: 'image';
  caption: string | null;
  url: string | null;
}

export type ContentBlock = ParagraphBlock | ImageBlock;

export interface SectionRecord {
  id: string;
  slug: string;
  name: string;
  parentId: string | null;
  position: number;
}

export interface CreditRecord {
  role: CreditRole;
  /** The role's label as written, e.g. 撰文. */
  label: string;
  name: string;
}

export interface TagRecord {
  id: string;
  slug: string;
  name: string;
}

export interface ArticleRecord {
  id: string;
  slug: string;
  title: string;
  sourceName: string | null;
  sourceUrl: string | null;
  /** Epoch milliseconds. */
  publishedAt: number;
  sectionId: string;
  body: ContentBlock[];
  excerpt: string;
  wordCount: number;
  readingMinutes: number;
  version: number;
  /** DRAFT articles are editors' only; PUBLISHED ones are public once `publishedAt` has passed. */
  status: ArticleStatus;
  /** Set when the article was deleted (it can be restored). */
  deletedAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** The name of the editor token that created or last changed it; null for imported pages. */
  createdBy: string | null;
  updatedBy: string | null;
}

/**
 * An article without its body, as lists that show no body read it: turning
 * each row's body into a string was more than half of what such a list took.
 */
export type ArticleSummary = Omit<ArticleRecord, 'body'>;

export type ArticleStatus = 'DRAFT' | 'PUBLISHED';

/** A curated teaser as stored: one entry of a section's 热点 or 最近更新 list. */
export interface TeaserRecord {
  sectionId: string;
  kind: TeaserKind;
  position: number;
  title: string | null;
  summary: string | null;
  url: string | null;
  publishedAt: number | null;
  articleId: string | null;
}

/** Why a related article was chosen. */
export interface RelatedReasonRecord {
  keywords: string[];
  tags: TagRecord[];
  score: number;
}

/** What `Article.related` returns: a curated teaser or a teaser made from one of our articles. */
export interface RelatedItemRecord {
  kind: RelatedKind;
  title: string | null;
  summary: string | null;
  url: string | null;
  publishedAt: number | null;
  articleId: string | null;
  reason: RelatedReasonRecord | null;
}

/** The editable state of an article: what an editor changes and what a revision keeps. */
export type ArticleSnapshot = Pick<
  ArticleRecord,
  'slug' | 'title' | 'sourceName' | 'sourceUrl' | 'publishedAt' | 'sectionId' | 'body' | 'status' | 'deletedAt'
> & {
  credits: CreditRecord[];
  /** Tag names, in order. */
  tags: string[];
};

/** An earlier state of an article, kept when it was changed. */
export interface ArticleRevisionRecord {
  articleId: string;
  /** The version the article had in this state. */
  version: number;
  snapshot: ArticleSnapshot;
  /** When the state was replaced, and by whom. */
  replacedAt: number;
  replacedBy: string | null;
}
