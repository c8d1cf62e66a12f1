import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ContentBlock } from '../src/data/types.js';
import { parsePage } from '../src/ingest/parse-page.js';
import { EXCERPT_MAX_CHARACTERS, makeExcerpt } from '../src/text/excerpt.js';
import { countWords, measureBody, measureText } from '../src/text/measure.js';
import { pageSlug, slugify } from '../src/text/slug.js';

const SEED_TEXT = readFileSync(new URL('../data/pages/000_7c4c67a24975574d.txt', import.meta.url), 'utf8');

const SLUG_SHAPE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function p(text: string): ContentBlock {
  return { type: 'paragraph', text };
}

function image(caption: string | null = '资料图'): ContentBlock {
  return { type: 'image', caption, url: null };
}

function codePoints(text: string): number {
  return Array.from(text).length;
}

describe('countWords and measureText', () => {
  it('counts each CJK character and each Latin or digit run as one word', () => {
    // 在各种 (3) + AI (1) + 新闻满天飞的 (6) + 2023 (1) + 年 (1) = 12
    expect(countWords('在各种 AI 新闻满天飞的 2023 年')).toBe(12);
    expect(measureText('在各种 AI 新闻满天飞的 2023 年')).toEqual({ cjkCharacters: 10, latinWords: 2 });
  });

  it('counts a hyphenated name as the runs on either side of the hyphen', () => {
    expect(countWords('GPT-3')).toBe(2);
  });

  it('counts space-separated Latin words separately', () => {
    expect(countWords('DINO V2')).toBe(2);
  });

  it('counts nothing for punctuation, ASCII or full-width', () => {
    expect(countWords('，。！？、“”——……（）《》')).toBe(0);
    expect(countWords('!?.,;:()-—"\'')).toBe(0);
    expect(countWords('')).toBe(0);
  });

  it('counts a Latin run that touches Chinese characters as its own word', () => {
    // AI (1) + 建模 (2) + AI (1) + 绘图 (2)
    expect(countWords('AI建模,AI绘图')).toBe(6);
  });

  it('counts an astral Han character as one word', () => {
    expect(measureText('𠮷野家')).toEqual({ cjkCharacters: 3, latinWords: 0 });
  });

  it('counts Japanese kana one word per character', () => {
    expect(countWords('ひらがな')).toBe(4);
  });
});

describe('measureBody', () => {
  it('reads for at least one minute, even an empty body', () => {
    expect(measureBody([])).toEqual({ wordCount: 0, readingMinutes: 1 });
    expect(measureBody([p('短。')])).toEqual({ wordCount: 1, readingMinutes: 1 });
  });

  it('reads 4000 CJK characters in 10 minutes', () => {
    expect(measureBody([p('字'.repeat(4000))])).toEqual({ wordCount: 4000, readingMinutes: 10 });
  });

  it('adds 12 seconds per image, rounding up to the next minute', () => {
    expect(measureBody([p('字'.repeat(4000)), image()]).readingMinutes).toBe(11);
    // 5 images are exactly one minute.
    const fiveImages = [image(), image(), image(), image(), image()];
    expect(measureBody([p('字'.repeat(4000)), ...fiveImages]).readingMinutes).toBe(11);
    expect(measureBody([p('字'.repeat(4000)), ...fiveImages, image()]).readingMinutes).toBe(12);
  });

  it('does not count image captions as words', () => {
    expect(measureBody([p('一二三'), image('很长的图片说明文字')]).wordCount).toBe(3);
  });

  it('grows reading time with length', () => {
    const minutes = [400, 2000, 4001, 8000].map((n) => measureBody([p('字'.repeat(n))]).readingMinutes);
    expect(minutes).toEqual([1, 5, 11, 20]);
  });

  it('reads Latin words at 200 a minute', () => {
    expect(measureBody([p(Array(200).fill('word').join(' '))]).readingMinutes).toBe(1);
    expect(measureBody([p(Array(201).fill('word').join(' '))]).readingMinutes).toBe(2);
  });

  it('counts the seed body as the sum of its paragraphs', () => {
    const seed = parsePage(SEED_TEXT, 'seed');
    const expected = seed.body.reduce((n, b) => n + (b.type === 'paragraph' ? countWords(b.text) : 0), 0);
    const measure = measureBody(seed.body);
    expect(expected).toBeGreaterThan(2000);
    expect(measure.wordCount).toBe(expected);
    expect(measure.readingMinutes).toBeGreaterThanOrEqual(Math.ceil(expected / 400));
  });
});

