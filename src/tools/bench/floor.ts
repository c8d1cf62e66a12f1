// npm run bench:floor: what any server reading this store could do for an uncached ArticlePage,
// measured against newsgraph on the same requests. The floor is a bare node:http server with
// prepared better-sqlite3 statements and no GraphQL, no framework and no cache of answers: per
// request it reads the article, its credits and its tags, as newsgraph does, and holds in memory
// what newsgraph's section cache holds (the section tree, curated 热点 lists, each section's
// newest articles). It answers the bench's ArticlePage query with the very bytes newsgraph sends
// (checked on a sample first). SQLite only: BENCH_DATABASE_URL=sqlite:FILE npm run bench:floor.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import type { Selectable } from 'kysely';
import type { ArticlesTable } from '../../data/tables.js';
import type { ContentBlock } from '../../data/types.js';
import { formatBeijing } from '../../resolvers/DateTime.js';
import { cpuMs, freePort, serverCommand } from './server-command.js';

const STORE_URL = process.env.BENCH_DATABASE_URL ?? 'sqlite:var/bench-100k.db';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = 2;
const SAMPLE = 50;
const ARTICLE_PAGE = `query ArticlePage($slug: String!) { article(slug: $slug) { title source { name } publishedAt section { name path { name } } body { __typename ... on Paragraph { text } ... on Image { caption url } } credits { role label name } tags { name } excerpt wordCount readingMinutes hot: related(kind: HOT, first: 6) { kind title summary url } } }`;
const HOT_ITEMS = 6;

interface SectionRow {
  id: number;
  name: string;
  parent_id: number | null;
}
interface HotItem {
  kind: 'HOT';
  title: string | null;
  summary: string | null;
  url: string | null;
  articleId: number | null;
}

function serveFloor(file: string, port: number): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const sections = new Map(
    db
      .prepare<[], SectionRow>('SELECT id, name, parent_id FROM sections')
      .all()
      .map((s) => [s.id, s]),
  );
  const ancestry = (id: number): SectionRow[] => {
    const path: SectionRow[] = [];
    for (let s = sections.get(id); s && !path.includes(s); s = s.parent_id === null ? undefined : sections.get(s.parent_id))
      path.unshift(s);
    return path;
  };
  const subtree = (id: number): number[] => [...sections.values()].filter((s) => ancestry(s.id).some((a) => a.id === id)).map((s) => s.id);
  const curated = new Map<number, HotItem[]>();
  const teasers = db.prepare<
    [],
    { section_id: number; title: string | null; summary: string | null; url: string | null; article_id: number | null }
  >("SELECT section_id, title, summary, url, article_id FROM teasers WHERE kind = 'HOT' ORDER BY section_id, position");
  for (const t of teasers.all()) {
    const list = curated.get(t.section_id) ?? [];
    list.push({ kind: 'HOT', title: t.title, summary: t.summary, url: t.url, articleId: t.article_id });
    curated.set(t.section_id, list);
  }
  const now = Date.now();
  const newest = new Map<number, { id: number; title: string; excerpt: string }[]>();
  for (const id of sections.keys()) {
    const ids = subtree(id);
    newest.set(
      id,
      db
        .prepare<unknown[], { id: number; title: string; excerpt: string }>(
          `SELECT id, title, excerpt FROM articles WHERE section_id IN (${ids.map(() => '?').join(',')})
           AND status = 'PUBLISHED' AND deleted_at IS NULL AND published_at <= ? ORDER BY published_at DESC, id DESC LIMIT 64`,
        )
        .all(...ids, now),
    );
  }
  const bySlug = db.prepare<[string, number], Selectable<ArticlesTable>>(
    "SELECT * FROM articles WHERE slug = ? AND status = 'PUBLISHED' AND deleted_at IS NULL AND published_at <= ?",
  );
  const credits = db.prepare<[number], { role: string; label: string; name: string }>(
    'SELECT role, label, name FROM credits WHERE article_id = ? ORDER BY position',
  );
  const tags = db.prepare<[number], { name: string }>(
    'SELECT tags.name FROM article_tags JOIN tags ON tags.id = article_tags.tag_id WHERE article_tags.article_id = ? ORDER BY article_tags.position',
  );

  const page = (slug: string) => {
    const a = bySlug.get(slug, Date.now());
    if (!a) return null;
    const path = ancestry(a.section_id);
    const nearest =
      [...path]
        .reverse()
        .map((s) => curated.get(s.id) ?? [])
        .find((list) => list.length > 0) ?? [];
    const picked = nearest.slice(0, HOT_ITEMS);
    const shown = new Set(picked.flatMap((i) => (i.articleId === null ? [] : [i.articleId])));
    const fill = (newest.get(a.section_id) ?? []).filter((n) => n.id !== a.id && !shown.has(n.id)).slice(0, HOT_ITEMS - picked.length);
    return {
      title: a.title,
      source: a.source_name === null ? null : { name: a.source_name },
      publishedAt: formatBeijing(a.published_at),
      section: { name: path.at(-1)!.name, path: path.map((s) => ({ name: s.name })) },
      body: (JSON.parse(a.body) as ContentBlock[]).map((b) =>
        b.type === 'paragraph' ? { __typename: 'Paragraph', text: b.text } : { __typename: 'Image', caption: b.caption, url: b.url },
      ),
      credits: credits.all(a.id),
      tags: tags.all(a.id),
      excerpt: a.excerpt,
      wordCount: a.word_count,
      readingMinutes: a.reading_minutes,
      hot: [
        ...picked.map(({ kind, title, summary, url }) => ({ kind, title, summary, url })),
        ...fill.map((n) => ({ kind: 'HOT', title: n.title, summary: n.excerpt, url: null })),
      ],
    };
  };

  createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { variables } = JSON.parse(Buffer.concat(chunks).toString()) as { variables: { slug: string } };
      // Apollo ends its JSON with a newline.
      const body = Buffer.from(`${JSON.stringify({ data: { article: page(variables.slug) } })}\n`);
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      response.end(body);
    });
  }).listen(port, '127.0.0.1');
}

