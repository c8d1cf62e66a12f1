import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ADMIN, createTestServer, EDITOR, pageText, type TestServer } from './helpers.js';

const ARTICLE_FIELDS = `id slug title version status deleted publishedAt createdBy updatedBy
  section { slug } body { __typename ... on Paragraph { text } ... on Image { caption url } }
  credits { role label name } tags { name }`;

const CREATE = `mutation Create($input: CreateArticleInput!) { createArticle(input: $input) { article { ${ARTICLE_FIELDS} } } }`;
const UPDATE = `mutation Update($id: ID!, $v: Int!, $input: UpdateArticleInput!) {
  updateArticle(id: $id, expectedVersion: $v, input: $input) { article { ${ARTICLE_FIELDS} } } }`;
const PUBLISH = `mutation Publish($id: ID!, $v: Int!, $at: DateTime) { publishArticle(id: $id, expectedVersion: $v, at: $at) { article { ${ARTICLE_FIELDS} } } }`;
const UNPUBLISH = `mutation Unpublish($id: ID!, $v: Int!) { unpublishArticle(id: $id, expectedVersion: $v) { article { ${ARTICLE_FIELDS} } } }`;
const DELETE = `mutation Delete($id: ID!, $v: Int!) { deleteArticle(id: $id, expectedVersion: $v) { article { ${ARTICLE_FIELDS} } } }`;
const RESTORE = `mutation Restore($id: ID!, $v: Int!) { restoreArticle(id: $id, expectedVersion: $v) { article { ${ARTICLE_FIELDS} } } }`;
const RESTORE_REVISION = `mutation RestoreRevision($id: ID!, $r: Int!, $v: Int!) {
  restoreRevision(id: $id, revision: $r, expectedVersion: $v) { article { ${ARTICLE_FIELDS} } } }`;

interface Article {
  id: string;
  slug: string;
  title: string;
  version: number;
  status: 'DRAFT' | 'SCHEDULED' | 'PUBLISHED';
  deleted: boolean;
  publishedAt: string;
  createdBy: string | null;
  updatedBy: string | null;
}

