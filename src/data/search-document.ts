import { isKeywordCandidate } from '../text/keywords.js';
import { bodyText } from '../text/measure.js';
import { indexTerms } from '../text/segment.js';
import type { ContentBlock } from './types.js';

/** What the search index holds for an article: its segmented title and body, terms separated by spaces. */
export interface SearchDocument {
  title: string;
  body: string;
  /** The distinct terms that could be keywords, for the archive's term statistics. */
  terms: string[];
}

export function searchDocument(title: string, body: readonly ContentBlock[]): SearchDocument {
  const text = bodyText(body);
  const titleTerms = indexTerms(title);
  const bodyTerms = indexTerms(text);
  const terms = new Set<string>();
  for (const term of titleTerms) if (isKeywordCandidate(term)) terms.add(term);
  for (const term of bodyTerms) if (isKeywordCandidate(term)) terms.add(term);
  return { title: titleTerms.join(' '), body: bodyTerms.join(' '), terms: [...terms] };
}
