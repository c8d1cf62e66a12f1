// The bench's workloads: the fixtures taken from the store through the API, the request lists each
// scenario sends (the portal's mix among them), and the answers recorded to expect of them.
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseConfig } from '../../../config.js';
import { type BenchRequest, drive, type Expected, type Workload } from '../load.js';
import type { Server } from './processes.js';
import { ARTICLES, CONNECTIONS, MAX_SLUGS, MIX_LENGTH, progress, SECONDS } from './settings.js';

const ARTICLE_PAGE = `query ArticlePage($slug: String!) { article(slug: $slug) { title source { name } publishedAt section { name path { name } } body { __typename ... on Paragraph { text } ... on Image { caption url } } credits { role label name } tags { name } excerpt wordCount readingMinutes hot: related(kind: HOT, first: 6) { kind title summary url } } }`;
const SECTION_PAGE = `query SectionPage($slug: String!) { section(slug: $slug) { name path { name } articles(first: 20) { totalCount nodes { slug title publishedAt excerpt credits { name } tags { name } } pageInfo { endCursor hasNextPage } } } }`;
const SEARCH = `query Search($query: String!) { search(query: $query, first: 10) { totalCount edges { node { score snippet article { slug title publishedAt } } } } }`;
/** A different alias per request: no response cache, and no parse cache either, has seen the query before. */
const uniqueQuery = (n: number) => `query Unique($slug: String!) { article(slug: $slug) { title excerpt wordCount u${n}: slug } }`;

const JSON_POST = { 'content-type': 'application/json' };
// Not needed since GETs are answered without it; kept so the GET scenarios send what their recorded results were measured with.
const PREFLIGHT = { 'apollo-require-preflight': 'true' };

interface Operation {
  name: string;
  query: string;
  sha256: string;
}
const operation = (name: string, query: string): Operation => ({ name, query, sha256: createHash('sha256').update(query).digest('hex') });
const OPERATIONS = {
  article: operation('ArticlePage', ARTICLE_PAGE),
  section: operation('SectionPage', SECTION_PAGE),
  search: operation('Search', SEARCH),
};

// ---------------------------------------------------------------- fixtures

export interface Fixtures {
  total: number;
  /** Disjoint sets of article slugs, one per use. */
  cached: string[];
  mix: string[];
  uniquePool: string[];
  warm: string[];
  uncached: string[];
  sections: string[];
  terms: string[];
}

export async function collectFixtures(server: Server, database: DatabaseConfig): Promise<Fixtures> {
  type Page = { articles: { nodes: { slug: string }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } };
  const total = (await graphql<{ articles: { totalCount: number } }>(server, '{ articles(first: 1) { totalCount } }')).articles.totalCount;
  if (total < 1_000) {
    throw new Error(
      `the store holds ${total} articles; fill it first (npm run corpus -- --articles ${ARTICLES}, or npm run import -- EXPORT.jsonl into an empty store)`,
    );
  }
  const slugs: string[] = [];
  for (let after: string | null = null; slugs.length < Math.min(total, MAX_SLUGS); ) {
    const page: Page = await graphql<Page>(
      server,
      'query Slugs($after: String) { articles(first: 100, after: $after) { nodes { slug } pageInfo { endCursor hasNextPage } } }',
      { after },
    );
    slugs.push(...page.articles.nodes.map((node) => node.slug));
    if (!page.articles.pageInfo.hasNextPage) break;
    after = page.articles.pageInfo.endCursor;
  }
  shuffle(slugs, random(1));
  // Each use takes its own slugs, so no scenario warms another's articles; a small store shrinks them all.
  let taken = 0;
  const take = (wanted: number) => slugs.slice(taken, (taken += Math.min(wanted, Math.floor(slugs.length / 10))));
  const cached = take(1_000);
  const mix = take(5_000);
  const uniquePool = take(2_000);
  const warm = take(2_000);
  const uncached = slugs.slice(taken);
  const sections = (await graphql<{ sections: { slug: string }[] }>(server, '{ sections { slug } }')).sections.map(
    (section) => section.slug,
  );
  return { total, cached, mix, uniquePool, warm, uncached, sections, terms: await searchTerms(database, 50) };
}

