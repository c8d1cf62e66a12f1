import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ContentStore, SavePageResult } from '../data/store.js';
import { PageParseError, parsePage } from './parse-page.js';

export type ImportOutcome = { source: string; ok: true; result: SavePageResult } | { source: string; ok: false; error: string };

/** Files named directly, and every .txt file under folders named, sorted; missing paths are reported. */
export async function collectPageFiles(paths: readonly string[]): Promise<{ files: string[]; missing: string[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (!info) missing.push(path);
    else if (info.isDirectory()) files.push(...(await pageFilesUnder(path)));
    else files.push(path);
  }
  return { files, missing };
}

async function pageFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.txt'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Imports each file in its own transaction. A file that does not parse is
 * reported with `file:line: reason` and nothing of it is written; the other
 * files still import.
 */
export async function importFiles(
  store: ContentStore,
  files: readonly string[],
  onOutcome: (outcome: ImportOutcome) => void = () => {},
): Promise<ImportOutcome[]> {
  const outcomes: ImportOutcome[] = [];
  for (const file of files) {
    const outcome = await importOne(store, file);
    outcomes.push(outcome);
    onOutcome(outcome);
  }
  return outcomes;
}

async function importOne(store: ContentStore, file: string): Promise<ImportOutcome> {
  let text: string;
  try {
    text = utf8.decode(await readFile(file));
  } catch (error) {
    const reason = error instanceof TypeError ? 'not valid UTF-8 text' : (error as Error).message;
    return { source: file, ok: false, error: `${file}:1: ${reason}` };
  }
  try {
    return { source: file, ok: true, result: await store.savePage(parsePage(text, file)) };
  } catch (error) {
    if (error instanceof PageParseError) return { source: file, ok: false, error: error.message };
    throw error;
  }
}

/** Fills an empty store from the shipped pages; a store that has content is left alone. */
export async function seedIfEmpty(store: ContentStore, seedPath: string | null): Promise<ImportOutcome[]> {
  if (seedPath === null) return [];
  return store.withStartupLock(() => seedEmpty(store, seedPath));
}

async function seedEmpty(store: ContentStore, seedPath: string): Promise<ImportOutcome[]> {
  if (!(await store.isEmpty())) return [];
  const { files, missing } = await collectPageFiles([resolve(seedPath)]);
  if (missing.length) throw new Error(`SEED_PATH ${seedPath} does not exist`);
  const outcomes = await importFiles(store, files);
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length) {
    throw new Error(`the seed pages do not import:\n  ${failed.map((o) => (o.ok ? '' : o.error)).join('\n  ')}`);
  }
  return outcomes;
}
