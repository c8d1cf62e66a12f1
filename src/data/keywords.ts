import DataLoader from 'dataloader';
import { type RankedTerm, rankTerms, surfaceForm, termCounts } from '../text/keywords.js';
import { bodyText } from '../text/measure.js';
import { topicalWords } from '../text/segment.js';
import type { ContentStore } from './store.js';
import type { ArticleRecord } from './types.js';

/** How many keywords are kept per article; `Article.keywords(first:)` takes at most this many. */
export const MAX_KEYWORDS = 20;
/** The schema's default for `Article.keywords(first:)`. */
export const DEFAULT_KEYWORDS = 8;

export interface ArticleKeywords {
  /** Normalized terms (as indexed), most characteristic first. */
  terms: RankedTerm[];
  /** How many articles the archive held when they were ranked. */
  documents: number;
  /** The same terms as the article writes them. */
  display: string[];
}

/**
 * Keywords of a batch of articles with one look-up of the archive's term
 * statistics for all of them. They are computed when asked, so they always
 * reflect the archive as it is now, not as it was when the article was saved.
 */
export function createKeywordLoader(store: ContentStore, documentCount: () => Promise<number>) {
  return new DataLoader<ArticleRecord, ArticleKeywords, string>(
    async (articles) => {
      const counts = articles.map((a) => termCounts(topicalWords(a.title), topicalWords(bodyText(a.body))));
      const terms = [...new Set(counts.flatMap((c) => [...c.keys()]))];
      const [frequencies, documents] = await Promise.all([store.termDocumentFrequencies({ terms }), documentCount()]);
      return articles.map((article, i) => {
        const ranked = rankTerms(counts[i]!, frequencies, documents).slice(0, MAX_KEYWORDS);
        const text = `${article.title}\n${bodyText(article.body)}`;
        return { terms: ranked, documents, display: ranked.map((r) => surfaceForm(r.term, text)) };
      });
    },
    { cacheKeyFn: (article) => `${article.id}@${article.version}`, maxBatchSize: 100 },
  );
}