interface Started {
  name: 'floor' | 'newsgraph';
  child: ChildProcess;
  url: string;
}

/** Every server started, so none outlives a failed run. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill();
});

async function start(name: Started['name'], file: string, server: { command: string; args: string[] }): Promise<Started> {
  const port = await freePort();
  const child =
    name === 'floor'
      ? spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, 'serve', file, String(port)], { stdio: 'inherit' })
      : spawn(server.command, server.args, {
          cwd: new URL('../../../', import.meta.url),
          env: {
            ...process.env,
            NODE_ENV: 'production',
            PORT: String(port),
            HOST: '127.0.0.1',
            LOG_LEVEL: 'error',
            DATABASE_URL: STORE_URL,
          },
          stdio: 'inherit',
        });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const url = `http://127.0.0.1:${port}/graphql`;
  for (let tries = 0; ; tries++) {
    const ok = await ask(url, '').then(
      () => true,
      () => false,
    );
    if (ok) return { name, child, url };
    if (tries > 600 || child.exitCode !== null) throw new Error(`${name} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function ask(url: string, slug: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: ARTICLE_PAGE, variables: { slug } }),
  });
  return response.text();
}

async function drive(url: string, slugs: readonly string[], seconds: number): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url,
    connections: 32,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ query: ARTICLE_PAGE, variables: { slug: slugs[next++ % slugs.length] } }),
        }),
      },
    ],
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === 'serve') return serveFloor(process.argv[3]!, Number(process.argv[4]));
  if (!STORE_URL.startsWith('sqlite:')) throw new Error(`bench:floor reads SQLite only; BENCH_DATABASE_URL is ${STORE_URL}`);
  const file = STORE_URL.slice('sqlite:'.length);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const slugs = db
    .prepare<[number], { slug: string }>(
      "SELECT slug FROM articles WHERE status = 'PUBLISHED' AND deleted_at IS NULL AND published_at <= ? ORDER BY id",
    )
    .all(Date.now())
    .map((r) => r.slug);
  db.close();
  const server = serverCommand();
  // The warm-ups read articles the measured runs never ask for.
  const warm = slugs.slice(-5_000);
  const measured = slugs.slice(0, -5_000);

  // The floor must answer what newsgraph answers, byte for byte, or it measures something else.
  const floor = await start('floor', file, server);
  const newsgraph = await start('newsgraph', file, server);
  const sample = Array.from({ length: SAMPLE }, (_, i) => warm[Math.floor((i * warm.length) / SAMPLE)]!);
  for (const slug of sample) assert.equal(await ask(floor.url, slug), await ask(newsgraph.url, slug), `the answers for ${slug} differ`);
  for (const s of [floor, newsgraph]) s.child.kill();
  console.log(
    `${file}: ${measured.length.toLocaleString('en')} public articles to ask for, ${warm.length.toLocaleString('en')} more for warm-ups; the floor's answers equal newsgraph's, byte for byte, for ${SAMPLE} sampled articles`,
  );
  console.log(`uncached ArticlePage, 32 connections, ${SECONDS} s runs after 2 s warm-ups, a fresh process each run, alternating\n`);
  console.log('| round | server | req/s | p50 ms | p99 ms | CPU ms/page | failures |\n| --- | --- | --- | --- | --- | --- | --- |');

  const totals = { floor: { requests: 0, cpu: 0 }, newsgraph: { requests: 0, cpu: 0 } };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const name of ['floor', 'newsgraph'] as const) {
      const s = await start(name, file, server);
      await drive(s.url, warm, 2);
      const before = cpuMs(s.child.pid!);
      const result = await drive(s.url, measured, SECONDS);
      const cpu = cpuMs(s.child.pid!) - before;
      s.child.kill();
      const requests = result.requests.total;
      if (requests > measured.length) console.log(`(${name} ran through all ${measured.length} articles; some were asked twice)`);
      totals[name].requests += requests;
      totals[name].cpu += cpu;
      const failures = result.non2xx + result.errors;
      console.log(
        `| ${round} | ${name} | ${Math.round(result.requests.average).toLocaleString('en')} | ${result.latency.p50} | ${result.latency.p99} | ${(cpu / requests).toFixed(3)} | ${failures} |`,
      );
    }
  }
  const perPage = (name: 'floor' | 'newsgraph') => totals[name].cpu / totals[name].requests;
  console.log(
    `\nnewsgraph: ${(totals.newsgraph.requests / totals.floor.requests).toLocaleString('en', { style: 'percent', maximumFractionDigits: 1 })} of the floor's pages,` +
      ` at ${(perPage('newsgraph') / perPage('floor')).toFixed(1)}× its CPU a page. Divide by the ceiling of npm run bench on the same machine for the shares of it.`,
  );
}

await main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
