import { describe, expect, it } from 'vitest';
import { isKeywordCandidate, rankTerms, surfaceForm, termCounts } from '../src/text/keywords.js';
import { topicalWords } from '../src/text/segment.js';

describe('keyword ranking (TF-IDF)', () => {
  it('keeps nouns, names and Latin terms, and drops function words, verbs and numbers', () => {
    const words = topicalWords('其实早在 16 年的开发者大会上，小扎就发布了大语言模型 LLaMA 和 DINO V2。');
    expect(words).toEqual(expect.arrayContaining(['开发者', '大会', '小扎', '大语言模型', 'llama', 'dino', 'v2']));
    for (const word of ['其实', '16', '的', '发布', '了']) expect(words).not.toContain(word);
  });

  it('never proposes stop words, pure numbers or single characters', () => {
    for (const term of ['的', '我们', 'the', '2023', '图', '86']) expect(isKeywordCandidate(term)).toBe(false);
    for (const term of ['元宇宙', 'meta', 'v2', '羊驼']) expect(isKeywordCandidate(term)).toBe(true);
  });

  it('counts title words three times', () => {
    expect(termCounts(['元宇宙'], ['元宇宙', '模型', '模型'])).toEqual(
      new Map([
        ['元宇宙', 4],
        ['模型', 2],
      ]),
    );
  });

  it("in a large archive, lets the archive's own rarity decide", () => {
    const counts = new Map([
      ['模型', 5],
      ['羊驼', 5],
    ]);
    const common = rankTerms(
      counts,
      new Map([
        ['模型', 90_000],
        ['羊驼', 20],
      ]),
      100_000,
    );
    expect(common.map((r) => r.term)).toEqual(['羊驼', '模型']);
    const flipped = rankTerms(
      counts,
      new Map([
        ['模型', 20],
        ['羊驼', 90_000],
      ]),
      100_000,
    );
    expect(flipped.map((r) => r.term)).toEqual(['模型', '羊驼']);
  });

  it('in a tiny archive, falls back on general Chinese usage: a common word ranks below a rare name used as often', () => {
    const ranked = rankTerms(
      new Map([
        ['发展', 3],
        ['llama', 3],
      ]),
      new Map([
        ['发展', 1],
        ['llama', 1],
      ]),
      1,
    );
    expect(ranked.map((r) => r.term)).toEqual(['llama', '发展']);
    expect(ranked[0]!.weight).toBeGreaterThan(ranked[1]!.weight);
  });

  it('orders equal weights by length, then alphabetically, so output is stable', () => {
    const ranked = rankTerms(
      new Map([
        ['ab', 1],
        ['abc', 1],
        ['aa', 1],
      ]),
      new Map(),
      1_000_000,
    );
    expect(ranked.map((r) => r.term)).toEqual(['abc', 'aa', 'ab']);
  });

  it('shows a term as the article writes it', () => {
    expect(surfaceForm('llama', '大语言模型 LLaMA ,也就是羊驼')).toBe('LLaMA');
    expect(surfaceForm('meta', 'metadata 和 Meta')).toBe('Meta');
    expect(surfaceForm('meta', '标题里的meta，正文里的 Meta 和 Meta')).toBe('Meta');
    expect(surfaceForm('元宇宙', '元宇宙')).toBe('元宇宙');
    expect(surfaceForm('ai', 'ＡＩ 时代')).toBe('AI');
  });
});
