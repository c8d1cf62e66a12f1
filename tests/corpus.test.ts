import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ParsedPage } from '../src/data/page.js';
import { parsePage } from '../src/ingest/parse-page.js';
import { type GeneratedPage, generatePages } from '../src/tools/corpus/generate.js';

interface BankSection {
  name: string;
  children?: BankSection[];
}
const bank = JSON.parse(readFileSync(new URL('../data/corpus/bank.json', import.meta.url), 'utf8')) as {
  root: string;
  sections: BankSection[];
};
const bankPaths = new Set(
  bank.sections.flatMap((s) => [
    [bank.root, s.name].join(' > '),
    ...(s.children ?? []).map((c) => [bank.root, s.name, c.name].join(' > ')),
  ]),
);

const generate = (options: { count: number; seed: number; start?: number }) => [...generatePages(options)];

/** Parses every page, failing with the page text when one does not parse. */
function parseAll(pages: GeneratedPage[]): ParsedPage[] {
  return pages.map((page, i) => {
    try {
      return parsePage(page.text, `generated[${i}]`);
    } catch (error) {
      throw new Error(`${String(error)}\n--- page ---\n${page.text}`, { cause: error });
    }
  });
}

const paragraphs = (page: ParsedPage) => page.body.flatMap((b) => (b.type === 'paragraph' ? [b.text] : []));
const characters = (text: string) => [...text].length;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const SEED = 20_240_501;
const pages = generate({ count: 500, seed: SEED });
const parsed = parseAll(pages);

describe('generatePages', () => {
  it('gives the same pages for the same seed, and page i is the same whatever slice it is generated in', () => {
    expect(generate({ count: 40, seed: SEED })).toEqual(pages.slice(0, 40));
    expect(generate({ count: 15, seed: SEED, start: 123 })).toEqual(pages.slice(123, 138));
    expect(generate({ count: 1, seed: SEED, start: 499 })).toEqual(pages.slice(499));
  });

  it('gives a different corpus for a different seed', () => {
    const other = generate({ count: 40, seed: SEED + 1 });
    const same = other.filter((page, i) => page.text === pages[i]!.text);
    expect(same).toEqual([]);
  });

  it('yields nothing for count 0 and refuses counts, seeds and starts that are not whole numbers', () => {
    expect(generate({ count: 0, seed: SEED })).toEqual([]);
    expect(() => generate({ count: -1, seed: SEED })).toThrow(RangeError);
    expect(() => generate({ count: 1, seed: 1.5 })).toThrow(RangeError);
    expect(() => generate({ count: 1, seed: SEED, start: -3 })).toThrow(RangeError);
  });
});

describe('generated pages', () => {
  it('all parse, with the headline, outlet and a Beijing time within 2015-01-01..2026-10-31', () => {
    const earliest = Date.parse('2015-01-01T00:00:00+08:00');
    const latest = Date.parse('2026-10-31T23:59:59+08:00');
    for (const [i, page] of parsed.entries()) {
      const lines = pages[i]!.text.split('\n');
      expect(lines[0], pages[i]!.text).toMatch(/^首页 > .+ > 正文$/u);
      expect(lines[4], pages[i]!.text).toMatch(/^来源:\S+ \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/u);
      expect(characters(page.title), page.title).toBeGreaterThanOrEqual(8);
      expect(characters(page.title), page.title).toBeLessThanOrEqual(40);
      expect(page.sourceName).not.toBeNull();
      expect(page.publishedAt).toBeGreaterThanOrEqual(earliest);
      expect(page.publishedAt).toBeLessThanOrEqual(latest);
    }
  });

  it('have bodies of 300 to 5,000 characters with a median around a thousand', () => {
    const lengths = parsed.map((page) => paragraphs(page).reduce((n, p) => n + characters(p), 0));
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(300);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(5_000);
    expect(median(lengths)).toBeGreaterThanOrEqual(800);
    expect(median(lengths)).toBeLessThanOrEqual(2_000);
  });

  it('sit one or two levels under 首页, in sections the bank defines, as the breadcrumb says', () => {
    for (const [i, page] of parsed.entries()) {
      expect(page.sectionPath).toEqual(pages[i]!.sectionPath);
      expect(page.sectionPath[0]).toBe('首页');
      expect(bankPaths).toContain(page.sectionPath.join(' > '));
    }
    // With 500 pages every top-level section shows up.
    expect(new Set(parsed.map((p) => p.sectionPath[1]))).toEqual(new Set(bank.sections.map((s) => s.name)));
  });

  it('mix Latin terms into at least a fifth of paragraphs', () => {
    const all = parsed.flatMap(paragraphs);
    const latin = all.filter((p) => /[A-Za-z]/u.test(p));
    expect(latin.length / all.length).toBeGreaterThanOrEqual(0.2);
  });

  it('sometimes carry image placeholders between paragraphs', () => {
    const withImages = parsed.filter((p) => p.body.some((b) => b.type === 'image'));
    expect(withImages.length).toBeGreaterThan(50);
    for (const page of withImages) expect(page.body[0]!.type).toBe('paragraph');
  });

  it('credit a writer and an editor on every page', () => {
    for (const page of parsed) {
      const roles = page.credits.map((c) => c.role);
      expect(roles, JSON.stringify(page.credits)).toContain('WRITER');
      expect(roles, JSON.stringify(page.credits)).toContain('EDITOR');
    }
  });

  it('carry zero to five tags, and now and then a 热点 module of three to six teasers', () => {
    for (const page of parsed) expect(page.tags.length).toBeLessThanOrEqual(5);
    expect(parsed.some((p) => p.tags.length === 0)).toBe(true);
    const hot = parsed.filter((p) => p.teasers.length > 0);
    expect(hot.length).toBeGreaterThan(0);
    expect(hot.length).toBeLessThan(30);
    for (const page of hot) {
      expect(page.teasers.length).toBeGreaterThanOrEqual(3);
      expect(page.teasers.length).toBeLessThanOrEqual(6);
      for (const teaser of page.teasers) expect(teaser.kind).toBe('HOT');
    }
  });

  it('are distinct articles: 2,000 pages have 2,000 slugs', () => {
    const more = parseAll(generate({ count: 2_000, seed: 7 }));
    expect(new Set(more.map((p) => p.slug)).size).toBe(2_000);
  });
});
