import { indexTerms } from '../text/segment.js';
import type { ContentBlock } from './types.js';

/** What the search index holds for an article: its segmented title and body, terms separated by spaces. */
export interface SearchDocument {
  title: string;
  body: string;
}

export function searchDocument(title: string, body: readonly ContentBlock[]): SearchDocument {
  const text = body.map((b) => (b.type === 'paragraph' ? b.text : (b.caption ?? ''))).join('\n');
  return { title: indexTerms(title).join(' '), body: indexTerms(text).join(' ') };
}