describe('makeExcerpt', () => {
  it('has a limit of 200 characters', () => {
    expect(EXCERPT_MAX_CHARACTERS).toBe(200);
  });

  it('returns a short body whole, paragraphs joined by a space', () => {
    expect(makeExcerpt([p('第一段。'), p('第二段。')])).toBe('第一段。 第二段。');
  });

  it('ignores images and blank paragraphs', () => {
    expect(makeExcerpt([image(), p('第一段。'), image('图'), p('  '), p(' 第二段。 ')])).toBe('第一段。 第二段。');
  });

  it('is empty for a body with no text', () => {
    expect(makeExcerpt([image()])).toBe('');
  });

  it('returns a body of exactly 200 characters whole', () => {
    const text = '字'.repeat(200);
    expect(makeExcerpt([p(text)])).toBe(text);
  });

  it('ends at the last sentence end that fits', () => {
    const body = [p(`${'甲'.repeat(120)}。${'乙'.repeat(30)}！${'丙'.repeat(100)}`)];
    expect(makeExcerpt(body)).toBe(`${'甲'.repeat(120)}。${'乙'.repeat(30)}！`);
  });

  it('keeps a sentence end that is the 200th character', () => {
    const body = [p(`${'甲'.repeat(199)}。${'乙'.repeat(50)}`)];
    const excerpt = makeExcerpt(body);
    expect(excerpt).toBe(`${'甲'.repeat(199)}。`);
    expect(codePoints(excerpt)).toBe(200);
  });

  it('cuts text with no sentence end and ends it with an ellipsis inside the limit', () => {
    const excerpt = makeExcerpt([p('字'.repeat(500))]);
    expect(excerpt.endsWith('…')).toBe(true);
    expect(codePoints(excerpt)).toBe(200);
    expect(excerpt).toBe(`${'字'.repeat(199)}…`);
  });

  it('cuts a 201-character body', () => {
    const excerpt = makeExcerpt([p('字'.repeat(201))]);
    expect(excerpt).toBe(`${'字'.repeat(199)}…`);
  });

  it('never exceeds 200 code points or splits a character with astral text', () => {
    const excerpt = makeExcerpt([p('𠮷'.repeat(500))]);
    expect(codePoints(excerpt)).toBe(200);
    expect(excerpt).toBe(`${'𠮷'.repeat(199)}…`);
    expect(excerpt).not.toMatch(LONE_SURROGATE);
  });

  it('ends at a sentence end when astral characters precede it', () => {
    const excerpt = makeExcerpt([p(`${'𠮷'.repeat(150)}。${'𠮷'.repeat(150)}`)]);
    expect(excerpt).toBe(`${'𠮷'.repeat(150)}。`);
  });

  it('does not leave a trailing space before the ellipsis', () => {
    const excerpt = makeExcerpt([p(`${'a'.repeat(198)} ${'b'.repeat(50)}`)]);
    expect(excerpt).toBe(`${'a'.repeat(198)}…`);
  });

  it('stays within the limit across many body shapes', () => {
    const bodies: ContentBlock[][] = [
      [p('𠮷字'.repeat(150))],
      [p('短句。'.repeat(100))],
      [p('Meta AI '.repeat(60))],
      [p('😀'.repeat(250)), image(), p('结尾。')],
      Array.from({ length: 80 }, (_, i) => p(`第${i}段`)),
    ];
    for (const body of bodies) {
      const excerpt = makeExcerpt(body);
      expect(codePoints(excerpt)).toBeLessThanOrEqual(EXCERPT_MAX_CHARACTERS);
      expect(excerpt).not.toMatch(LONE_SURROGATE);
    }
  });

  it('honours a smaller limit', () => {
    expect(makeExcerpt([p('字'.repeat(50))], 10)).toBe(`${'字'.repeat(9)}…`);
  });

  it('makes the seed excerpt from its opening sentences', () => {
    const seed = parsePage(SEED_TEXT, 'seed');
    const excerpt = makeExcerpt(seed.body);
    expect(codePoints(excerpt)).toBeLessThanOrEqual(200);
    expect(excerpt.startsWith('在各种 AI 新闻满天飞的 2023 年,大家还记得大明湖畔的元宇宙吗?')).toBe(true);
    expect(excerpt).not.toContain('资料图');
  });
});

