import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPage, beijingTime, createTestServer, type TestServer } from './helpers.js';

const RELATED = /* GraphQL */ `
  query Related($slug: String!, $kind: RelatedKind!, $first: Int) {
    article(slug: $slug) {
      related(kind: $kind, first: $first) {
        kind title summary url publishedAt
        article { slug title }
        reason { keywords tags { name } score }
      }
    }
  }
`;

interface Item {
  kind: string;
  title: string | null;
  summary: string | null;
  url: string | null;
  publishedAt: string | null;
  article: { slug: string; title: string } | null;
  reason: { keywords: string[]; tags: { name: string }[]; score: number } | null;
}

describe('related content beside an article', () => {
  let t: TestServer;
  let seed: string;
  const slugs: Record<string, string> = {};
  beforeAll(async () => {
    t = await createTestServer();
    seed = (await t.expectData(`{ articles(first: 1) { nodes { slug } } }`)).articles.nodes[0]!.slug;
    const pages = [
      {
        key: 'llama',
        title: 'Meta发布新一代开源大语言模型LLaMA 2',
        paragraphs: ['Meta宣布开源LLaMA 2大语言模型，允许商用。', 'LLaMA 2在多项评测中超过此前的开源模型，开源社区反响热烈。'],
        time: beijingTime(30),
        sections: ['首页', '科技'],
        tags: ['AI'],
      },
      {
        key: 'llamaEcosystem',
        title: '开源大语言模型LLaMA的生态观察',
        paragraphs: ['围绕LLaMA的开源项目层出不穷，羊驼家族不断壮大。', '开发者用LLaMA微调出各种大语言模型。'],
        time: beijingTime(20),
        sections: ['首页', '科技'],
      },
      {
        key: 'bank',
        title: '央行降准释放长期流动性',
        paragraphs: ['中国人民银行宣布降低存款准备金率，释放长期资金约五千亿元。'],
        time: beijingTime(10),
        sections: ['首页', '财经'],
        tags: ['AI'],
      },
      {
        key: 'original',
        title: '原创栏目的另一篇文章',
        paragraphs: ['这是一篇原创栏目的文章，讲的是城市里的咖啡馆。'],
        time: beijingTime(-100_000),
        sections: ['首页', '原创'],
      },
    ];
    for (const { key, ...spec } of pages) slugs[key] = (await addPage(t.store, spec)).slug;
  });
  afterAll(() => t.close());

  const related = async (slug: string, kind: string, first?: number): Promise<Item[]> =>
    (await t.expectData(RELATED, { slug, kind, first })).article.related;
  const articleSlugs = (items: Item[]) => items.map((i) => i.article?.slug ?? null);

  it('HOT returns the six curated 热点 teasers of the seed in page order, text intact', async () => {
    const hot = await related(seed, 'HOT');
    expect(hot).toHaveLength(6);
    expect(hot[0]).toEqual({
      kind: 'HOT',
      title: null,
      summary:
        '2023年4月8日(上海)——黑马原力在上海徐汇滨江进行了品牌全球首发。品牌首款MPS产品G60小黑在发布会现场以自动驾驶的方式闪亮登场,点燃',
      url: null,
      publishedAt: null,
      article: null,
      reason: null,
    });
    expect(hot[5]!.summary).toBe(
      '每年过年,必不可少的项目之一,就是发红包。一封封烫金封口、漂亮厚实的红包,带着一句句恭喜发财的欢乐祝福,浓浓的年味瞬间扑面而来。在',
    );
    expect(await related(seed, 'HOT', 2)).toEqual(hot.slice(0, 2));
  });

  it('HOT puts the curated teasers first, then the newest articles of the section', async () => {
    const hot = await related(seed, 'HOT', 8);
    expect(hot.slice(0, 6).every((i) => i.article === null)).toBe(true);
    expect(articleSlugs(hot.slice(6))).toEqual([slugs.original]);
    // 科技 has no curated list of its own or above it: only its newest other article.
    expect(articleSlugs(await related(slugs.llama!, 'HOT'))).toEqual([slugs.llamaEcosystem]);
  });

  it('LATEST lists the newest other articles of the same section first, then the rest of the site', async () => {
    const latest = await related(seed, 'LATEST', 10);
    expect(articleSlugs(latest)).toEqual([slugs.original, slugs.llama, slugs.llamaEcosystem, slugs.bank]);
    expect(latest[1]).toMatchObject({ kind: 'LATEST', title: 'Meta发布新一代开源大语言模型LLaMA 2', url: null, reason: null });
    expect(latest[1]!.publishedAt).toBe('2023-05-01T08:30:00+08:00');
    expect(latest[1]!.summary).toContain('Meta宣布开源LLaMA 2大语言模型');
    expect(await related(seed, 'LATEST', 1)).toHaveLength(1);
  });

  it('never lists an article beside itself', async () => {
    for (const slug of [seed, ...Object.values(slugs)]) {
      for (const kind of ['HOT', 'LATEST', 'RELATED']) {
        expect(articleSlugs(await related(slug, kind, 50)), `${kind} of ${slug}`).not.toContain(slug);
      }
    }
  });

  it('RELATED ranks by shared keywords and tags and says why', async () => {
    const items = await related(slugs.llama!, 'RELATED');
    // The LLaMA ecosystem piece and the seed (Meta, LLaMA, 开源) lead; the tag-only match trails.
    expect(articleSlugs(items.slice(0, 2)).sort()).toEqual([slugs.llamaEcosystem, seed].sort());
    const ecosystem = items.find((i) => i.article!.slug === slugs.llamaEcosystem)!;
    expect(ecosystem.reason!.keywords).toEqual(expect.arrayContaining(['LLaMA', '开源', '大语言模型']));
    const bank = items.find((i) => i.article!.slug === slugs.bank);
    expect(bank?.reason).toEqual({ keywords: [], tags: [{ name: 'AI' }], score: expect.any(Number) });
    const scores = items.map((i) => i.reason!.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((s) => s > 0 && s <= 1)).toBe(true);
    expect(items.indexOf(bank!)).toBeGreaterThan(1);
  });

  it('RELATED finds the seed for an article on the same topic even without tags', async () => {
    const items = await related(slugs.llamaEcosystem!, 'RELATED');
    expect(articleSlugs(items)).toContain(seed);
    expect(articleSlugs(items)).toContain(slugs.llama);
  });

  it('rejects more than 50 items as BAD_USER_INPUT', async () => {
    const [error] = await t.expectErrors(RELATED, { slug: seed, kind: 'LATEST', first: 51 });
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first', limit: 50 });
  });
});

describe('keywords', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer();
  });
  afterAll(() => t.close());

  it('gives the untagged seed its topics, as the article writes them', async () => {
    const { articles } = await t.expectData(`{ articles(first: 1) { nodes { tags { name } keywords(first: 10) } } }`);
    const seed = articles.nodes[0]!;
    expect(seed.tags).toEqual([]);
    expect(seed.keywords).toHaveLength(10);
    expect(seed.keywords.slice(0, 2)).toEqual(['Meta', '元宇宙']);
    expect(seed.keywords).toEqual(expect.arrayContaining(['DINO', '深度学习', '大语言模型']));
    // No stop words, adverbs, numbers or single characters.
    for (const word of ['的', '了', '其实', '2023', '我们', '图']) expect(seed.keywords).not.toContain(word);
    const all = (await t.expectData(`{ articles(first: 1) { nodes { keywords(first: 20) } } }`)).articles.nodes[0]!.keywords;
    expect(all).toEqual(expect.arrayContaining(['LLaMA', 'SAM', 'GPT']));
  });

  it('rejects more than 20 keywords', async () => {
    const [error] = await t.expectErrors(`{ articles(first: 1) { nodes { keywords(first: 21) } } }`);
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 20 });
  });
});
