import { createRequire } from 'node:module';
import { isCjkTerm } from './segment.js';

const require = createRequire(import.meta.url);
const stopwordsIso = require('stopwords-iso/stopwords-iso.json') as Record<string, string[]>;

// stopwords-iso's Chinese and English lists, plus words that fill news copy
// without saying what an article is about.
const NEWSROOM_STOPWORDS = [
  '表示',
  '认为',
  '记者',
  '报道',
  '目前',
  '已经',
  '今年',
  '去年',
  '这个',
  '东西',
  '时候',
  '没有',
  '一下',
  '可以',
  '进行',
  '相关',
  '其中',
  '通过',
];
const STOPWORDS = new Set([...(stopwordsIso.zh ?? []), ...(stopwordsIso.en ?? []), ...NEWSROOM_STOPWORDS]);

/** A title word counts this many times a body word. */
const TITLE_BOOST = 3;

export function isStopword(term: string): boolean {
  return STOPWORDS.has(term);
}

/** Whether a term can describe an article: not a stop word, not a number, not a lone character. */
export function isKeywordCandidate(term: string): boolean {
  if (STOPWORDS.has(term)) return false;
  if (/^\p{N}+$/u.test(term)) return false;
  return [...term].length >= 2;
}

/** Term counts of an article, title words boosted, candidates only. */
export function termCounts(titleWords: readonly string[], bodyWords: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (term: string, n: number) => {
    if (isKeywordCandidate(term)) counts.set(term, (counts.get(term) ?? 0) + n);
  };
  for (const term of titleWords) add(term, TITLE_BOOST);
  for (const term of bodyWords) add(term, 1);
  return counts;
}

export interface RankedTerm {
  term: string;
  weight: number;
  /** How many archive articles hold the term. */
  articles: number;
}

/**
 * jieba's IDF table, computed by its authors on a large general Chinese
 * corpus. It stands in for the archive's own statistics while the archive is
 * small (a store holding only the seed cannot tell 模型 from LLaMA); terms it
 * does not know (new words, most Latin names) get its median, as jieba does.
 */
let general: { idf: Map<string, number>; median: number } | undefined;
function generalIdf(term: string): number {
  if (!general) {
    const { idf } = require('@node-rs/jieba/dict') as { idf: Uint8Array };
    const table = new Map<string, number>();
    for (const line of Buffer.from(idf).toString('utf8').split('\n')) {
      const space = line.lastIndexOf(' ');
      if (space > 0) table.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    const values = [...table.values()].sort((a, b) => a - b);
    general = { idf: table, median: values[values.length >> 1] ?? 0 };
  }
  return general.idf.get(term) ?? general.median;
}

/** How many archive articles the archive's own IDF needs to outweigh the general table. */
const PRIOR_DOCUMENTS = 1_000;

/**
 * TF-IDF: how often the article uses a term, times how rare the term is. The
 * archive's IDF (smoothed: ln((N + 1) / (df + 1)) + 1) is blended with the
 * general table in proportion to the archive's size, N against 1,000, so a
 * large archive speaks for itself and a small one borrows.
 * Ties go to the longer, then the alphabetically first term, so the order is stable.
 */
export function rankTerms(
  counts: ReadonlyMap<string, number>,
  documentFrequency: ReadonlyMap<string, number>,
  documents: number,
): RankedTerm[] {
  const ranked: RankedTerm[] = [];
  for (const [term, count] of counts) {
    const df = documentFrequency.get(term) ?? 0;
    const archive = Math.log((documents + 1) / (df + 1)) + 1;
    const idf = (documents * archive + PRIOR_DOCUMENTS * generalIdf(term)) / (documents + PRIOR_DOCUMENTS);
    ranked.push({ term, weight: count * idf, articles: df });
  }
  return ranked.sort((a, b) => b.weight - a.weight || [...b.term].length - [...a.term].length || (a.term < b.term ? -1 : 1));
}

// Latin words end where Latin letters and digits end; a Han character next to one is a boundary (Meta发布).
const LATIN_WORD_CHAR = String.raw`[\p{Script=Latin}\p{N}]`;

/** A pattern finding a Latin term as a whole word. */
function latinWord(term: string, flags: string): RegExp {
  const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<!${LATIN_WORD_CHAR})${escaped}(?!${LATIN_WORD_CHAR})`, flags);
}

/** The term as the article writes it most often (Meta, not meta), for display. */
export function surfaceForm(term: string, text: string): string {
  if (isCjkTerm(term) || !/[a-z]/.test(term)) return term;
  const forms = new Map<string, number>();
  for (const [form] of text.normalize('NFKC').matchAll(latinWord(term, 'giu'))) forms.set(form, (forms.get(form) ?? 0) + 1);
  let best = term;
  let most = 0;
  for (const [form, count] of forms) {
    if (count > most) [best, most] = [form, count];
  }
  return best;
}

/** Whether `text` uses `term` (a normalized term): as a whole word for Latin terms, anywhere for Chinese ones. */
export function mentions(text: string, term: string): boolean {
  const folded = text.normalize('NFKC').toLowerCase();
  return isCjkTerm(term) ? folded.includes(term) : latinWord(term, 'u').test(folded);
}