/**
 * Search words from the store's own term statistics (read directly, for choosing fixtures only):
 * Chinese words of two to four characters at evenly spaced ranks of how many articles hold them,
 * so a few very common words and many ordinary and rare ones, as readers type them.
 */
async function searchTerms(database: DatabaseConfig, count: number): Promise<string[]> {
  const statistics = 'SELECT term FROM search_terms WHERE articles > 1 ORDER BY articles DESC, term';
  let terms: string[];
  if (database.kind === 'sqlite') {
    const db = new Database(database.path, { readonly: true, fileMustExist: true });
    try {
      terms = (db.prepare(statistics).all() as { term: string }[]).map((row) => row.term);
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // ORDER BY term in the C collation, as SQLite compares: the same store gives the same words.
      terms = (await client.query<{ term: string }>(`${statistics} COLLATE "C"`)).rows.map((row) => row.term);
    } finally {
      await client.end();
    }
  }
  const words = terms.filter((term) => /^\p{Script=Han}{2,4}$/u.test(term));
  if (words.length < count) throw new Error(`the store holds only ${words.length} usable search words`);
  return Array.from({ length: count }, (_, i) => words[Math.floor((i * words.length) / count)]!);
}

async function graphql<T>(server: Server, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
    method: 'POST',
    headers: JSON_POST,
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (response.status !== 200 || body.errors || !body.data)
    throw new Error(`fixture query failed (${response.status}): ${JSON.stringify(body).slice(0, 500)}`);
  return body.data;
}

// ---------------------------------------------------------------- requests and workloads

export function articlePost(slug: string, once = false): BenchRequest {
  return post(`ArticlePage ${slug}`, ARTICLE_PAGE, { slug }, once);
}

function post(label: string, query: string, variables: Record<string, unknown>, once = false): BenchRequest {
  return { method: 'POST', path: '/graphql', headers: JSON_POST, body: JSON.stringify({ query, variables }), once, label };
}

function persistedGet(op: Operation, variables: Record<string, unknown>, label: string): BenchRequest {
  const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: op.sha256 } });
  const path = `/graphql?operationName=${op.name}&variables=${encodeURIComponent(JSON.stringify(variables))}&extensions=${encodeURIComponent(extensions)}`;
  return { method: 'GET', path, headers: PREFLIGHT, once: false, label };
}

export function listWorkload(name: string, requests: BenchRequest[]): Workload {
  return { name, requests, order: requests.map((_, i) => i), expected: requests.map(() => undefined) };
}

/**
 * The portal's traffic: 60% article pages over ~5,000 articles, 25% section pages, 10% searches
 * over 50 words, 5% unique queries; pre-shuffled with a fixed seed and walked in order by all
 * connections together, so the shares hold over any stretch of the run. Unique queries are
 * numbered from `firstUnique`, so no two workloads sent to one process share one.
 */
