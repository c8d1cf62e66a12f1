import { makeExcerpt } from '../text/excerpt.js';
import { measureBody } from '../text/measure.js';
import type { ParsedPage } from './page.js';
import { type SearchDocument, searchDocument } from './search-document.js';
import type { ContentBlock } from './types.js';

/** What is computed from an article's title and body whenever they change; segmentation dominates it. */
export interface DerivedFields {
  bodyJson: string;
  excerpt: string;
  wordCount: number;
  readingMinutes: number;
  search: SearchDocument;
}

export function deriveFields(title: string, body: readonly ContentBlock[]): DerivedFields {
  return {
    bodyJson: JSON.stringify(body),
    excerpt: makeExcerpt(body),
    ...measureBody(body),
    search: searchDocument(title, body),
  };
}

/**
 * A parsed page with everything derived from its text computed: the CPU half
 * of saving an article. Pure and plain data, so bulk loads can prepare pages
 * on worker threads while the store writes.
 */
export interface PreparedPage extends DerivedFields {
  page: ParsedPage;
}

export function preparePage(page: ParsedPage): PreparedPage {
  return { page, ...deriveFields(page.title, page.body) };
}
