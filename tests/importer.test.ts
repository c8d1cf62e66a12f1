import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/data/open-store.js';
import { collectPageFiles, importFiles } from '../src/ingest/import-pages.js';
import { createTestStore, pageText, SEED_FILE, type TestStore } from './helpers.js';

const run = promisify(execFile);
const seedText = readFileSync(SEED_FILE, 'utf8');

describe('importing page files', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await createTestStore({ seed: false });
  });
  afterEach(() => t.close());

  const write = (name: string, text: string) => {
    const path = join(t.dir, 'pages', name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    return path;
  };
  const articleCount = () => t.store.countArticles({});

  it('imports the seed, and re-importing it changes nothing', async () => {
    const file = write('seed.txt', seedText);
    const [first] = await importFiles(t.store, [file]);
    expect(first).toMatchObject({ ok: true, result: { status: 'created' } });
    const [again] = await importFiles(t.store, [file]);
    expect(again).toMatchObject({ ok: true, result: { status: 'unchanged' } });
    expect(await articleCount()).toBe(1);
    expect((await t.store.listSections()).map((s) => s.name)).toEqual(['首页', '原创']);
    const [article] = await t.store.listArticles({ limit: 5 });
    expect(article?.version).toBe(1);
  });

  it('updates the same article in place when a re-imported page changed, never duplicating it', async () => {
    const file = write('seed.txt', seedText);
    await importFiles(t.store, [file]);
    writeFileSync(file, seedText.replace('整个过程方便简单快捷。', '整个过程方便、简单、快捷。'));
    const [outcome] = await importFiles(t.store, [file]);
    expect(outcome).toMatchObject({ ok: true, result: { status: 'updated' } });
    const articles = await t.store.listArticles({ limit: 5 });
    expect(articles).toHaveLength(1);
    expect(articles[0]?.version).toBe(2);
    expect(articles[0]?.body.some((b) => b.type === 'paragraph' && b.text === '整个过程方便、简单、快捷。')).toBe(true);
  });

  it('tolerates a byte-order mark and CRLF line ends, storing the same article', async () => {
    await importFiles(t.store, [write('seed.txt', seedText)]);
    const [outcome] = await importFiles(t.store, [write('seed-crlf.txt', `\uFEFF${seedText.replace(/\n/g, '\r\n')}`)]);
    expect(outcome).toMatchObject({ ok: true, result: { status: 'unchanged' } });
    expect(await articleCount()).toBe(1);
  });

  it('rejects a malformed page with file:line, writes nothing of it, and still imports the other files', async () => {
    const good = write('a-good.txt', pageText({ title: '好的页面', time: '2023-05-01 10:00:00', sections: ['首页', '新栏目'] }));
    const badDate = write('b-bad-date.txt', pageText({ title: '日期错误', time: '2023-02-30 10:00:00', sections: ['首页', '坏栏目'] }));
    const noHeader = write('c-no-header.txt', '只有一行正文，没有面包屑。\n');
    const outcomes = await importFiles(t.store, [good, badDate, noHeader]);

    expect(outcomes.map((o) => o.ok)).toEqual([true, false, false]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: `${badDate}:5: impossible date "2023-02-30 10:00:00"` });
    expect(outcomes[2]).toMatchObject({ ok: false });
    expect(outcomes[2]?.ok === false && outcomes[2].error).toMatch(new RegExp(`^${noHeader}:1: no breadcrumb header`));
    expect(await articleCount()).toBe(1);
    // The bad page's breadcrumb section was not created either.
    expect((await t.store.listSections()).map((s) => s.name)).toEqual(['首页', '新栏目']);
  });

  it('rejects a file that is not UTF-8 text', async () => {
    const path = join(t.dir, 'latin1.txt');
    writeFileSync(path, Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0x0a]));
    const [outcome] = await importFiles(t.store, [path]);
    expect(outcome).toEqual({ source: path, ok: false, error: `${path}:1: not valid UTF-8 text` });
  });

  it('finds .txt pages in folders, recursively and in a stable order, and reports missing paths', async () => {
    write('2023/04/b.txt', 'x');
    write('2023/a.txt', 'x');
    write('notes.md', 'x');
    const { files, missing } = await collectPageFiles([join(t.dir, 'pages'), join(t.dir, 'nope')]);
    expect(files.map((f) => f.slice(join(t.dir, 'pages').length + 1))).toEqual(['2023/04/b.txt', '2023/a.txt']);
    expect(missing).toEqual([join(t.dir, 'nope')]);
  });

  it('keeps the newest 热点 snapshot: re-importing an older page does not bring back its list', async () => {
    const older = write('older.txt', pageText({ title: '旧页面', time: '2023-01-01 10:00:00', hot: ['旧热点一', '旧热点二'] }));
    const newer = write('newer.txt', pageText({ title: '新页面', time: '2023-06-01 10:00:00', hot: ['新热点'] }));
    await importFiles(t.store, [older, newer, older]);
    const [sectionId] = (await t.store.listSections()).filter((s) => s.name === '原创').map((s) => s.id);
    const [list] = await t.store.findTeasers({ sectionIds: [sectionId!], kind: 'HOT' });
    expect(list?.map((teaser) => teaser.summary)).toEqual(['新热点']);
  });
});

