import type { ContentBlock, CreditRecord, TeaserKind } from './types.js';

/**
 * One page of the portal as the store takes it (`savePage`): the article,
 * the breadcrumb of sections it sits under, and the teaser lists the page
 * showed. The page-text parser (src/ingest/parse-page.ts) produces it.
 */
export interface ParsedPage {
  slug: string;
  /** Section names from the top of the breadcrumb down; missing sections are created. */
  sectionPath: string[];
  title: string;
  sourceName: string | null;
  /** Epoch milliseconds. */
  publishedAt: number;
  body: ContentBlock[];
  credits: CreditRecord[];
  tags: string[];
  teasers: ParsedTeaser[];
}

/** One line of a page's 热点 or 最近更新 module. */
export interface ParsedTeaser {
  kind: TeaserKind;
  text: string;
}
