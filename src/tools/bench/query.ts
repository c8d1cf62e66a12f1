// npm run bench:query: in-process latency of the portal's list and search operations through the
// whole GraphQL layer (parse, validate, execute, serialize) on the configured store.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { createApollo } from '../../apollo.js';
import { loadConfig } from '../../config.js';
import { createContext } from '../../context.js';
import { openStore } from '../../data/open-store.js';
import { formatBytes, formatMs, percentiles } from './stats.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 300);

const LIST = `query List($after: String, $filter: ArticleFilter) {
  articles(first: 20, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { id slug title publishedAt excerpt readingMinutes section { name path { name } } credits { role name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const SECTION = `query SectionPage($slug: String!) {
  section(slug: $slug) {
    name path { name }
    articles(first: 20) { totalCount nodes { slug title publishedAt excerpt credits { name } tags { name } } pageInfo { endCursor } }
  }
}`;
const RELATED = `query Related($id: ID) {
  article(id: $id) { keywords related(kind: RELATED, first: 6) { title reason { keywords score } } }
}`;
const SEARCH = `query Search($query: String!) {
  search(query: $query, first: 20) { totalCount edges { node { score snippet article { slug title publishedAt } } } }
}`;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const store = openStore(config.database);
  await store.migrate();
  const apollo = createApollo({ production: true });
  await apollo.start();
  const run = async <T = unknown>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await apollo.executeOperation({ query, variables }, { contextValue: createContext(store) });
    assert(response.body.kind === 'single');
    const { errors, data } = response.body.singleResult;
    if (errors) throw new Error(JSON.stringify(errors));
    return data as T;
  };
  type ListData = { articles: { totalCount: number; pageInfo: { endCursor: string | null } } };

  const total = (await run<ListData>(LIST)).articles.totalCount;
  console.log(`store: ${config.database.kind === 'sqlite' ? config.database.path : 'PostgreSQL'}, ${total.toLocaleString('en')} articles`);
  if (total < 4_000) console.log('(small store: fill it with `npm run corpus -- --articles 100000` for the archive-scale numbers)');

  // Fixtures: the cursor that opens page 200, sections with articles, a common and a rare search term.
  let after: string | null = null;
  for (let page = 1; page < 200; page++) after = (await run<ListData>(LIST, { after })).articles.pageInfo.endCursor;
  const sections = (await run<{ sections: { slug: string }[] }>('{ sections { slug } }')).sections.map((s) => s.slug);
  const { common, frequent, rare } = await searchTerms(store, total);

  const scenarios: [string, string, () => Record<string, unknown>][] = [
    ['list page 1 (20 items, section, credits, total)', LIST, () => ({})],
    ['list page 200 (keyset cursor)', LIST, () => ({ after })],
    [
      'filtered section page (20 items, tags, total)',
      SECTION,
      (() => {
        let i = 0;
        return () => ({ slug: sections[i++ % sections.length] });
      })(),
    ],
    ['list filtered by section + tag', LIST, () => ({ filter: { section: sections[1], tag: 'rengongzhineng' } })],
    [`search, common term "${common.term}" (${common.share} of articles)`, SEARCH, () => ({ query: common.term })],
    [`search, frequent term "${frequent.term}" (${frequent.share})`, SEARCH, () => ({ query: frequent.term })],
    [`search, rare term "${rare.term}" (${rare.share})`, SEARCH, () => ({ query: rare.term })],
    ['search, mixed "Meta 元宇宙"', SEARCH, () => ({ query: 'Meta 元宇宙' })],
    [
      'article keywords + 6 RELATED (varied articles)',
      RELATED,
      (() => {
        let i = 0;
        return () => ({ id: String(1 + ((i++ * 7919) % total)) });
      })(),
    ],
  ];

  console.log(`\n${ITERATIONS} runs each after 20 warm-up runs, in-process through Apollo Server (ms):`);
  console.log(`${'operation'.padEnd(52)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'p99'.padStart(7)}`);
  for (const [name, query, variables] of scenarios) {
    for (let i = 0; i < 20; i++) await run(query, variables());
    const samples: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const vars = variables();
      const start = performance.now();
      await run(query, vars);
      samples.push(performance.now() - start);
    }
    const p = percentiles(samples);
    console.log(`${name.padEnd(52)} ${formatMs(p.p50).padStart(7)} ${formatMs(p.p95).padStart(7)} ${formatMs(p.p99).padStart(7)}`);
  }

  const { database } = config;
  const size =
    database.kind === 'sqlite'
      ? ['', '-wal', '-shm'].reduce((sum, suffix) => sum + (statSync(database.path + suffix, { throwIfNoEntry: false })?.size ?? 0), 0)
      : NaN;
  console.log(
    `\nstore on disk: ${database.kind === 'sqlite' ? formatBytes(size) : 'n/a (PostgreSQL)'}; process RSS: ${formatBytes(process.memoryUsage().rss)}`,
  );
  await apollo.stop();
  await store.close();
}

/** Search terms at three frequencies, read from the archive's own term statistics. */
async function searchTerms(store: ReturnType<typeof openStore>, total: number) {
  const candidates = [
    '发布',
    '公司',
    '市场',
    '技术',
    '模型',
    '元宇宙',
    'llama',
    '芯片',
    '冠军',
    '羊驼',
    '降准',
    '鸿蒙',
    '草泥马',
    '新能源汽车',
  ];
  const df = await store.termDocumentFrequencies({ terms: candidates });
  const known = candidates.filter((t) => (df.get(t) ?? 0) > 0).sort((a, b) => df.get(b)! - df.get(a)!);
  const describe = (term: string | undefined, fallback: string) => {
    const chosen = term ?? fallback;
    return { term: chosen, share: `${(((df.get(chosen) ?? 0) / Math.max(1, total)) * 100).toFixed(1)}%` };
  };
  // "Frequent": the most common term held by at most a tenth of the archive.
  const frequent = known.find((t) => df.get(t)! <= total / 10);
  return { common: describe(known[0], '发布'), frequent: describe(frequent, '模型'), rare: describe(known.at(-1), '元宇宙') };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