describe('npm run import', () => {
  let t: { dir: string };
  beforeEach(() => {
    t = { dir: mkdtempSync(join(tmpdir(), 'newsgraph-cli-')) };
  });
  afterEach(() => rmSync(t.dir, { recursive: true, force: true }));

  it('imports files and folders, reports each failure as file:line, and exits 1 when any failed', async () => {
    const dir = join(t.dir, 'incoming');
    mkdirSync(dir);
    writeFileSync(join(dir, 'good.txt'), pageText({ title: '命令行导入', time: '2023-05-02 09:00:00' }));
    writeFileSync(join(dir, 'bad.txt'), '首页 > 原创 > 正文\n\n来源:某网 2023-05-02 09:00:00\n\n正文\n');
    const database = join(t.dir, 'cli.db');
    const error = await run(process.execPath, ['--import', 'tsx', 'src/ingest/cli.ts', SEED_FILE, dir], {
      env: { ...process.env, DATABASE_URL: `sqlite:${database}` },
    }).then(
      () => null,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain(`${join(dir, 'bad.txt')}:3: missing title`);
    expect(error?.stdout).toMatch(/^created\s+20230423-[0-9a-f]{12}\s/m);
    expect(error?.stdout).toContain('3 file(s): 2 created, 0 updated, 0 unchanged, 1 failed');

    const store = openStore({ kind: 'sqlite', path: database });
    try {
      expect(await store.countArticles({})).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('exits 0 when every file imported', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/ingest/cli.ts', SEED_FILE], {
      env: { ...process.env, DATABASE_URL: `sqlite:${join(t.dir, 'ok.db')}` },
    });
    expect(stdout).toContain('1 file(s): 1 created, 0 updated, 0 unchanged, 0 failed');
  });
});

describe('archive term statistics', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await createTestStore({ seed: false });
  });
  afterEach(() => t.close());

  it('count the articles holding each keyword candidate, following creates and updates', async () => {
    const df = (...terms: string[]) => t.store.termDocumentFrequencies({ terms });
    await importFiles(t.store, [SEED_FILE]);
    expect(await df('元宇宙', 'meta', 'llama', '的', '2023')).toEqual(
      new Map([
        ['元宇宙', 1],
        ['meta', 1],
        ['llama', 1],
      ]),
    );

    const path = join(t.dir, 'other.txt');
    writeFileSync(path, pageText({ title: '元宇宙的另一篇报道', time: '2023-05-01 10:00:00', paragraphs: ['元宇宙里的 LLaMA 报道。'] }));
    await importFiles(t.store, [path]);
    expect(await df('元宇宙', 'llama', 'dino')).toEqual(
      new Map([
        ['元宇宙', 2],
        ['llama', 2],
        ['dino', 1],
      ]),
    );

    // The same page edited: LLaMA leaves it, DINO arrives; the counts follow and nothing is counted twice.
    writeFileSync(path, pageText({ title: '元宇宙的另一篇报道', time: '2023-05-01 10:00:00', paragraphs: ['元宇宙里的 DINO 报道。'] }));
    await importFiles(t.store, [path]);
    expect(await df('元宇宙', 'llama', 'dino')).toEqual(
      new Map([
        ['元宇宙', 2],
        ['llama', 1],
        ['dino', 2],
      ]),
    );
  });
});
