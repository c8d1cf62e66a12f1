import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { gql } from 'graphql-tag';
import { vi } from 'vitest';
import { beijingTime, type MainProcess, pageText, SEED_FILE, startMainProcess } from './helpers.js';

// What the client-library tests (Apollo Client, urql with graphcache) share: the pages a portal's
// front end asks for, a production server holding enough articles to page through, and a net
// for the warnings a client cache prints when it cannot keep an answer whole.

export const SEED_SLUG = '20230423-7c45cae95cf3';
export const EXTRA_ARTICLES = 5;

/** The README's first example: the whole article page. */
export const ARTICLE_PAGE: TypedDocumentNode<{ article: { id: string } }, { slug: string }> = gql`
  query ArticlePage($slug: String!) {
    article(slug: $slug) {
      id
      title
      source { name }
      publishedAt
      section { id name path { id name } }
      body {
        __typename
        ... on Paragraph { text }
        ... on Image { caption url }
      }
      credits { role label name }
      tags { id name }
      excerpt
      wordCount
      readingMinutes
      hot: related(kind: HOT, first: 6) { kind title summary url }
    }
  }
`;

export interface Card {
  id: string;
  slug: string;
  title: string;
  source: { name: string; url: string | null } | null;
  tags: { id: string; name: string; slug: string }[];
}
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** A section page's cards, two at a time. */
export const SECTION_CARDS: TypedDocumentNode<
  { section: { id: string; name: string; articles: Page<Card> } },
  { slug: string; after?: string | null }
> = gql`
  query SectionCards($slug: String!, $after: String) {
    section(slug: $slug) {
      id
      name
      articles(first: 2, after: $after) {
        edges { cursor node { id slug title publishedAt excerpt source { name url } tags { id name slug } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

export const SEARCH: TypedDocumentNode<
  { search: Page<{ score: number; snippet: string; article: { id: string; slug: string; title: string } }> },
  { query: string; after?: string | null }
> = gql`
  query Search($query: String!, $after: String) {
    search(query: $query, first: 2, after: $after) {
      edges { cursor node { score snippet article { id slug title source { name } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

type Block = { __typename: 'Paragraph'; text: string } | { __typename: 'Image'; caption: string | null };
export const BLOCKS: TypedDocumentNode<{ article: { id: string; body: Block[] } }, { slug: string }> = gql`
  query ArticleBlocks($slug: String!) {
    article(slug: $slug) { id body { ...Block } }
  }
  fragment Block on ContentBlock {
    __typename
    ... on Paragraph { text }
    ... on Image { caption }
  }
`;

/**
 * A production server process (introspection off) over a fresh SQLite store seeded with the seed
 * page and EXTRA_ARTICLES more in its section, so lists and search page two at a time.
 * `close` stops it and removes its folder.
 */
export async function startPortalServer(
  name: string,
  env: Record<string, string> = {},
): Promise<{ main: MainProcess; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `newsgraph-${name}-`));
  const pages = join(dir, 'pages');
  mkdirSync(pages);
  copyFileSync(SEED_FILE, join(pages, basename(SEED_FILE)));
  for (let i = 0; i < EXTRA_ARTICLES; i++) {
    writeFileSync(
      join(pages, `extra-${i}.txt`),
      pageText({
        title: `元宇宙产业观察第${i + 1}期`,
        time: beijingTime(i * 60),
        paragraphs: [`第${i + 1}期：元宇宙产业的新动向。`],
        credits: `撰文:记者${i + 1}`,
        tags: ['元宇宙', `观察${i + 1}`],
      }),
    );
  }
  const env_ = { DATABASE_URL: `sqlite:${join(dir, 'newsgraph.db')}`, SEED_PATH: pages, NODE_ENV: 'production', ...env };
  let main: MainProcess;
  try {
    main = await startMainProcess(env_);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    main,
    dir,
    async close() {
      if (main.child.exitCode === null) {
        main.child.kill('SIGTERM');
        await main.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Collects what a test's code prints through console.warn and console.error; call in beforeEach, and restore mocks after each. */
export function catchWarnings(): unknown[][] {
  const warnings: unknown[][] = [];
  for (const level of ['warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void warnings.push([level, ...args]));
  }
  return warnings;
}
