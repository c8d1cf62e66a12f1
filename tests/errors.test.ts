import assert from 'node:assert/strict';
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApollo } from '../src/apollo.js';
import { type Context, createContext } from '../src/context.js';
import { SectionCycleError, SectionNotFoundError, SlugTakenError, VersionConflictError } from '../src/data/errors.js';
import { PageParseError } from '../src/ingest/parse-page.js';
import { ADMIN, createTestStore, EDITOR, pageText, type TestStore } from './helpers.js';

// What the log gets: a client error made from another error keeps that error
// as its cause, so the log shows why the store or the parser said no.

describe('client errors made from another error', () => {
  let testStore: TestStore;
  let apollo: ApolloServer<Context>;
  let seen: readonly GraphQLError[] = [];
  const capture: ApolloServerPlugin<Context> = {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          seen = errors;
        },
      };
    },
  };

  beforeAll(async () => {
    testStore = await createTestStore();
    apollo = createApollo({ production: false, plugins: [capture] });
  });
  afterAll(async () => {
    await apollo.stop();
    await testStore.close();
  });
  beforeEach(() => {
    seen = [];
  });

  /** Runs an operation that must fail with `code`, and returns the error its resolver made (graphql-js wraps it once more). */
  async function causeOf(query: string, variables: Record<string, unknown>, viewer = EDITOR, code = 'BAD_USER_INPUT'): Promise<unknown> {
    const response = await apollo.executeOperation({ query, variables }, { contextValue: createContext(testStore.store, viewer) });
    assert(response.body.kind === 'single');
    const body = response.body.singleResult;
    expect(body.errors?.[0]?.extensions?.code, JSON.stringify(body, null, 2)).toBe(code);
    const [error] = seen;
    const made = error?.originalError;
    expect(made, JSON.stringify(body, null, 2)).toBeDefined();
    return (made as GraphQLError).originalError;
  }

  const CREATE = `mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id slug version } } }`;
  const sectionId = async () => {
    const response = await apollo.executeOperation(
      { query: `{ section(slug: "yuanchuang") { id } }` },
      { contextValue: createContext(testStore.store) },
    );
    assert(response.body.kind === 'single');
    return (response.body.singleResult.data as { section: { id: string } }).section.id;
  };
  const input = async (title: string, extra: Record<string, unknown> = {}) => ({
    title,
    section: await sectionId(),
    body: [{ paragraph: `${title}的正文。` }],
    ...extra,
  });

  it("keeps the store's refusal of a taken slug", async () => {
    const response = await apollo.executeOperation(
      { query: CREATE, variables: { input: await input('占用网址', { slug: 'taken-slug' }) } },
      { contextValue: createContext(testStore.store, EDITOR) },
    );
    assert(response.body.kind === 'single');
    expect(response.body.singleResult.errors).toBeUndefined();
    expect(await causeOf(CREATE, { input: await input('又一篇', { slug: 'taken-slug' }) })).toBeInstanceOf(SlugTakenError);
  });

  it("keeps the store's refusal of a missing section", async () => {
    expect(await causeOf(CREATE, { input: { ...(await input('无栏目')), section: '99999' } })).toBeInstanceOf(SectionNotFoundError);
  });

  it("keeps the store's refusal of a section cycle", async () => {
    const id = await sectionId();
    const MOVE = `mutation($id: ID!, $parent: ID!) { moveSection(id: $id, parent: $parent) { section { id } } }`;
    expect(await causeOf(MOVE, { id, parent: id }, ADMIN)).toBeInstanceOf(SectionCycleError);
  });

  it('keeps the version conflict behind CONFLICT', async () => {
    const created = await apollo.executeOperation(
      { query: CREATE, variables: { input: await input('冲突') } },
      { contextValue: createContext(testStore.store, EDITOR) },
    );
    assert(created.body.kind === 'single');
    const { id } = (created.body.singleResult.data as { createArticle: { article: { id: string } } }).createArticle.article;
    const UPDATE = `mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { title: "改" }) { article { id } } }`;
    expect(await causeOf(UPDATE, { id, v: 7 }, EDITOR, 'CONFLICT')).toBeInstanceOf(VersionConflictError);
  });

  it("keeps an import's parse failure, and every one of several", async () => {
    const IMPORT = `mutation($pages: [String!]!) { importPages(pages: $pages) { pages { status } } }`;
    const bad = '首页 > 原创 > 正文\n\n来源:某网 2023-06-01 10:00:00\n\n正文\n';
    expect(await causeOf(IMPORT, { pages: [pageText({ title: '好的一页', time: '2023-06-01 10:00:00' }), bad] })).toBeInstanceOf(
      PageParseError,
    );
    const several = await causeOf(IMPORT, { pages: [bad, bad] });
    expect(several).toBeInstanceOf(AggregateError);
    expect((several as AggregateError).errors.map((e: unknown) => e instanceof PageParseError)).toEqual([true, true]);
  });
});
