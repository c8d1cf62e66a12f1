import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApollo } from '../src/apollo.js';
import { createContext } from '../src/context.js';
import { StoreNotEmptyError } from '../src/data/errors.js';
import { openStore } from '../src/data/open-store.js';
import type { ContentStore } from '../src/data/store.js';
import { contentSum, exportToFile, importFromFile, TransferFileError } from '../src/ingest/transfer-file.js';
import { addPage, beijingTime, createTestServer, createTestStore, EDITOR, TEST_STORE, type TestServer } from './helpers.js';

const run = promisify(execFile);

// What a reader and an editor can see of a store: if these answers are equal, nothing was lost.
const VIEWS: [string, Record<string, unknown>][] = [
  [`{ sections { id slug name parent { id } children { id } } }`, {}],
  [
    `{ articles(preview: true, first: 100) { totalCount nodes { id slug title status deleted version publishedAt createdBy updatedBy
      section { id } body { __typename ... on Paragraph { text } ... on Image { caption url } } credits { role label name }
      tags { name slug } excerpt wordCount readingMinutes revisions { version replacedAt replacedBy title slug status deleted publishedAt tags } } } }`,
    {},
  ],
  [`{ articles(first: 100) { totalCount nodes { id } } }`, {}],
  // Not the scores: after edits, SQLite's contentless index keeps counting the replaced text in
  // its length statistics, so an index built fresh by the import scores slightly differently.
  [`{ search(query: "元宇宙", first: 20) { totalCount nodes { article { id } } } }`, {}],
  [
    `query($slug: String!) { article(slug: $slug) { keywords hot: related(kind: HOT, first: 6) { title summary url article { id } } } }`,
    { slug: '20230423-7c45cae95cf3' },
  ],
];

async function views(store: ContentStore): Promise<unknown[]> {
  const apollo = createApollo({ production: false });
  await apollo.start();
  try {
    const answers = [];
    for (const [query, variables] of VIEWS) {
      const response = await apollo.executeOperation({ query, variables }, { contextValue: createContext(store, EDITOR) });
      if (response.body.kind !== 'single' || response.body.singleResult.errors)
        throw new Error(`${query}\n→ ${JSON.stringify(response.body)}`);
      answers.push(response.body.singleResult.data);
    }
    return answers;
  } finally {
    await apollo.stop();
  }
}

