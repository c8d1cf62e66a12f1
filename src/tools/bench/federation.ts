// npm run bench:federation: what serving as a federation subgraph costs an ArticlePage, in-process
// through Apollo Server on the configured store (seeded from data/pages when empty): the plain
// schema against the subgraph schema, on graphql-jit and on graphql-js, and the same page's fields
// asked for as a gateway asks, through `_entities`. The scenarios take turns in rounds, so drift
// in the machine's speed falls on each alike.
import assert from 'node:assert/strict';
import { parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { createApollo } from '../../apollo.js';
import { type Executor, loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { openStore } from '../../data/open-store.js';
import { seedIfEmpty } from '../../ingest/import-pages.js';
import { buildSchema } from '../../schema.js';
import { formatMs, percentiles } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const PER_ROUND = Number(process.env.BENCH_ITERATIONS ?? 200);
const WARM_UP = 50;

const PAGE_FIELDS = `title source { name } publishedAt section { name path { name } }
  body { __typename ... on Paragraph { text } ... on Image { caption url } }
  credits { role label name } tags { name } excerpt wordCount readingMinutes
  hot: related(kind: HOT, first: 6) { kind title summary url }`;
const ARTICLE_PAGE = `query ArticlePage($slug: String!) { article(slug: $slug) { ${PAGE_FIELDS} } }`;
const ENTITIES_PAGE = `query ArticleEntities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Article { ${PAGE_FIELDS} } }
}`;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const store = openStore(config.database);
  await store.migrate();
  await seedIfEmpty(store, config.seedPath);

  const servers = new Map<string, ReturnType<typeof createApollo>>();
  const server = (executor: Executor, federation: boolean) => {
    const key = `${executor}/${federation}`;
    let apollo = servers.get(key);
    if (!apollo) servers.set(key, (apollo = createApollo({ production: true, executor, federation })));
    return apollo;
  };
  for (const executor of ['jit', 'graphql-js'] as const) for (const federation of [false, true]) await server(executor, federation).start();

  const run = async (apollo: ReturnType<typeof createApollo>, query: string, variables: Record<string, unknown>) => {
    const response = await apollo.executeOperation({ query, variables }, { contextValue: createContext(store) });
    assert(response.body.kind === 'single');
    const { errors, data } = response.body.singleResult;
    // On graphql-jit a run after the first is the compiled operation: a failed compilation comes back as errors.
    if (errors) throw new Error(JSON.stringify(errors));
    return data;
  };

  const { articles } = (await run(server('jit', false), '{ articles(first: 1) { nodes { id slug } } }', {})) as {
    articles: { nodes: { id: string; slug: string }[] };
  };
  const article = articles.nodes[0];
  if (!article) throw new Error('the store holds no public article to ask for');
  const page = { slug: article.slug };
  const entity = { representations: [{ __typename: 'Article', id: article.id }] };

  const scenarios: [string, ReturnType<typeof createApollo>, string, Record<string, unknown>][] = [
    ['ArticlePage, plain schema, graphql-jit', server('jit', false), ARTICLE_PAGE, page],
    ['ArticlePage, subgraph schema, graphql-jit', server('jit', true), ARTICLE_PAGE, page],
    ['ArticlePage via _entities, subgraph, graphql-jit', server('jit', true), ENTITIES_PAGE, entity],
    ['ArticlePage, plain schema, graphql-js', server('graphql-js', false), ARTICLE_PAGE, page],
    ['ArticlePage, subgraph schema, graphql-js', server('graphql-js', true), ARTICLE_PAGE, page],
    ['ArticlePage via _entities, subgraph, graphql-js', server('graphql-js', true), ENTITIES_PAGE, entity],
  ];

  // Both operations compile on the subgraph schema (the executor would answer with errors otherwise; this says so up front).
  const subgraph = buildSchema({ federation: true });
  for (const [name, query] of [
    ['ArticlePage', ARTICLE_PAGE],
    ['_entities', ENTITIES_PAGE],
  ] as const) {
    console.log(`graphql-jit compiles ${name} on the subgraph schema: ${isCompiledQuery(compileQuery(subgraph, parse(query)))}`);
  }
  for (const federation of [false, true]) {
    const times = Array.from({ length: 7 }, () => {
      const start = performance.now();
      buildSchema({ federation });
      return performance.now() - start;
    });
    console.log(`building the ${federation ? 'subgraph' : 'plain'} schema: ${formatMs(percentiles(times).p50)} ms (median of 7)`);
  }
  const answers = await Promise.all(scenarios.map(([, apollo, query, variables]) => run(apollo, query, variables)));
  const [pageAnswer, entityAnswer] = [answers[0] as { article: unknown }, answers[2] as { _entities: unknown[] }];
  assert.deepEqual(entityAnswer._entities[0], pageAnswer.article, '_entities answers the page article(slug:) answers');

  for (const [, apollo, query, variables] of scenarios) for (let i = 0; i < WARM_UP; i++) await run(apollo, query, variables);
  const samples = scenarios.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [index, [, apollo, query, variables]] of scenarios.entries()) {
      for (let i = 0; i < PER_ROUND; i++) {
        const start = performance.now();
        await run(apollo, query, variables);
        samples[index]!.push(performance.now() - start);
      }
    }
  }

  console.log(`\n${ROUNDS} rounds of ${PER_ROUND} runs per scenario after ${WARM_UP} warm-up runs, in-process through Apollo Server (ms):`);
  console.log(`${'operation'.padEnd(52)} ${'mean'.padStart(7)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'p99'.padStart(7)}`);
  for (const [index, [name]] of scenarios.entries()) {
    const p = percentiles(samples[index]!);
    console.log(
      `${name.padEnd(52)} ${formatMs(p.mean).padStart(7)} ${formatMs(p.p50).padStart(7)} ${formatMs(p.p95).padStart(7)} ${formatMs(p.p99).padStart(7)}`,
    );
  }
  for (const apollo of servers.values()) await apollo.stop();
  await store.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