describe('the editor API', () => {
  let t: TestServer;
  let sectionId: string;
  beforeAll(async () => {
    t = await createTestServer();
    sectionId = (await t.expectData(`{ section(slug: "yuanchuang") { id } }`)).section.id;
  });
  afterAll(() => t.close());

  const draftInput = (title: string, extra: Record<string, unknown> = {}) => ({
    title,
    section: sectionId,
    body: [{ paragraph: `${title}：关于元宇宙的草稿正文。` }, { image: { caption: '示意图' } }],
    credits: [{ role: 'WRITER', name: '小编' }],
    tags: ['草稿标签'],
    ...extra,
  });
  const create = async (title: string, extra: Record<string, unknown> = {}): Promise<Article> =>
    (await t.expectData(CREATE, { input: draftInput(title, extra) }, EDITOR)).createArticle.article;
  const articleCount = async () => (await t.expectData(`{ articles(preview: true) { totalCount } }`, {}, EDITOR)).articles.totalCount;

  /** Every public path by which an article could be reached. */
  async function publiclyReachable(article: Article): Promise<string[]> {
    const paths: string[] = [];
    const data = await t.expectData<{
      byId: { id: string } | null;
      bySlug: { id: string } | null;
      articles: { nodes: { id: string }[] };
      section: { articles: { nodes: { id: string }[] } };
      search: { nodes: { article: { id: string } }[] };
      seed: { related: { article: { id: string } | null }[] };
    }>(
      `query($id: ID, $slug: String) {
        byId: article(id: $id) { id }
        bySlug: article(slug: $slug) { id }
        articles(first: 100) { nodes { id } }
        section(slug: "yuanchuang") { articles(first: 100) { nodes { id } } }
        search(query: "元宇宙 草稿正文") { nodes { article { id } } }
        seed: article(slug: "20230423-7c45cae95cf3") { related(kind: LATEST, first: 50) { article { id } } }
      }`,
      { id: article.id, slug: article.slug },
    );
    if (data.byId) paths.push('article(id)');
    if (data.bySlug) paths.push('article(slug)');
    if (data.articles.nodes.some((n: { id: string }) => n.id === article.id)) paths.push('articles');
    if (data.section.articles.nodes.some((n: { id: string }) => n.id === article.id)) paths.push('section.articles');
    if (data.search.nodes.some((n: { article: { id: string } }) => n.article.id === article.id)) paths.push('search');
    if (data.seed.related.some((r: { article: { id: string } | null }) => r.article?.id === article.id)) paths.push('related');
    return paths;
  }

  it('refuses every mutation without a token as UNAUTHENTICATED, writing nothing', async () => {
    const before = await articleCount();
    for (const [mutation, variables] of [
      [CREATE, { input: draftInput('匿名') }],
      [`mutation { importPages(pages: []) { pages { status } } }`, {}],
      [`mutation { setHotItems(section: "1", items: []) { items { title } } }`, {}],
      [`mutation { createSection(input: { name: "匿名栏目", parent: "1" }) { section { id } } }`, {}],
    ] as const) {
      const [error] = await t.expectErrors(mutation, variables);
      expect(error?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect(await articleCount()).toBe(before);
  });

  it('creates a draft, version 1, reachable by no public path but previewable by editors', async () => {
    const totals = async () =>
      await t.expectData(
        `{ articles { totalCount } search(query: "元宇宙") { totalCount } section(slug: "yuanchuang") { articles { totalCount } } }`,
      );
    const before = await totals();
    const draft = await create('一篇新的草稿');
    // Nothing public counts it either.
    expect(await totals()).toEqual(before);
    expect(draft).toMatchObject({ title: '一篇新的草稿', version: 1, status: 'DRAFT', deleted: false, createdBy: 'desk-editor' });
    expect(draft.slug).toMatch(/^\d{8}-[0-9a-f]{12}$/);
    expect(await publiclyReachable(draft)).toEqual([]);

    const preview = await t.expectData(`query($id: ID) { article(id: $id, preview: true) { title status } }`, { id: draft.id }, EDITOR);
    expect(preview.article).toEqual({ title: '一篇新的草稿', status: 'DRAFT' });
    const search = await t.expectData(`{ search(query: "草稿正文", preview: true) { nodes { article { id } } } }`, {}, EDITOR);
    expect(search.search.nodes.map((n: { article: { id: string } }) => n.article.id)).toContain(draft.id);
    const list = await t.expectData(`{ section(slug: "yuanchuang") { articles(preview: true, first: 100) { nodes { id } } } }`, {}, EDITOR);
    expect(list.section.articles.nodes.map((n: { id: string }) => n.id)).toContain(draft.id);
  });

  it('keeps a preview to the fields that ask for it, even within one request', async () => {
    const draft = await create('同一请求中的草稿');
    // A curated teaser pointing at the draft: the teaser is public, the draft behind it is not.
    await t.expectData(
      `mutation($s: ID!, $a: ID!) { setHotItems(section: $s, items: [{ title: "指向草稿", article: $a }]) { items { title } } }`,
      { s: sectionId, a: draft.id },
      EDITOR,
    );
    const data = await t.expectData(
      `{ articles(preview: true, first: 100) { nodes { id related(kind: HOT, first: 1) { title article { id } } } } }`,
      {},
      EDITOR,
    );
    const nodes = data.articles.nodes as { id: string; related: { title: string; article: { id: string } | null }[] }[];
    expect(nodes.map((n) => n.id)).toContain(draft.id);
    for (const node of nodes) expect(node.related).toEqual([{ title: '指向草稿', article: null }]);
  });

  it('refuses preview: true without a token', async () => {
    for (const query of [
      `{ article(slug: "x", preview: true) { id } }`,
      `{ articles(preview: true) { totalCount } }`,
      `{ search(query: "元宇宙", preview: true) { totalCount } }`,
    ]) {
      const [error] = await t.expectErrors(query);
      expect(error?.extensions?.code, query).toBe('UNAUTHENTICATED');
    }
  });

  it('publishes now or on a schedule; a scheduled article stays hidden until its time', async () => {
    const draft = await create('准备发布的文章');
    const later = new Date(Date.now() + 3600_000).toISOString();
    const scheduled = (await t.expectData(PUBLISH, { id: draft.id, v: 1, at: later }, EDITOR)).publishArticle.article;
    expect(scheduled).toMatchObject({ status: 'SCHEDULED', version: 2 });
    expect(Date.parse(scheduled.publishedAt)).toBe(Date.parse(later));
    expect(await publiclyReachable(scheduled)).toEqual([]);

    const now = (await t.expectData(PUBLISH, { id: draft.id, v: 2 }, EDITOR)).publishArticle.article;
    expect(now).toMatchObject({ status: 'PUBLISHED', version: 3 });
    expect(await publiclyReachable(now)).toEqual(['article(id)', 'article(slug)', 'articles', 'section.articles', 'search', 'related']);

    const back = (await t.expectData(UNPUBLISH, { id: draft.id, v: 3 }, EDITOR)).unpublishArticle.article;
    expect(back).toMatchObject({ status: 'DRAFT', version: 4 });
    expect(await publiclyReachable(back)).toEqual([]);
  });

  it('shows a scheduled article once its time has come, with no write in between', async () => {
    const draft = await create('定时发布的文章');
    const later = Date.now() + 3600_000;
    const scheduled = (await t.expectData(PUBLISH, { id: draft.id, v: 1, at: new Date(later).toISOString() }, EDITOR)).publishArticle
      .article;
    // Twice, so every statement that decides visibility has been compiled and kept before the clock moves.
    expect(await publiclyReachable(scheduled)).toEqual([]);
    expect(await publiclyReachable(scheduled)).toEqual([]);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(later + 1000);
      expect(await publiclyReachable(scheduled)).toEqual([
        'article(id)',
        'article(slug)',
        'articles',
        'section.articles',
        'search',
        'related',
      ]);
    } finally {
      vi.useRealTimers();
    }
    expect(await publiclyReachable(scheduled)).toEqual([]);
  });

  it('updates only the fields given, bumping the version and keeping the previous state as a revision', async () => {
    const draft = await create('原来的标题');
    const { updateArticle } = await t.expectData(
      UPDATE,
      { id: draft.id, v: 1, input: { title: '改过的标题', tags: ['新标签', '元宇宙'] } },
      ADMIN,
    );
    expect(updateArticle.article).toMatchObject({ title: '改过的标题', version: 2, updatedBy: 'desk-admin', createdBy: 'desk-editor' });
    expect(updateArticle.article.tags).toEqual([{ name: '新标签' }, { name: '元宇宙' }]);
    expect(updateArticle.article.body).toEqual([
      { __typename: 'Paragraph', text: '原来的标题：关于元宇宙的草稿正文。' },
      { __typename: 'Image', caption: '示意图', url: null },
    ]);
    const { article } = await t.expectData(
      `query($id: ID) { article(id: $id, preview: true) { revisions { version replacedBy title tags status deleted } } }`,
      { id: draft.id },
      EDITOR,
    );
    expect(article.revisions).toEqual([
      { version: 1, replacedBy: 'desk-admin', title: '原来的标题', tags: ['草稿标签'], status: 'DRAFT', deleted: false },
    ]);
  });

  it('refuses a change based on an old version with CONFLICT and the current version, writing nothing', async () => {
    const draft = await create('冲突测试');
    await t.expectData(UPDATE, { id: draft.id, v: 1, input: { title: '第一位编辑的修改' } }, EDITOR);
    const [error] = await t.expectErrors(UPDATE, { id: draft.id, v: 1, input: { title: '第二位编辑的修改' } }, ADMIN);
    expect(error?.extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 2, expectedVersion: 1 });
    for (const mutation of [PUBLISH, UNPUBLISH, DELETE]) {
      const [stale] = await t.expectErrors(mutation, { id: draft.id, v: 1 }, EDITOR);
      expect(stale?.extensions).toMatchObject({ code: 'CONFLICT', currentVersion: 2 });
    }
    const { article } = await t.expectData(
      `query($id: ID) { article(id: $id, preview: true) { title version revisions { version } } }`,
      { id: draft.id },
      EDITOR,
    );
    expect(article).toEqual({ title: '第一位编辑的修改', version: 2, revisions: [{ version: 1 }] });
  });

  it('deletes softly and restores; a deleted article is hidden everywhere and a double delete is refused', async () => {
    const draft = await create('将被删除的文章');
    const published = (await t.expectData(PUBLISH, { id: draft.id, v: 1 }, EDITOR)).publishArticle.article;
    const deleted = (await t.expectData(DELETE, { id: draft.id, v: published.version }, EDITOR)).deleteArticle.article;
    expect(deleted).toMatchObject({ deleted: true, version: 3 });
    expect(await publiclyReachable(deleted)).toEqual([]);
    const [twice] = await t.expectErrors(DELETE, { id: draft.id, v: 3 }, EDITOR);
    expect(twice?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const restored = (await t.expectData(RESTORE, { id: draft.id, v: 3 }, EDITOR)).restoreArticle.article;
    expect(restored).toMatchObject({ deleted: false, status: 'PUBLISHED', version: 4 });
    expect(await publiclyReachable(restored)).toContain('article(id)');
  });

  it('restores an earlier revision as a new version, losing nothing', async () => {
    const draft = await create('第一版标题');
    await t.expectData(UPDATE, { id: draft.id, v: 1, input: { title: '第二版标题', body: [{ paragraph: '全新的正文。' }] } }, EDITOR);
    const restored = (await t.expectData(RESTORE_REVISION, { id: draft.id, r: 1, v: 2 }, EDITOR)).restoreRevision.article;
    expect(restored).toMatchObject({ title: '第一版标题', version: 3 });
    expect(restored.body[0]).toEqual({ __typename: 'Paragraph', text: '第一版标题：关于元宇宙的草稿正文。' });
    const { article } = await t.expectData(
      `query($id: ID) { article(id: $id, preview: true) { revisions { version title } } }`,
      { id: draft.id },
      EDITOR,
    );
    expect(article.revisions).toEqual([
      { version: 2, title: '第二版标题' },
      { version: 1, title: '第一版标题' },
    ]);
    const [missing] = await t.expectErrors(RESTORE_REVISION, { id: draft.id, r: 99, v: 3 }, EDITOR);
    expect(missing?.extensions).toMatchObject({ code: 'NOT_FOUND', argument: 'revision' });
  });

  it('rejects invalid input with BAD_USER_INPUT naming the field, writing nothing', async () => {
    const before = await articleCount();
    const taken = (await create('占用的网址')).slug;
    const cases: [Record<string, unknown>, string][] = [
      [{ title: '' }, 'input.title'],
      [{ title: '长'.repeat(201) }, 'input.title'],
      [{ slug: 'Not A Slug' }, 'input.slug'],
      [{ slug: taken }, 'input.slug'],
      [{ section: '99999' }, 'input.section'],
      [{ body: Array.from({ length: 2001 }, () => ({ paragraph: '段' })) }, 'input.body'],
      [{ body: Array.from({ length: 3 }, () => ({ paragraph: '字'.repeat(70_000) })) }, 'input.body'],
      [{ body: [{ paragraph: '好的' }, { paragraph: '两者', image: { caption: '都有' } }] }, 'input.body[1]'],
      [{ credits: [{ role: 'WRITER', name: '  ' }] }, 'input.credits[0].name'],
      [{ tags: Array.from({ length: 21 }, (_, i) => `标签${i}`) }, 'input.tags'],
    ];
    for (const [extra, argument] of cases) {
      const [error] = await t.expectErrors(CREATE, { input: draftInput('无效输入', extra) }, EDITOR);
      expect(error?.extensions, argument).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    }
    const [badRole] = await t.expectErrors(CREATE, { input: draftInput('角色', { credits: [{ role: 'INTERN', name: '某人' }] }) }, EDITOR);
    expect(badRole?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await articleCount()).toBe(before + 1);
  });

  it('shows token names to editors only', async () => {
    const draft = await create('谁写的');
    await t.expectData(PUBLISH, { id: draft.id, v: 1 }, EDITOR);
    const anonymous = await t.expectData(`query($id: ID) { article(id: $id) { createdBy updatedBy } }`, { id: draft.id });
    expect(anonymous.article).toEqual({ createdBy: null, updatedBy: null });
    const [error] = await t.expectErrors(`query($id: ID) { article(id: $id) { revisions { version } } }`, { id: draft.id });
    expect(error?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('sections, hot items and page imports', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await createTestServer();
  });
  afterEach(() => t.close());

  const CREATE_SECTION = `mutation($input: CreateSectionInput!) { createSection(input: $input) { section { id slug name path { name } } } }`;

  it('lets administrators, not editors, create, rename and move sections, never into a cycle', async () => {
    const home = (await t.expectData(`{ section(slug: "shouye") { id } }`)).section.id;
    const [forbidden] = await t.expectErrors(CREATE_SECTION, { input: { name: '科技', parent: home } }, EDITOR);
    expect(forbidden?.extensions).toMatchObject({ code: 'FORBIDDEN' });

    const tech = (await t.expectData(CREATE_SECTION, { input: { name: '科技', parent: home } }, ADMIN)).createSection.section;
    expect(tech).toMatchObject({ slug: 'keji', name: '科技', path: [{ name: '首页' }, { name: '科技' }] });
    const ai = (await t.expectData(CREATE_SECTION, { input: { name: '人工智能', parent: tech.id, slug: 'ai' } }, ADMIN)).createSection
      .section;
    const [dup] = await t.expectErrors(CREATE_SECTION, { input: { name: '别的', parent: home, slug: 'ai' } }, ADMIN);
    expect(dup?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'input.slug' });

    const renamed = await t.expectData(
      `mutation($id: ID!) { updateSection(id: $id, input: { name: "AI" }) { section { name slug } } }`,
      { id: ai.id },
      ADMIN,
    );
    expect(renamed.updateSection.section).toEqual({ name: 'AI', slug: 'ai' });

    const MOVE = `mutation($id: ID!, $parent: ID!) { moveSection(id: $id, parent: $parent) { section { path { slug } } } }`;
    for (const [id, parent] of [
      [tech.id, ai.id],
      [tech.id, tech.id],
    ]) {
      const [cycle] = await t.expectErrors(MOVE, { id, parent }, ADMIN);
      expect(cycle?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'parent' });
    }
    const yuanchuang = (await t.expectData(`{ section(slug: "yuanchuang") { id } }`)).section.id;
    const moved = await t.expectData(MOVE, { id: ai.id, parent: yuanchuang }, ADMIN);
    expect(moved.moveSection.section.path).toEqual([{ slug: 'shouye' }, { slug: 'yuanchuang' }, { slug: 'ai' }]);
  });

  it('replaces the curated 热点 list the seed brought', async () => {
    const { section, articles } = await t.expectData(`{ section(slug: "yuanchuang") { id } articles(first: 1) { nodes { id slug } } }`);
    const seed = articles.nodes[0]!;
    const items = [{ title: '编辑精选', summary: '精选的摘要', url: 'https://example.com/a' }, { article: seed.id }];
    const set = await t.expectData(
      `mutation($s: ID!, $items: [HotItemInput!]!) { setHotItems(section: $s, items: $items) { items { kind title summary url article { slug } } } }`,
      { s: section.id, items },
      EDITOR,
    );
    expect(set.setHotItems.items).toEqual([
      { kind: 'HOT', title: '编辑精选', summary: '精选的摘要', url: 'https://example.com/a', article: null },
      { kind: 'HOT', title: null, summary: null, url: null, article: { slug: seed.slug } },
    ]);
    const hot = await t.expectData(
      `query($slug: String) { article(slug: $slug) { related(kind: HOT, first: 2) { title article { slug } } } }`,
      { slug: seed.slug },
    );
    expect(hot.article.related).toEqual([
      { title: '编辑精选', article: null },
      { title: null, article: { slug: seed.slug } },
    ]);
  });

  it('imports pages in one transaction, and none at all when any page is malformed', async () => {
    const IMPORT = `mutation($pages: [String!]!) { importPages(pages: $pages) { pages { status article { slug title status } } } }`;
    const good = pageText({ title: '通过接口导入', time: '2023-06-01 10:00:00' });
    const bad = '首页 > 原创 > 正文\n\n来源:某网 2023-06-01 10:00:00\n\n正文\n';
    const [error] = await t.expectErrors(IMPORT, { pages: [good, bad] }, EDITOR);
    expect(error?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'pages[1]',
      failures: [{ page: 1, line: 3, reason: expect.stringContaining('missing title') }],
    });
    const count = async () => (await t.expectData(`{ articles { totalCount } }`)).articles.totalCount;
    expect(await count()).toBe(1);

    const first = await t.expectData(IMPORT, { pages: [good] }, EDITOR);
    expect(first.importPages.pages).toEqual([
      { status: 'CREATED', article: { slug: expect.any(String), title: '通过接口导入', status: 'PUBLISHED' } },
    ]);
    const again = await t.expectData(IMPORT, { pages: [good] }, EDITOR);
    expect(again.importPages.pages[0]!.status).toBe('UNCHANGED');
    expect(await count()).toBe(2);
  });
});