describe('moving content: export and import', () => {
  let source: TestServer;
  let file: string;
  beforeAll(async () => {
    source = await createTestServer();
    const t = source;
    await addPage(t.store, {
      title: '城市交通新规',
      time: beijingTime(10),
      paragraphs: ['地铁与公交的新规定。'],
      tags: ['交通', '城市'],
      credits: '撰文:李雷编辑:韩梅梅',
    });
    const sectionId = (await t.expectData(`{ section(slug: "yuanchuang") { id } }`)).section.id;
    const child = (
      await t.expectData(
        `mutation($p: ID!) { createSection(input: { name: "深度", parent: $p }) { section { id } } }`,
        { p: sectionId },
        { name: 'chief', role: 'ADMIN' },
      )
    ).createSection.section.id;
    const create = async (title: string) =>
      (
        await t.expectData(
          `mutation($i: CreateArticleInput!) { createArticle(input: $i) { article { id } } }`,
          {
            i: {
              title,
              section: child,
              body: [{ paragraph: `${title}的正文，关于元宇宙。` }, { image: { caption: '图' } }],
              tags: ['交通'],
            },
          },
          EDITOR,
        )
      ).createArticle.article.id as string;
    const edited = await create('改过两次的文章');
    await t.expectData(`mutation($id: ID!) { publishArticle(id: $id, expectedVersion: 1) { article { id } } }`, { id: edited }, EDITOR);
    await t.expectData(
      `mutation($id: ID!) { updateArticle(id: $id, expectedVersion: 2, input: { title: "改过两次的文章（更正）" }) { article { id } } }`,
      { id: edited },
      EDITOR,
    );
    await create('一篇草稿');
    const deleted = await create('删掉的文章');
    await t.expectData(`mutation($id: ID!) { deleteArticle(id: $id, expectedVersion: 1) { article { id } } }`, { id: deleted }, EDITOR);
    await t.expectData(
      `mutation($s: ID!, $a: ID!) { setHotItems(section: $s, items: [{ title: "热点一", article: $a }, { title: "外链", url: "https://example.com/x" }]) { items { title } } }`,
      { s: sectionId, a: edited },
      EDITOR,
    );
    file = join(t.dir, 'export.jsonl');
  });
  afterAll(() => source.close());

  it('moves everything into an empty store: same counts, same checksum, same answers', async () => {
    const exported = await exportToFile(source.store, file);
    expect(exported.counts).toMatchObject({ articles: 5, tags: 2 });
    expect(exported.counts.revisions).toBeGreaterThanOrEqual(2);
    expect(exported.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    const target = await createTestStore({ seed: false });
    try {
      const { file: read, store: stored } = await importFromFile(target.store, file);
      expect(read).toEqual(exported);
      expect(stored).toEqual(exported);
      expect(await views(target.store)).toEqual(await views(source.store));
      // The moved store takes new content: ids continue after the imported ones.
      const section = await target.store.createSection({ name: '搬家后的栏目', slug: 'after-move', parentId: '1' });
      expect(Number(section.id)).toBeGreaterThan(Number(exported.counts.sections));
    } finally {
      await target.close();
    }
  });

  it('refuses a damaged or cut-short file with file:line, writing nothing', async () => {
    await exportToFile(source.store, file);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const articleLine = lines.findIndex((line) => line.includes('"type":"article"'));
    const damaged = join(source.dir, 'damaged.jsonl');
    const cases: [string[], RegExp][] = [
      [
        lines.map((line, i) => (i === articleLine ? line.replace('元宇宙', '元宇亩') : line)),
        new RegExp(`damaged.jsonl:${lines.length}: checksum mismatch`),
      ],
      [lines.slice(0, -1), /the file ends without its summary line/],
      [
        lines.map((line, i) => (i === articleLine ? '{"type":"article","id":"9"' : line)),
        new RegExp(`damaged.jsonl:${articleLine + 1}: not a JSON line`),
      ],
      [
        lines.map((line, i) => (i === articleLine ? '{"type":"article","id":"9"}' : line)),
        new RegExp(`damaged.jsonl:${articleLine + 1}: an article needs`),
      ],
      [lines.slice(1), /damaged.jsonl:1: not a newsgraph export/],
    ];
    for (const [content, message] of cases) {
      writeFileSync(damaged, `${content.join('\n')}\n`);
      const target = await createTestStore({ seed: false });
      try {
        const failure = await importFromFile(target.store, damaged).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(TransferFileError);
        expect((failure as Error).message).toMatch(message);
        expect((await contentSum(target.store)).counts).toEqual({ sections: 0, tags: 0, articles: 0, revisions: 0, teaserLists: 0 });
      } finally {
        await target.close();
      }
    }
  });

  it('refuses to import into a store that already holds content', async () => {
    await exportToFile(source.store, file);
    const seeded = await createTestStore({ seed: true });
    try {
      const before = await contentSum(seeded.store);
      await expect(importFromFile(seeded.store, file)).rejects.toBeInstanceOf(StoreNotEmptyError);
      expect(await contentSum(seeded.store)).toEqual(before);
    } finally {
      await seeded.close();
    }
  });

  it.runIf(TEST_STORE === 'postgres')(
    'imports as the CLIs open the store, which the request deadline does not stop; a store opened as the server opens it is stopped',
    async () => {
      await exportToFile(source.store, file);
      const asServer = await createTestStore({ seed: false });
      const asCli = await createTestStore({ seed: false });
      // A 1 ms deadline: no import's statements all fit in it (its VACUUM alone takes longer).
      const tight = (t: typeof asServer) => {
        const { database, searchPath } = t.location;
        if (database.kind !== 'postgres') throw new Error('the PostgreSQL half only');
        return { database: { ...database, statementTimeoutMs: 1 }, searchPath };
      };
      const served = (({ database, searchPath }) => openStore(database, { searchPath }))(tight(asServer));
      const bulk = (({ database, searchPath }) => openStore(database, { searchPath, bulk: true }))(tight(asCli));
      try {
        await expect(importFromFile(served, file)).rejects.toMatchObject({ code: '57014' }); // query_canceled: statement timeout
        const { store: stored } = await importFromFile(bulk, file);
        expect(stored.counts).toMatchObject({ articles: 5, tags: 2 });
      } finally {
        await served.close();
        await bulk.close();
        await asServer.close();
        await asCli.close();
      }
    },
  );

  // The CLIs are the same on either store; this runs them on SQLite files.
  it.skipIf(TEST_STORE === 'postgres')('runs as npm run export and npm run import, printing counts and matching checksums', async () => {
    const target = join(source.dir, 'moved.db');
    const cli = (script: string, args: string[], database: string) =>
      run(process.execPath, ['--import', 'tsx', script, ...args], {
        env: { ...process.env, DATABASE_URL: `sqlite:${database}`, SEED_PATH: '' },
      });
    const sourceDb = join(source.dir, 'newsgraph.db');
    const exported = await cli('src/ingest/export-cli.ts', [join(source.dir, 'cli.jsonl')], sourceDb);
    const checksum = /checksum (sha256:[0-9a-f]{64})/.exec(exported.stdout)?.[1];
    expect(exported.stdout).toMatch(/exported \d+ sections, 2 tags, 5 articles with \d+ revisions, \d+ teaser lists/);
    const imported = await cli('src/ingest/cli.ts', [join(source.dir, 'cli.jsonl')], target);
    expect(imported.stdout).toContain(`checksum of the file  ${checksum}`);
    expect(imported.stdout).toContain(`checksum of the store ${checksum}`);
    expect(imported.stdout).toContain('match: the store holds exactly what the file does');
    const again = await cli('src/ingest/cli.ts', [join(source.dir, 'cli.jsonl')], target).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(again).toMatchObject({ code: 1 });
    expect((again as { stderr: string }).stderr).toMatch(/already holds content.*nothing was imported/);
  });
});
