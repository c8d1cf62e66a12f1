import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/data/open-store.js';
import type { ParsedPage } from '../src/data/page.js';
import { searchDocument } from '../src/data/search-document.js';
import type { CreditRecord } from '../src/data/types.js';
import { parsePage } from '../src/ingest/parse-page.js';
import { generatePages } from '../src/tools/corpus/generate.js';

// Enough pages that the import runs for seconds: one file takes a few milliseconds.
const PAGE_COUNT = 1_500;
// Each killed run is killed once it reports this many pages created, so committed pages lie behind the kill.
const KILL_AFTER = 50;
// Kills before the run that is let finish; each lands at a different point of a page's read, parse and write.
const KILLS = 3;
// Up to a few pages' worth of import time, so a kill is not always just after a page's output line.
const KILL_JITTER_MS = 20;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface ImportRun {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The slugs on the import CLI's output lines of one status (`created   <slug>  <file>`). */
function reported(stdout: string, status: 'created' | 'updated' | 'unchanged'): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith(`${status} `))
    .map((line) => line.split(/\s+/)[1]!);
}

/**
 * Runs the import CLI on `pagesDir`. With `killAfter`, SIGKILLs it shortly
 * after its output shows that many pages created; otherwise lets it finish.
 */
function runImport(pagesDir: string, dbPath: string, killAfter?: number): Promise<ImportRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/ingest/cli.ts', pagesDir], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: `sqlite:${dbPath}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (killAfter !== undefined && !killed && reported(stdout, 'created').length >= killAfter) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), Math.random() * KILL_JITTER_MS);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, code, signal }));
  });
}

interface StoredArticle {
  id: number;
  title: string;
  blocks: number;
}

describe('an import killed with SIGKILL', () => {
  let dir: string;
  let pagesDir: string;
  let dbPath: string;
  const pages: ParsedPage[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-crash-'));
    pagesDir = join(dir, 'pages');
    dbPath = join(dir, 'newsgraph.db');
    mkdirSync(pagesDir);
    let i = 0;
    for (const { text } of generatePages({ count: PAGE_COUNT, seed: 20_240_611 })) {
      const file = join(pagesDir, `${String(i++).padStart(5, '0')}.txt`);
      writeFileSync(file, text);
      pages.push(parsePage(text, file));
    }
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Opens the store file directly, runs `check` on it, and always closes it. */
  function withDatabase<T>(check: (db: SQLite.Database) => T): T {
    const db = new SQLite(dbPath, { fileMustExist: true });
    try {
      return check(db);
    } finally {
      db.close();
    }
  }

  function expectIntactFile(db: SQLite.Database) {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // FTS5's own check of its index structures; throws SQLITE_CORRUPT_VTAB when they are damaged.
    db.prepare(`INSERT INTO article_search (article_search) VALUES ('integrity-check')`).run();
  }

  /**
   * Every generated page is either absent or stored whole: title, body,
   * credits, tags and search row. Nothing else is stored, and the term
   * statistics count exactly the stored articles. Returns the present slugs.
   */
  function expectEachPageWholeOrAbsent(db: SQLite.Database): Set<string> {
    const articleBySlug = db.prepare<[string], StoredArticle>(
      'SELECT id, title, json_array_length(body) AS blocks FROM articles WHERE slug = ?',
    );
    const creditsOf = db.prepare<[number], CreditRecord>('SELECT role, label, name FROM credits WHERE article_id = ? ORDER BY position');
    const tagsOf = db
      .prepare<[number], string>(
        `SELECT tags.name FROM article_tags JOIN tags ON tags.id = article_tags.tag_id
         WHERE article_tags.article_id = ? ORDER BY article_tags.position`,
      )
      .pluck();
    const searchRows = db.prepare<[number], number>('SELECT count(*) FROM article_search WHERE rowid = ?').pluck();

    const present = new Set<string>();
    const expectedTerms = new Map<string, number>();
    for (const page of pages) {
      const article = articleBySlug.get(page.slug);
      if (!article) continue;
      present.add(page.slug);
      const stored = {
        slug: page.slug,
        title: article.title,
        blocks: article.blocks,
        credits: creditsOf.all(article.id),
        tags: tagsOf.all(article.id),
        searchRows: searchRows.get(article.id),
      };
      const expected = {
        slug: page.slug,
        title: page.title,
        blocks: page.body.length,
        credits: page.credits,
        tags: page.tags,
        searchRows: 1,
      };
      expect(stored).toEqual(expected);
      for (const term of searchDocument(page.title, page.body).terms) {
        expectedTerms.set(term, (expectedTerms.get(term) ?? 0) + 1);
      }
    }

    const count = (table: string) => db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck().get();
    expect({ articles: count('articles'), searchRows: count('article_search') }).toEqual({
      articles: present.size,
      searchRows: present.size,
    });
    const storedTerms = db.prepare<[], [string, number]>('SELECT term, articles FROM search_terms ORDER BY term').raw().all();
    expect(new Map(storedTerms)).toEqual(expectedTerms);
    return present;
  }

  it('leaves an intact store holding each page whole or not at all, kill after kill, which a re-run completes', async () => {
    expect(new Set(pages.map((p) => p.slug)).size).toBe(PAGE_COUNT);

    let present = new Set<string>();
    for (let kill = 1; kill <= KILLS; kill++) {
      const crashed = await runImport(pagesDir, dbPath, KILL_AFTER);
      const created = reported(crashed.stdout, 'created');
      expect(crashed, `import ${kill} was not killed mid-way:\n${crashed.stderr}`).toMatchObject({
        signal: 'SIGKILL',
        code: null,
      });
      expect(created.length).toBeGreaterThanOrEqual(KILL_AFTER);
      expect(created.length).toBeLessThan(PAGE_COUNT - present.size);
      expect(crashed.stdout).not.toMatch(/file\(s\):/);
      // Pages stored by an earlier run are found unchanged, never rewritten.
      expect(reported(crashed.stdout, 'updated')).toEqual([]);

      const before = present;
      present = withDatabase((db) => {
        expectIntactFile(db);
        return expectEachPageWholeOrAbsent(db);
      });
      // A page reported created was committed, and a commit survives the process dying.
      expect(created.filter((slug) => !present.has(slug))).toEqual([]);
      expect([...before].filter((slug) => !present.has(slug))).toEqual([]);
      expect(present.size).toBeLessThan(PAGE_COUNT);

      const store = openStore({ kind: 'sqlite', path: dbPath });
      try {
        await store.migrate();
      } finally {
        await store.close();
      }
    }
    expect(present.size).toBeGreaterThan(0);

    const rerun = await runImport(pagesDir, dbPath);
    expect(rerun, rerun.stderr).toMatchObject({ code: 0, signal: null });
    expect(rerun.stdout).toContain(
      `${PAGE_COUNT} file(s): ${PAGE_COUNT - present.size} created, 0 updated, ${present.size} unchanged, 0 failed`,
    );
    expect(new Set(reported(rerun.stdout, 'unchanged'))).toEqual(present);

    const after = withDatabase((db) => {
      expectIntactFile(db);
      return expectEachPageWholeOrAbsent(db);
    });
    expect(after.size).toBe(PAGE_COUNT);
  }, 180_000);
});
