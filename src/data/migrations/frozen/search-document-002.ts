import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Jieba as JiebaType } from '@node-rs/jieba';
import { ROOT } from '../../../paths.js';

// Migration 002's search document, frozen: a copy of the live code it ran
// when it was written (data/search-document.ts, text/segment.ts,
// text/keywords.ts, text/measure.ts), so that changing how the live store
// segments or indexes text never changes what this migration does. Only the
// packages and the newsroom dictionary file are shared with the live code.
// Do not edit; a new way of indexing belongs in a new migration.

const require = createRequire(import.meta.url);
const stopwordsIso = require('stopwords-iso/stopwords-iso.json') as Record<string, string[]>;

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

let jieba: JiebaType | undefined;
function segmenter(): JiebaType {
  if (!jieba) {
    const { Jieba } = require('@node-rs/jieba') as typeof import('@node-rs/jieba');
    jieba = Jieba.withDict(readFileSync(require.resolve('@node-rs/jieba/dict.txt')));
    jieba.loadDict(readFileSync(new URL('data/segmenter/user-dict.txt', ROOT)));
  }
  return jieba;
}

const NOT_WORD = /[^\p{L}\p{N}]+/u;

function fold(text: string): string {
  return text.normalize('NFKC');
}

function words(tokens: string[]): string[] {
  const out: string[] = [];
  for (const token of tokens) {
    for (const part of token.toLowerCase().split(NOT_WORD)) if (part) out.push(part);
  }
  return out;
}

function indexTerms(text: string): string[] {
  return words(segmenter().cutForSearch(fold(text), true));
}

function isKeywordCandidate(term: string): boolean {
  if (STOPWORDS.has(term)) return false;
  if (/^\p{N}+$/u.test(term)) return false;
  return [...term].length >= 2;
}

/** A body block as migration 002 found it stored. */
export type Block = { type: 'paragraph'; text: string } | { type: 'image'; caption: string | null };

function bodyText(body: readonly Block[]): string {
  return body.map((b) => (b.type === 'paragraph' ? b.text : (b.caption ?? ''))).join('\n');
}

export interface SearchDocument {
  title: string;
  body: string;
  terms: string[];
}

export function searchDocument(title: string, body: readonly Block[]): SearchDocument {
  const text = bodyText(body);
  const titleTerms = indexTerms(title);
  const bodyTerms = indexTerms(text);
  const terms = new Set<string>();
  for (const term of titleTerms) if (isKeywordCandidate(term)) terms.add(term);
  for (const term of bodyTerms) if (isKeywordCandidate(term)) terms.add(term);
  return { title: titleTerms.join(' '), body: bodyTerms.join(' '), terms: [...terms] };
}