export function mixWorkload(
  name: string,
  fixtures: Fixtures,
  canonicals: Map<string, Expected>,
  { apq, firstUnique }: { apq: boolean; firstUnique: number },
): Workload {
  const next = random(7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const requests: BenchRequest[] = [];
  const expected: (Expected | undefined)[] = [];
  const known = new Map<string, number>();
  const order: number[] = [];
  const shared = (label: string, op: Operation, variables: Record<string, unknown>) => {
    let index = known.get(label);
    if (index === undefined) {
      index = requests.push(apq ? persistedGet(op, variables, label) : post(label, op.query, variables)) - 1;
      expected.push(undefined);
      known.set(label, index);
    }
    return index;
  };
  let unique = firstUnique;
  for (let i = 0; i < MIX_LENGTH; i++) {
    const share = next();
    if (share < 0.6) {
      const slug = pick(fixtures.mix);
      order.push(shared(`ArticlePage ${slug}`, OPERATIONS.article, { slug }));
    } else if (share < 0.85) {
      const slug = pick(fixtures.sections);
      order.push(shared(`SectionPage ${slug}`, OPERATIONS.section, { slug }));
    } else if (share < 0.95) {
      const term = pick(fixtures.terms);
      order.push(shared(`Search ${term}`, OPERATIONS.search, { query: term }));
    } else {
      const n = unique++;
      const slug = fixtures.uniquePool[n % fixtures.uniquePool.length]!;
      order.push(requests.push(post(`Unique u${n} ${slug}`, uniqueQuery(n), { slug }, true)) - 1);
      expected.push(uniqueAnswer(canonicals.get(slug)!, n));
    }
  }
  return { name, requests, order, expected };
}

// ---------------------------------------------------------------- recording the answers

/** Answers by server process and request, so a list is fetched from a process only once. */
const answered = new Map<string, Expected>();
/** The first answer any process gave to each request, to catch answers that change between processes. */
const firstAnswers = new Map<string, Buffer>();
const requestKey = (request: BenchRequest) => `${request.method} ${request.path}\n${request.body ?? ''}`;

/** Fetches every distinct request of the workload that has no answer yet once: the answers to expect, and a warm-up. */
export async function record(server: Server, workload: Workload, notes: string[]): Promise<void> {
  // Once-only requests are never fetched here: unique queries' answers are derived, uncached ones recorded apart.
  const shared = workload.requests.flatMap((request, i) => (request.once ? [] : [i]));
  const fresh = shared.filter((i) => !answered.has(`${server.pid} ${requestKey(workload.requests[i]!)}`)).length;
  if (fresh)
    progress(
      `${workload.name}: fetching ${fresh.toLocaleString('en')} distinct requests once from newsgraph (the answers to expect, and a warm-up)`,
    );
  let changed = 0;
  let example = '';
  await inParallel(shared, CONNECTIONS, async (i) => {
    const request = workload.requests[i]!;
    const key = requestKey(request);
    let answer = answered.get(`${server.pid} ${key}`);
    if (!answer) {
      answer = await fetchAnswer(server, request);
      answered.set(`${server.pid} ${key}`, answer);
      const first = firstAnswers.get(key);
      if (!first) firstAnswers.set(key, answer.body);
      else if (!first.equals(answer.body)) {
        changed++;
        example ||= `${request.label}: ${describeDifference(first, answer.body)}`;
      }
    }
    workload.expected[i] = answer;
  });
  if (changed)
    notes.push(
      `${workload.name}: ${changed} answers differ from an earlier newsgraph process's answer to the same request; e.g. ${example}`,
    );
}

/**
 * The uncached list is recorded the way it will be sent: autocannon over unused articles, each
 * once, for twice the run's length, so the fresh process can answer twice as fast before it runs
 * out. Only what was answered makes the list.
 */
export async function recordUncached(server: Server, slugs: string[], notes: string[]): Promise<Workload> {
  const candidates = listWorkload(
    'uncached recording',
    slugs.map((slug) => articlePost(slug, true)),
  );
  const answers = new Map<number, Expected>();
  progress(`uncached ArticlePage: recording answers for ${2 * SECONDS} s from this newsgraph process`);
  const run = await drive({
    port: server.port,
    workload: candidates,
    cursor: { next: 0 },
    seconds: 2 * SECONDS,
    connections: CONNECTIONS,
    verify: false,
    enforceOnce: true,
    capture: (slot, answer) => answers.set(slot, answer),
  });
  const slots = [...answers.keys()].sort((a, b) => a - b);
  for (const slot of slots) {
    const { body } = answers.get(slot)!;
    if ((JSON.parse(body.toString()) as { errors?: unknown }).errors)
      throw new Error(`${candidates.requests[slot]!.label} answered with errors: ${body.toString().slice(0, 500)}`);
  }
  if (run.repeats)
    notes.push(
      `uncached ArticlePage: the store's ${slugs.length} unused articles ran out while recording; the uncached row is not trustworthy`,
    );
  if (run.non2xx || run.errors)
    notes.push(`uncached ArticlePage: ${run.non2xx} non-2xx answers and ${run.errors} errors while recording (left out of the list)`);
  progress(`uncached ArticlePage: recorded ${slots.length.toLocaleString('en')} answers (${Math.round(run.good / run.seconds)} req/s)`);
  const requests = slots.map((slot) => candidates.requests[slot]!);
  return { name: 'uncached ArticlePage', requests, order: requests.map((_, i) => i), expected: slots.map((slot) => answers.get(slot)!) };
}

/** Each unique query's answer is the answer to its `u0` form with the alias renumbered; the `u0` forms are fetched from the first process only. */
export async function recordUniqueCanonicals(server: Server, slugs: string[]): Promise<Map<string, Expected>> {
  const canonicals = new Map<string, Expected>();
  await inParallel(slugs, CONNECTIONS, async (slug) => {
    const answer = await fetchAnswer(server, post(`Unique u0 ${slug}`, uniqueQuery(0), { slug }));
    uniqueAnswer(answer, 1);
    canonicals.set(slug, answer);
  });
  return canonicals;
}

function uniqueAnswer(canonical: Expected, n: number): Expected {
  const text = canonical.body.toString();
  const alias = ',"u0":"';
  const at = text.lastIndexOf(alias);
  if (at < 0 || text.indexOf(alias) !== at) throw new Error(`unexpected answer to the unique query: ${text.slice(0, 300)}`);
  return { ...canonical, body: Buffer.from(`${text.slice(0, at)},"u${n}":"${text.slice(at + alias.length)}`) };
}

export async function registerPersistedQueries(server: Server, fixtures: Fixtures): Promise<void> {
  const examples: [Operation, Record<string, unknown>][] = [
    [OPERATIONS.article, { slug: fixtures.mix[0] }],
    [OPERATIONS.section, { slug: fixtures.sections[0] }],
    [OPERATIONS.search, { query: fixtures.terms[0] }],
  ];
  for (const [op, variables] of examples) {
    const extensions = { persistedQuery: { version: 1, sha256Hash: op.sha256 } };
    const response = await fetch(`http://127.0.0.1:${server.port}/graphql`, {
      method: 'POST',
      headers: JSON_POST,
      body: JSON.stringify({ query: op.query, variables, extensions }),
    });
    const text = await response.text();
    if (response.status !== 200 || text.includes('"errors"'))
      throw new Error(`registering ${op.name} as a persisted query failed (${response.status}): ${text.slice(0, 300)}`);
  }
}

async function fetchAnswer(server: Server, request: BenchRequest): Promise<Expected> {
  const response = await fetch(`http://127.0.0.1:${server.port}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  const body = Buffer.from(await response.arrayBuffer());
  // An error is never the answer to expect: the fixture itself is broken.
  if (response.status < 200 || response.status > 299 || (JSON.parse(body.toString()) as { errors?: unknown }).errors) {
    throw new Error(`${request.label} answered ${response.status}: ${body.toString().slice(0, 500)}`);
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** mulberry32: the same "random" choices on every run, so every run sends the same lists. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], next: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

/** Where two JSON answers first differ, as a path; the start of the text when one is not JSON. */
export function describeDifference(expected: Buffer, actual: Buffer): string {
  let want: unknown;
  let got: unknown;
  try {
    want = JSON.parse(expected.toString());
    got = JSON.parse(actual.toString());
  } catch {
    return `body ${JSON.stringify(actual.toString().slice(0, 200))}`;
  }
  return firstDifference(want, got, '') ?? 'same JSON, different bytes (key order or spacing)';
}

function firstDifference(want: unknown, got: unknown, path: string): string | undefined {
  if (Object.is(want, got)) return undefined;
  const show = (value: unknown) => JSON.stringify(value)?.slice(0, 120) ?? 'undefined';
  if (typeof want !== 'object' || typeof got !== 'object' || want === null || got === null || Array.isArray(want) !== Array.isArray(got)) {
    return `${path || '(root)'}: expected ${show(want)}, got ${show(got)}`;
  }
  for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const difference = firstDifference(
      Reflect.get(want, key),
      Reflect.get(got, key),
      Array.isArray(want) ? `${path}[${key}]` : path ? `${path}.${key}` : key,
    );
    if (difference) return difference;
  }
  return undefined;
}