describe('slugify', () => {
  it('writes Chinese as toneless pinyin', () => {
    expect(slugify('原创')).toBe('yuanchuang');
    expect(slugify('首页')).toBe('shouye');
  });

  it('joins Latin and Chinese parts with hyphens, lower-cased', () => {
    expect(slugify('Meta 元宇宙')).toBe('meta-yuanyuzhou');
    expect(slugify('Meta元宇宙')).toBe('meta-yuanyuzhou');
  });

  it('reads polyphonic characters by their word', () => {
    expect(slugify('重庆')).toBe('chongqing');
    expect(slugify('银行')).toBe('yinhang');
  });

  it('writes ü as v', () => {
    expect(slugify('绿色')).toBe('lvse');
  });

  it('drops accents and folds full-width letters', () => {
    expect(slugify('Café')).toBe('cafe');
    expect(slugify('ＡＢＣ 新闻')).toBe('abc-xinwen');
  });

  it('returns a non-empty URL-safe slug for punctuation only', () => {
    for (const name of ['！？。…', '---', '', '   ', '😀']) {
      const slug = slugify(name);
      expect(slug, JSON.stringify(name)).not.toBe('');
      expect(slug, JSON.stringify(name)).toMatch(SLUG_SHAPE);
    }
  });

  it('keeps slugs to 80 characters without a trailing hyphen', () => {
    const slug = slugify(`${'a'.repeat(79)} b`);
    expect(slug.length).toBeLessThanOrEqual(80);
    expect(slug).toMatch(SLUG_SHAPE);
  });

  it('always has the shape a-z0-9 words joined by single hyphens', () => {
    const names = [
      '原创',
      '首页',
      'Meta 元宇宙',
      'GPT-3 发布',
      'C++ / Rust',
      '  -- AI -- ',
      '2023年4月23日',
      'ひらがな 新闻',
      '𠮷野家',
      'Ünïcödé Ärticle',
      '人工智能'.repeat(30),
      `${'x'.repeat(100)}-y`,
      'a_b.c,d',
    ];
    for (const name of names) expect(slugify(name), JSON.stringify(name)).toMatch(SLUG_SHAPE);
  });
});

describe('pageSlug', () => {
  const page = { sourceName: '凤凰网', publishedAt: Date.parse('2023-04-23T09:40:36+08:00'), title: '标题' };

  it('is the Beijing date and a 12-digit hex digest', () => {
    expect(pageSlug(page)).toMatch(/^20230423-[0-9a-f]{12}$/);
  });

  it('uses the Beijing date when it is already the next day there', () => {
    expect(pageSlug({ ...page, publishedAt: Date.parse('2023-04-22T17:30:00Z') })).toMatch(/^20230423-/);
  });

  it('is the same for the same page', () => {
    expect(pageSlug({ ...page })).toBe(pageSlug(page));
  });

  it('differs when the title, outlet or time differs', () => {
    const slug = pageSlug(page);
    expect(pageSlug({ ...page, title: '另一个标题' })).not.toBe(slug);
    expect(pageSlug({ ...page, sourceName: '新浪' })).not.toBe(slug);
    expect(pageSlug({ ...page, publishedAt: page.publishedAt + 1000 })).not.toBe(slug);
  });
});
