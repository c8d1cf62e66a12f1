import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/data/open-store.js';

const run = promisify(execFile);

describe('npm run corpus', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-corpus-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const corpus = (database: string, ...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/tools/corpus/cli.ts', ...args], {
      env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, database)}` },
    });

  async function contents(database: string) {
    const store = openStore({ kind: 'sqlite', path: join(dir, database) });
    try {
      const articles = await store.listArticles({ limit: 10_000, order: 'asc' });
      const sections = await store.listSections();
      const hits = await store.countSearchMatches({ terms: ['公司'], mode: 'all' });
      return { articles, sections, hits };
    } finally {
      await store.close();
    }
  }

  it('fills a store with N searchable articles through the importer write path, the same for the same seed', async () => {
    const { stdout } = await corpus('a.db', '--articles', '1500', '--seed', '7');
    expect(stdout).toMatch(/1,500 articles \(seed 7\) in [\d.]+ s/);
    expect(stdout).toContain('1500 created, 0 updated, 0 unchanged');
    await corpus('b.db', '--articles', '1500', '--seed', '7');
    const [a, b] = [await contents('a.db'), await contents('b.db')];
    expect(a.articles).toHaveLength(1500);
    expect(a.articles.map((x) => [x.id, x.slug, x.title])).toEqual(b.articles.map((x) => [x.id, x.slug, x.title]));
    // Sections under 首页, derived fields and the search index, as for imported pages.
    expect(a.sections[0]?.name).toBe('首页');
    expect(a.sections.length).toBeGreaterThan(8);
    for (const article of a.articles) {
      const chars = article.body.reduce((n, block) => n + (block.type === 'paragraph' ? [...block.text].length : 0), 0);
      expect(chars).toBeGreaterThanOrEqual(300);
      expect(chars).toBeLessThanOrEqual(5000);
      expect(article.wordCount).toBeGreaterThan(0);
      expect([...article.excerpt].length).toBeLessThanOrEqual(200);
    }
    expect(a.hits).toBeGreaterThan(0);
  });

  it('gives a different corpus for a different seed, and re-running a seed changes nothing', async () => {
    await corpus('c.db', '--articles', '200', '--seed', '8');
    const c = await contents('c.db');
    const a = await contents('a.db');
    expect(c.articles.map((x) => x.slug)).not.toEqual(a.articles.slice(0, 200).map((x) => x.slug));
    const { stdout } = await corpus('c.db', '--articles', '200', '--seed', '8');
    expect(stdout).toContain('0 created, 0 updated, 200 unchanged');
  });

  it('refuses a missing or invalid article count with exit status 2', async () => {
    for (const args of [[], ['--articles', 'many'], ['--articles', '0'], ['--articles', '10', '--seed', 'x']]) {
      const error = await corpus('d.db', ...args).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(error?.code, args.join(' ')).toBe(2);
      expect(error?.stderr).toContain('usage: npm run corpus -- --articles N');
    }
  });
});
