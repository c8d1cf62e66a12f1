import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPage, createTestServer, EDITOR, type TestServer } from './helpers.js';

// Global object identification: every object a client may see twice has a global id, `node` and
// `nodes` find it again under the rules of its own look-up, and the numeric ids served before
// keep working where a client may have kept them.

const SEED_SLUG = '20230423-7c45cae95cf3';
const GID = /^gid:\/\/newsgraph\/(Article|Section|Tag|ArticleRevision)\/[a-z0-9/-]+$/;

const NODE = `query Node($id: ID!, $preview: Boolean) {
  node(id: $id, preview: $preview) {
    __typename id
    ... on Article { slug title }
    ... on Section { slug name }
    ... on Tag { slug name }
    ... on ArticleRevision { version title }
  }
}`;

interface Found {
  node: { __typename: string; id: string; slug?: string; title?: string; name?: string; version?: number } | null;
}

describe('global ids', () => {
  let t: TestServer;
  let seedStoreId: string;
  let draft: { id: string; version: number };
  beforeAll(async () => {
    t = await createTestServer();
    seedStoreId = (await t.store.findArticlesBySlugs({ slugs: [SEED_SLUG] }))[0]!.id;
    await addPage(t.store, { title: '标签文章', time: '2023-05-01 08:00:00', tags: ['元宇宙', '公开标签'] });
    const created = await t.expectData(
      `mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id version } } }`,
      { input: { title: '未发表的草稿', section: '2', body: [{ paragraph: '草稿正文。' }], tags: ['秘密标签'] } },
      EDITOR,
    );
    draft = created.createArticle.article;
  });
  afterAll(() => t.close());

  it('gives articles, sections, tags and revisions global ids, distinct across types', async () => {
    const data = await t.expectData<{
      article: { id: string; section: { id: string; path: { id: string }[] }; tags: { id: string }[] };
      sections: { id: string }[];
      tagged: { id: string; tags: { id: string; slug: string }[] };
    }>(
      `query($slug: String!) {
        article(slug: $slug) { id section { id path { id } } tags { id } }
        sections { id }
        tagged: article(slug: "${(await t.store.listArticles({ limit: 1, filter: { tagSlug: 'yuanyuzhou' } }))[0]!.slug}") { id tags { id slug } }
      }`,
      { slug: SEED_SLUG },
    );
    expect(data.article.id).toBe(`gid://newsgraph/Article/${seedStoreId}`);
    expect(data.tagged.tags.map((tag) => tag.id)).toEqual(['gid://newsgraph/Tag/yuanyuzhou', 'gid://newsgraph/Tag/gongkaibiaoqian']);
    const ids = [data.article.id, data.tagged.id, ...data.sections.map((s) => s.id), ...data.tagged.tags.map((tag) => tag.id)];
    for (const id of ids) expect(id).toMatch(GID);
    expect(new Set(ids).size).toBe(ids.length);
    // The same section has the same id wherever it appears.
    expect(data.sections.map((s) => s.id)).toContain(data.article.section.id);
    expect(data.article.section.path.at(-1)!.id).toBe(data.article.section.id);
  });

  it('finds every kind of object again by its id with node', async () => {
    const article = (await t.expectData(`{ article(slug: "${SEED_SLUG}") { id section { id } } }`)).article;
    expect(await t.expectData(NODE, { id: article.id })).toEqual({
      node: { __typename: 'Article', id: article.id, slug: SEED_SLUG, title: expect.any(String) },
    });
    expect(await t.expectData(NODE, { id: article.section.id })).toEqual({
      node: { __typename: 'Section', id: article.section.id, slug: 'yuanchuang', name: '原创' },
    });
    expect(await t.expectData(NODE, { id: 'gid://newsgraph/Tag/yuanyuzhou' })).toEqual({
      node: { __typename: 'Tag', id: 'gid://newsgraph/Tag/yuanyuzhou', slug: 'yuanyuzhou', name: '元宇宙' },
    });
  });

  it('returns null from node for ids that name nothing, never an error', async () => {
    for (const id of [
      'gid://newsgraph/Article/999999',
      'gid://newsgraph/Section/999999',
      'gid://newsgraph/Tag/no-such-tag',
      'gid://newsgraph/Nope/1',
      'gid://newsgraph/Article/abc',
      'gid://other/Article/1',
      seedStoreId, // an old numeric id says nothing of its type
      '',
    ]) {
      expect(await t.execute(NODE, { id }), id).toEqual({ data: { node: null } });
    }
  });

  it('keeps drafts, their tags and revisions from the public, as article(id:) does, and shows them in an editor’s preview', async () => {
    const hidden = [draft.id, 'gid://newsgraph/Tag/mimibiaoqian', `gid://newsgraph/ArticleRevision/${draft.id.split('/').at(-1)}/1`];
    await t.expectData(
      `mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 1, input: { title: "改过的草稿" }) { article { version } } }`,
      { id: draft.id },
      EDITOR,
    );
    for (const id of hidden) {
      expect(await t.execute(NODE, { id }), id).toEqual({ data: { node: null } });
      expect(await t.execute(NODE, { id }, EDITOR), `${id} without preview`).toEqual({ data: { node: null } });
    }
    const previewed = await Promise.all(hidden.map(async (id) => (await t.expectData<Found>(NODE, { id, preview: true }, EDITOR)).node));
    expect(previewed).toEqual([
      { __typename: 'Article', id: draft.id, slug: expect.any(String), title: '改过的草稿' },
      { __typename: 'Tag', id: hidden[1], slug: 'mimibiaoqian', name: '秘密标签' },
      { __typename: 'ArticleRevision', id: hidden[2], version: 1, title: '未发表的草稿' },
    ]);
    const refused = await t.expectErrors(NODE, { id: draft.id, preview: true });
    expect(refused.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('shows revisions of public articles to editors only', async () => {
    const id = `gid://newsgraph/ArticleRevision/${seedStoreId}/1`;
    const page = await t.store.findArticlesByIds({ ids: [seedStoreId] });
    expect(page[0]!.version).toBe(1); // the seed has no revision yet: make one
    await t.expectData(
      `mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 1, input: { title: "新标题" }) { article { version } } }`,
      { id: seedStoreId },
      EDITOR,
    );
    expect(await t.execute(NODE, { id })).toEqual({ data: { node: null } });
    expect((await t.expectData<Found>(NODE, { id }, EDITOR)).node).toMatchObject({ __typename: 'ArticleRevision', id, version: 1 });
    expect((await t.expectData(`{ article(id: "${seedStoreId}") { revisions { id } } }`, {}, EDITOR)).article!.revisions).toEqual([{ id }]);
  });

  it('answers nodes in the order asked, null where node would be null, reading all articles in one statement and all tags in one', async () => {
    const articles = await t.store.listArticles({ limit: 10 });
    expect(articles.length).toBeGreaterThanOrEqual(2);
    const ids = [
      ...articles.map((a) => `gid://newsgraph/Article/${a.id}`),
      draft.id,
      'gid://newsgraph/Section/1',
      'gid://newsgraph/Tag/yuanyuzhou',
      'gid://newsgraph/Tag/gongkaibiaoqian',
    ];
    t.queries.length = 0;
    const data = await t.expectData<{ nodes: ({ __typename: string; id: string } | null)[] }>(
      `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`,
      { ids },
    );
    expect(data.nodes).toEqual(ids.map((id) => (id === draft.id ? null : { __typename: expect.any(String), id })));
    const articleReads = t.queries.filter((q) => /from "articles"/i.test(q.sql) && !/limit/i.test(q.sql));
    const tagReads = t.queries.filter((q) => /from "article_tags"/i.test(q.sql));
    expect(articleReads.map((q) => q.sql)).toHaveLength(1);
    expect(tagReads.map((q) => q.sql)).toHaveLength(1);
  });

  it('reports a store failure under node as an error, never as a missing object', async () => {
    const broken = await createTestServer();
    try {
      const [seed] = await broken.store.findArticlesBySlugs({ slugs: [SEED_SLUG] });
      await broken.store.close();
      const result = await broken.execute(NODE, { id: `gid://newsgraph/Article/${seed!.id}` });
      expect(result.data).toEqual({ node: null });
      expect(result.errors?.length, JSON.stringify(result)).toBe(1);
    } finally {
      await broken.close();
    }
  });

  it('refuses more than 100 ids in nodes', async () => {
    const errors = await t.expectErrors(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, {
      ids: Array.from({ length: 101 }, (_, i) => `gid://newsgraph/Article/${i + 1}`),
    });
    expect(errors.map((e) => [e.extensions?.code, e.extensions?.argument])).toEqual([['BAD_USER_INPUT', 'ids']]);
  });
});

describe('the numeric ids served before global ids', () => {
  let t: TestServer;
  let seedStoreId: string;
  beforeAll(async () => {
    t = await createTestServer();
    seedStoreId = (await t.store.findArticlesBySlugs({ slugs: [SEED_SLUG] }))[0]!.id;
  });
  afterAll(() => t.close());

  it('still find the article with article(id:), as its global id does, and another type’s global id finds none', async () => {
    const byGlobal = await t.expectData(`query($id: ID) { article(id: $id) { id slug } }`, {
      id: `gid://newsgraph/Article/${seedStoreId}`,
    });
    const byNumeric = await t.expectData(`query($id: ID) { article(id: $id) { id slug } }`, { id: seedStoreId });
    expect(byGlobal).toEqual({ article: { id: `gid://newsgraph/Article/${seedStoreId}`, slug: SEED_SLUG } });
    expect(byNumeric).toEqual(byGlobal);
    expect(await t.execute(`{ article(id: "gid://newsgraph/Section/${seedStoreId}") { id } }`)).toEqual({ data: { article: null } });
  });

  it('are taken by the article mutations, as global ids are', async () => {
    const UPDATE = `mutation($id: ID!, $v: Int!, $title: String!) {
      updateArticle(id: $id, expectedVersion: $v, input: { title: $title }) { article { id version title } } }`;
    const global = `gid://newsgraph/Article/${seedStoreId}`;
    expect(await t.expectData(UPDATE, { id: seedStoreId, v: 1, title: '旧编号改' }, EDITOR)).toEqual({
      updateArticle: { article: { id: global, version: 2, title: '旧编号改' } },
    });
    expect(await t.expectData(UPDATE, { id: global, v: 2, title: '新编号改' }, EDITOR)).toEqual({
      updateArticle: { article: { id: global, version: 3, title: '新编号改' } },
    });
    const errors = await t.expectErrors(UPDATE, { id: 'gid://newsgraph/Section/2', v: 3, title: 'x' }, EDITOR);
    expect(errors.map((e) => [e.extensions?.code, e.extensions?.argument])).toEqual([['NOT_FOUND', 'id']]);
  });

  it('are taken wherever a mutation names a section or an article, as global ids are', async () => {
    const CREATE = `mutation($section: ID!) { createArticle(input: { title: "栏目编号", section: $section, body: [{ paragraph: "正文" }] }) {
      article { section { id slug } } } }`;
    for (const section of ['2', 'gid://newsgraph/Section/2']) {
      expect(await t.expectData(CREATE, { section }, EDITOR)).toEqual({
        createArticle: { article: { section: { id: 'gid://newsgraph/Section/2', slug: 'yuanchuang' } } },
      });
    }
    const HOT = `mutation($section: ID!, $article: ID!) { setHotItems(section: $section, items: [{ article: $article }]) { items { article { id } } } }`;
    for (const [section, article] of [
      ['2', seedStoreId],
      ['gid://newsgraph/Section/2', `gid://newsgraph/Article/${seedStoreId}`],
    ]) {
      expect(await t.expectData(HOT, { section, article }, EDITOR)).toEqual({
        setHotItems: { items: [{ article: { id: `gid://newsgraph/Article/${seedStoreId}` } }] },
      });
    }
    const wrongType = await t.expectErrors(CREATE, { section: `gid://newsgraph/Article/${seedStoreId}` }, EDITOR);
    expect(wrongType.map((e) => [e.extensions?.code, e.extensions?.argument])).toEqual([['BAD_USER_INPUT', 'input.section']]);
  });
});
