import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPage, beijingTime, createTestServer, EDITOR, type TestServer } from './helpers.js';

// The default executor is graphql-jit (through Apollo's gateway interface); graphql-js stays
// selectable. Both must give the same answers, errors included, for what the portal asks.
const OPERATIONS: [string, string, Record<string, unknown>][] = [
  [
    'the article page',
    `query($slug: String!) { article(slug: $slug) { id title publishedAt section { name path { name } }
      body { __typename ... on Paragraph { text } ... on Image { caption url } } credits { role label name } tags { name }
      excerpt wordCount readingMinutes keywords hot: related(kind: HOT, first: 6) { kind title summary url }
      latest: related(kind: LATEST, first: 3) { title article { slug } } related(first: 3) { title reason { keywords score } } } }`,
    { slug: '20230423-7c45cae95cf3' },
  ],
  [
    'a list with cursors and counts',
    `{ articles(first: 2) { totalCount edges { cursor node { title } } pageInfo { hasNextPage endCursor } } }`,
    {},
  ],
  ['a backward page', `{ articles(last: 1) { nodes { title } pageInfo { hasPreviousPage startCursor } } }`, {}],
  ['a section page', `{ section(slug: "yuanchuang") { name children { name } articles(first: 5) { totalCount nodes { slug } } } }`, {}],
  [
    'a search',
    `query($q: String!) { search(query: $q, first: 3) { totalCount matched terms edges { cursor node { score snippet article { title } } } } }`,
    { q: '元宇宙 模型' },
  ],
  [
    'a fragment and a directive',
    `query($all: Boolean!) { sections { ...S } } fragment S on Section { slug name @include(if: $all) }`,
    { all: false },
  ],
  ['a missing article', `{ article(slug: "no-such-article") { title } }`, {}],
  ['a bad cursor', `{ articles(first: 2, after: "nonsense") { totalCount } }`, {}],
  ['a page too large', `{ articles(first: 101) { totalCount } }`, {}],
  [
    'a bad enum variable',
    `query($k: RelatedKind!) { article(slug: "20230423-7c45cae95cf3") { related(kind: $k) { title } } }`,
    { k: 'POPULAR' },
  ],
  ['a missing variable', `query($slug: String!) { article(slug: $slug) { title } }`, {}],
  ['a preview without a token', `{ articles(preview: true) { totalCount } }`, {}],
  ['introspection', `{ __type(name: "Article") { name fields { name } } }`, {}],
];

/** Development responses carry stack traces, which name the executor's own frames. */
function withoutStacks<T extends { errors?: readonly { extensions?: Record<string, unknown> }[] }>(result: T): T {
  return {
    ...result,
    errors: result.errors?.map(({ extensions, ...error }) => {
      const { stacktrace: _, ...rest } = extensions ?? {};
      return { ...error, extensions: rest };
    }),
  };
}

describe('the graphql-jit executor', () => {
  let jit: TestServer;
  let js: TestServer;
  beforeAll(async () => {
    jit = await createTestServer({ executor: 'jit' });
    js = await createTestServer({ executor: 'graphql-js' });
    for (const t of [jit, js]) {
      await addPage(t.store, {
        title: 'Meta 的元宇宙模型',
        time: beijingTime(10),
        paragraphs: ['元宇宙和大语言模型的新进展。'],
        tags: ['元宇宙'],
      });
      await addPage(t.store, { title: '城市交通新规', time: beijingTime(20), paragraphs: ['地铁与公交的新规定。'] });
    }
  });
  afterAll(async () => {
    await jit.close();
    await js.close();
  });

  for (const [what, query, variables] of OPERATIONS) {
    it(`answers ${what} exactly as graphql-js does`, async () => {
      const expected = withoutStacks(await js.execute(query, variables));
      // An operation is compiled on its second run; the first runs on graphql-js.
      for (let run = 1; run <= 3; run++) expect(withoutStacks(await jit.execute(query, variables)), `run ${run}`).toEqual(expected);
    });
  }

  it('gives editors the same preview', async () => {
    const query = `{ articles(preview: true, first: 3) { totalCount nodes { title status } } }`;
    const expected = await js.execute(query, {}, EDITOR);
    for (let run = 1; run <= 3; run++) expect(await jit.execute(query, {}, EDITOR)).toEqual(expected);
  });
});
