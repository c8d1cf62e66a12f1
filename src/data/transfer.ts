import { createHash, type Hash } from 'node:crypto';
import type { ArticleRecord, ArticleRevisionRecord, CreditRecord, TeaserKind } from './types.js';

/*
 * The store's whole content as a stream of records, in an order that can be
 * written back as read (parents before children, articles before the teaser
 * lists that point at them): what `npm run export` writes as JSON Lines and
 * `npm run import` reads. Ids, versions, revisions, editorial state and
 * times are kept, so content moves between stores without losing anything.
 * What can be derived (excerpts, word counts, the search index, term
 * statistics) is not carried; the importing store derives it again.
 */

export interface SectionTransfer {
  type: 'section';
  id: string;
  parentId: string | null;
  slug: string;
  name: string;
  position: number;
  createdAt: number;
}

export interface TagTransfer {
  type: 'tag';
  id: string;
  slug: string;
  name: string;
}

/** An article as stored, less what is derived from its text (excerpt, counts), with its credits, tags and revisions. */
export type ArticleTransfer = { type: 'article' } & Omit<ArticleRecord, 'excerpt' | 'wordCount' | 'readingMinutes'> & {
    credits: Pick<CreditRecord, 'role' | 'label' | 'name'>[];
    /** Tag ids, in order. */
    tagIds: string[];
    /** Earlier states, oldest first. */
    revisions: Omit<ArticleRevisionRecord, 'articleId'>[];
  };

export interface TeaserListTransfer {
  type: 'teasers';
  sectionId: string;
  kind: TeaserKind;
  curatedAt: number;
  items: { title: string | null; summary: string | null; url: string | null; publishedAt: number | null; articleId: string | null }[];
}

export type ContentTransfer = SectionTransfer | TagTransfer | ArticleTransfer | TeaserListTransfer;

export interface TransferCounts {
  sections: number;
  tags: number;
  articles: number;
  revisions: number;
  teaserLists: number;
}

/** Counts and a SHA-256 over the records' canonical JSON lines, in stream order: equal sums mean equal content. */
export class TransferSum {
  readonly counts: TransferCounts = { sections: 0, tags: 0, articles: 0, revisions: 0, teaserLists: 0 };
  private readonly hash: Hash = createHash('sha256');
  private digested: string | null = null;

  /** Adds one record; returns its line (without the newline). */
  add(record: ContentTransfer): string {
    if (this.digested) throw new Error('a record was added after the checksum was taken');
    const line = JSON.stringify(record);
    this.hash.update(line).update('\n');
    if (record.type === 'section') this.counts.sections++;
    else if (record.type === 'tag') this.counts.tags++;
    else if (record.type === 'article') {
      this.counts.articles++;
      this.counts.revisions += record.revisions.length;
    } else this.counts.teaserLists++;
    return line;
  }

  /** The checksum of everything added; no record may be added after it is taken. */
  digest(): string {
    return (this.digested ??= `sha256:${this.hash.digest('hex')}`);
  }
}

export const EXPORT_FORMAT = 'newsgraph-export';
export const EXPORT_VERSION = 1;

export interface ExportHeader {
  type: typeof EXPORT_FORMAT;
  version: number;
  exportedAt: string;
}

export interface ExportSummary {
  type: 'summary';
  counts: TransferCounts;
  checksum: string;
}
