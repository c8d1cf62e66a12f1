import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPage, beijingTime, createTestServer, type TestServer } from './helpers.js';

const SEARCH = /* GraphQL */ `
  query Search($query: String!, $filter: ArticleFilter, $first: Int, $after: String) {
    search(query: $query, filter: $filter, first: $first, after: $after) {
      totalCount
      terms
      matched
      edges { cursor node { score snippet article { slug title } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

interface Hit {
  score: number;
  snippet: string;
  article: { slug: string; title: string };
}
interface Result {
  search: {
    totalCount: number;
    terms: string[];
    matched: 'ALL' | 'ANY';
    edges: { cursor: string; node: Hit }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

// A small labelled collection: for each query, the article a reader obviously wants.
const LABELLED = [
  {
    title: '苹果发布iPhone 15，首发A17芯片',
    body: ['苹果公司在秋季发布会上推出iPhone 15系列手机，搭载全新的A17芯片。'],
    query: 'iPhone 芯片',
    section: '手机',
  },
  { title: '国足2:0战胜泰国队取得开门红', body: ['国足在世预赛首战中两球击败泰国队，武磊梅开二度。'], query: '国足', section: '体育' },
  {
    title: '央行宣布全面降准0.25个百分点',
    body: ['中国人民银行决定下调金融机构存款准备金率，释放长期资金。'],
    query: '降准',
    section: '财经',
  },
  {
    title: '特斯拉上海工厂新能源汽车交付创新高',
    body: ['特斯拉上海超级工厂本月交付新能源汽车超过八万辆。'],
    query: '特斯拉 新能源汽车',
    section: '汽车',
  },
  { title: 'OpenAI发布GPT-4大语言模型', body: ['OpenAI推出新一代大语言模型GPT-4，支持图像输入。'], query: 'GPT-4', section: '人工智能' },
  { title: '北京迎来今冬首场降雪', body: ['受冷空气影响，北京城区出现降雪，气温明显下降。'], query: '北京 降雪', section: '社会' },
  {
    title: '华为发布鸿蒙操作系统新版本',
    body: ['华为开发者大会上，鸿蒙系统迎来重大更新，设备数量突破七亿。'],
    query: '鸿蒙',
    section: '手机',
  },
  {
    title: '阿根廷点球大战夺得世界杯冠军',
    body: ['世界杯决赛中，阿根廷队通过点球大战击败法国队，梅西捧起奖杯。'],
    query: '世界杯 阿根廷',
    section: '体育',
  },
  { title: 'A股三大指数集体收涨 成交额破万亿', body: ['沪深两市今日放量上涨，A股成交额突破一万亿元。'], query: 'A股', section: '财经' },
  {
    title: '英伟达发布新一代数据中心GPU',
    body: ['英伟达在GTC大会上发布新一代GPU，算力较上代提升三倍。'],
    query: '英伟达 GPU',
    section: '人工智能',
  },
];
// Articles that mention the same words in passing, to compete with the ones above.
const DISTRACTORS = [
  { title: '手机市场季度观察', body: ['本季度手机出货量回暖，iPhone与国产品牌竞争激烈，芯片供应趋于稳定。'] },
  { title: '体育产业发展报告', body: ['报告提到国足比赛的上座率，以及世界杯带动的消费。'] },
  { title: '科技公司财报汇总', body: ['多家公司提到GPU采购，英伟达的订单排到明年；GPT-4带动了云计算需求。'] },
];

describe('search in Chinese', () => {
  let t: TestServer;
  let seed: string;
  beforeAll(async () => {
    t = await createTestServer();
    seed = (await t.expectData(`{ articles(first: 1) { nodes { slug } } }`)).articles.nodes[0]!.slug;
    let minute = 0;
    for (const { title, body, section } of LABELLED) {
      await addPage(t.store, { title, paragraphs: body, time: beijingTime(minute++), sections: ['首页', section] });
    }
    for (const { title, body } of DISTRACTORS) await addPage(t.store, { title, paragraphs: body, time: beijingTime(minute++) });
    await addPage(t.store, {
      title: '一篇带有标记的文章',
      paragraphs: ['网页里写着 <script>alert("x")</script> & 元宇宙 的说法。'],
      time: beijingTime(minute++),
    });
  });
  afterAll(() => t.close());

  const search = (query: string, variables: Record<string, unknown> = {}) => t.expectData<Result>(SEARCH, { query, ...variables });
  /** Every slug a search finds, following its cursors `first` at a time; each page's totalCount is checked against `total`. */
  async function walk(query: string, first: number, total?: number): Promise<string[]> {
    const slugs: string[] = [];
    for (let after: string | null = null; ; ) {
      const page: Result = await search(query, { first, after });
      if (total !== undefined) expect(page.search.totalCount).toBe(total);
      slugs.push(...page.search.edges.map((e) => e.node.article.slug));
      if (!page.search.pageInfo.hasNextPage) return slugs;
      after = page.search.pageInfo.endCursor;
    }
  }

  it('finds the seed for 元宇宙 with the term marked in its snippet', async () => {
    const { search: result } = await search('元宇宙');
    const hit = result.edges.find((e) => e.node.article.slug === seed)?.node;
    expect(hit).toBeDefined();
    expect(hit!.snippet).toContain('<mark>元宇宙</mark>');
    // In the top 3: BM25 favours the short test articles that mention it once over the long seed.
    expect(result.edges.slice(0, 3).map((e) => e.node.article.slug)).toContain(seed);
    expect(result.terms).toEqual(['元宇宙']);
  });

  it('puts the obviously relevant article in the top 3 for every labelled query', async () => {
    const misses: string[] = [];
    for (const { title, query } of LABELLED) {
      const top = (await search(query, { first: 3 })).search.edges.map((e) => e.node.article.title);
      if (!top.includes(title)) misses.push(`${query} → ${JSON.stringify(top)}`);
    }
    expect(misses).toEqual([]);
  });

  it('ranks a title match above a passing mention in the body', async () => {
    const titles = (await search('鸿蒙')).search.edges.map((e) => e.node.article.title);
    expect(titles[0]).toBe('华为发布鸿蒙操作系统新版本');
    const gpu = (await search('英伟达 GPU')).search.edges.map((e) => e.node.article.title);
    expect(gpu.indexOf('英伟达发布新一代数据中心GPU')).toBeLessThan(gpu.indexOf('科技公司财报汇总'));
  });

  it('handles mixed Chinese and Latin queries and a single character', async () => {
    for (const query of ['Meta 元宇宙', 'LLaMA', 'DINO V2', '深度学习框架', '图', 'meta', 'ＬＬａＭＡ']) {
      const { search: result } = await search(query);
      expect(
        result.edges.map((e) => e.node.article.slug),
        query,
      ).toContain(seed);
      expect(result.matched, query).toBe('ALL');
    }
    const { search: dino } = await search('DINO V2');
    expect(dino.terms).toEqual(['dino', 'v2']);
    const snippet = dino.edges.find((e) => e.node.article.slug === seed)!.node.snippet;
    expect(snippet).toMatch(/<mark>DINO<\/mark> <mark>V2<\/mark>/);
  });

  it('treats query syntax typed by a user as text, never as an error', async () => {
    for (const query of [
      '"',
      'LLaMA*',
      'AND',
      'Meta AND',
      '元宇宙 -Meta',
      'NEAR(Meta 元宇宙)',
      'title:元宇宙',
      '"Meta',
      'OR OR',
      '^元宇宙',
      "Meta' --",
    ]) {
      const result = await t.execute(SEARCH, { query });
      if (result.errors) {
        expect(result.errors[0]?.extensions?.code, query).toBe('BAD_USER_INPUT');
        expect(query, 'only a query without words may be rejected').toBe('"');
      }
    }
    const { search: result } = await search('元宇宙 -Meta');
    expect(result.terms).toEqual(['元宇宙', 'meta']);
    expect(result.edges.map((e) => e.node.article.slug)).toContain(seed);
  });

  it('rejects a query of only punctuation or whitespace, and an over-long one, as BAD_USER_INPUT', async () => {
    for (const query of ['', '   ', '。。。', '?!*"-', '\n\t']) {
      const [error] = await t.expectErrors(SEARCH, { query });
      expect(error?.extensions, JSON.stringify(query)).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'query' });
    }
    const [long] = await t.expectErrors(SEARCH, { query: '元'.repeat(101) });
    expect(long?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'query', limit: 100 });
  });

  it('escapes everything but the marks in snippets', async () => {
    const hit = (await search('元宇宙')).search.edges.find((e) => e.node.article.title === '一篇带有标记的文章')!.node;
    expect(hit.snippet).toBe('网页里写着 &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <mark>元宇宙</mark> 的说法。');
  });

  it('falls back to any term when no article holds them all', async () => {
    const { search: result } = await search('鸿蒙 降雪');
    expect(result.matched).toBe('ANY');
    expect(result.edges.map((e) => e.node.article.title).sort()).toEqual(['北京迎来今冬首场降雪', '华为发布鸿蒙操作系统新版本']);
    expect(result.totalCount).toBe(2);
  });

  it('pages through results by cursor, most relevant first, with a stable total', async () => {
    const all = (await search('发布', { first: 100 })).search;
    expect(all.totalCount).toBeGreaterThanOrEqual(5);
    const scores = all.edges.map((e) => e.node.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const walked = await walk('发布', 2, all.totalCount);
    expect(walked).toEqual(all.edges.map((e) => e.node.article.slug));
    const [error] = await t.expectErrors(SEARCH, { query: '发布', after: 'YTE6MToy' });
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
  });

  it('breaks relevance ties by recency', async () => {
    const same = { title: '完全相同的标题', paragraphs: ['完全相同的正文内容。'] };
    await addPage(t.store, { ...same, time: beijingTime(-5000), source: '甲网' });
    await addPage(t.store, { ...same, time: beijingTime(5000), source: '乙网' });
    const edges = (await search('完全相同')).search.edges;
    expect(edges).toHaveLength(2);
    expect(edges[0]!.node.score).toBe(edges[1]!.node.score);
    expect(Date.parse(edges[0]!.node.article.slug.slice(0, 8).replace(/(\d{4})(\d{2})(\d{2})/, '$1-$2-$3'))).toBeGreaterThan(
      Date.parse(edges[1]!.node.article.slug.slice(0, 8).replace(/(\d{4})(\d{2})(\d{2})/, '$1-$2-$3')),
    );
  });

  it('orders a run of equal scores longer than a page by recency, page after page', async () => {
    for (let i = 0; i < 45; i++) {
      await addPage(t.store, {
        title: 'Tiebreak 专题',
        paragraphs: ['Tiebreak 的正文。'],
        time: beijingTime(10_000 + i * 7),
        source: `来源${i}`,
      });
    }
    const seen = await walk('tiebreak', 4);
    expect(seen.filter((s, i) => seen.indexOf(s) !== i)).toEqual([]);
    expect(seen).toHaveLength(45);
    // Slugs start with the Beijing date and every article is 7 minutes newer than the last: check by fetching times.
    const times: string[] = [];
    for (const slug of seen)
      times.push((await t.expectData(`query($s: String) { article(slug: $s) { publishedAt } }`, { s: slug })).article.publishedAt);
    expect(times.map(Date.parse)).toEqual([...times.map(Date.parse)].sort((a, b) => b - a));
  });

  it('pages from articles holding the words in their titles into those holding them only in the body, without a gap', async () => {
    // Eight articles have 潮汐能 in the title (three twice), eight only in the body (one to four times),
    // at varied times: paging three at a time must walk exactly the order of one long page, and that
    // order is relevance, then recency. (On PostgreSQL the first pages come from the title index alone.)
    let minute = 20_000;
    for (let i = 0; i < 8; i++) {
      const title = i < 3 ? `潮汐能专题：潮汐能电站第${i}期` : `潮汐能电站第${i}期`;
      await addPage(t.store, {
        title,
        paragraphs: ['海边的电站今年并网。'],
        time: beijingTime(minute + ((i * 37) % 11)),
        source: `潮汐甲${i}`,
      });
      const mentions = Array.from({ length: 1 + (i % 4) }, () => '潮汐能').join('，');
      await addPage(t.store, {
        title: `海岸观察第${i}期`,
        paragraphs: [`记者走访发现：${mentions}。`],
        time: beijingTime(minute + ((i * 53) % 13)),
        source: `潮汐乙${i}`,
      });
      minute += 20;
    }
    const whole = (await search('潮汐能', { first: 50 })).search;
    expect(whole.totalCount).toBe(16);
    const titled = whole.edges.map((e) => e.node.article.title.includes('潮汐能'));
    expect(titled).toEqual([...Array(8).fill(true), ...Array(8).fill(false)]);
    const scores = whole.edges.map((e) => e.node.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(await walk('潮汐能', 3, 16)).toEqual(whole.edges.map((e) => e.node.article.slug));

    // Eight words no article holds all of, so any of them will do: the same walk, the same order.
    const many = '潮汐能 海岸 观察 电站 记者 走访 并网 蜃景';
    const wide = (await search(many, { first: 50 })).search;
    expect(wide.matched).toBe('ANY');
    const wideScores = wide.edges.map((e) => e.node.score);
    expect(wideScores).toEqual([...wideScores].sort((a, b) => b - a));
    expect(await walk(many, 3, wide.totalCount)).toEqual(wide.edges.map((e) => e.node.article.slug));
    expect(wide.edges).toHaveLength(wide.totalCount);
  });

  it('applies the same filters as lists', async () => {
    const { search: result } = await search('发布', { filter: { section: 'shouji' } });
    expect(result.edges.map((e) => e.node.article.title).sort()).toEqual(['华为发布鸿蒙操作系统新版本', '苹果发布iPhone 15，首发A17芯片']);
    expect(result.totalCount).toBe(2);
  });
});
