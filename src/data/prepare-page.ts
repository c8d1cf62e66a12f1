import type { ParsedPage } from '../ingest/parse-page.js';
import { makeExcerpt } from '../text/excerpt.js';
import { measureBody } from '../text/measure.js';
import { searchDocument, type SearchDocument } from './search-document.js';

/**
 * A parsed page with everything derived from its text computed: the CPU
 * half of saving an article (segmentation dominates it). Pure and plain data,
 * so bulk loads can prepare pages on worker threads while the store writes.
 */
export interface PreparedPage {
  page: ParsedPage;
  bodyJson: string;
  excerpt: string;
  wordCount: number;
  readingMinutes: number;
  search: SearchDocument;
}

export function preparePage(page: ParsedPage): PreparedPage {
  return {
    page,
    bodyJson: JSON.stringify(page.body),
    excerpt: makeExcerpt(page.body),
    ...measureBody(page.body),
    search: searchDocument(page.title, page.body),
  };
}
