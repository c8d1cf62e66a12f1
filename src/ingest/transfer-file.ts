import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ContentStore } from '../data/store.js';
import {
  type ContentTransfer,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportHeader,
  type ExportSummary,
  type TransferCounts,
  TransferSum,
} from '../data/transfer.js';

/** `14 sections, 189 tags, 100000 articles with 0 revisions, 13 teaser lists`: what both commands print. */
export function describeCounts(c: TransferCounts): string {
  return `${c.sections} sections, ${c.tags} tags, ${c.articles} articles with ${c.revisions} revisions, ${c.teaserLists} teaser lists`;
}

export interface TransferResult {
  counts: TransferCounts;
  checksum: string;
}

/** Writes the whole store to `path` as JSON Lines: a header, the content records, and a summary with counts and checksum. */
export async function exportToFile(store: ContentStore, path: string): Promise<TransferResult> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  const header: ExportHeader = { type: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: new Date().toISOString() };
  await write(JSON.stringify(header));
  const sum = new TransferSum();
  for await (const record of store.exportContent()) await write(sum.add(record));
  const summary: ExportSummary = { type: 'summary', counts: sum.counts, checksum: sum.digest() };
  await write(JSON.stringify(summary));
  out.end();
  await once(out, 'finish');
  return { counts: summary.counts, checksum: summary.checksum };
}

/** The counts and checksum of what a store holds, computed as an export would, without writing anything. */
export async function contentSum(store: ContentStore): Promise<TransferResult> {
  const sum = new TransferSum();
  for await (const record of store.exportContent()) sum.add(record);
  return { counts: sum.counts, checksum: sum.digest() };
}

export class TransferFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransferFileError';
  }
}

const TYPES = new Set(['section', 'tag', 'article', 'teasers']);

/**
 * Loads an export into an empty store in one transaction, checking each line
 * as it goes and the summary at the end: a malformed line, a missing summary,
 * or counts or a checksum that do not match what was read stop the import
 * with `file:line: reason`, and nothing is written. Then the store's own
 * content is summed again and must match the file.
 */
export async function importFromFile(store: ContentStore, path: string): Promise<{ file: TransferResult; store: TransferResult }> {
  const sum = new TransferSum();
  let summary: ExportSummary | null = null;
  async function* records(): AsyncGenerator<ContentTransfer> {
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n++;
      const fail = (reason: string) => new TransferFileError(`${path}:${n}: ${reason}`);
      if (summary) throw fail('content after the summary line');
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw fail('not a JSON line');
      }
      const record = value as { type?: unknown };
      if (typeof record !== 'object' || record === null || typeof record.type !== 'string') throw fail('a record needs a "type"');
      if (n === 1) {
        const header = value as Partial<ExportHeader>;
        if (header.type !== EXPORT_FORMAT) throw fail(`not a newsgraph export (the first line must be its "${EXPORT_FORMAT}" header)`);
        if (header.version !== EXPORT_VERSION)
          throw fail(`export format version ${String(header.version)}; this newsgraph reads version ${EXPORT_VERSION}`);
        continue;
      }
      if (record.type === 'summary') {
        summary = value as ExportSummary;
        const checksum = sum.digest();
        if (JSON.stringify(summary.counts) !== JSON.stringify(sum.counts)) {
          throw fail(`the summary counts ${JSON.stringify(summary.counts)} but the file holds ${JSON.stringify(sum.counts)}`);
        }
        if (summary.checksum !== checksum)
          throw fail(`checksum mismatch: the summary says ${summary.checksum}, the content sums to ${checksum}`);
        continue;
      }
      if (!TYPES.has(record.type)) throw fail(`unknown record type "${record.type}"`);
      const problem = checkRecord(value as ContentTransfer);
      if (problem) throw fail(problem);
      sum.add(value as ContentTransfer);
      yield value as ContentTransfer;
    }
    if (n === 0) throw new TransferFileError(`${path}: empty file`);
    if (!summary) throw new TransferFileError(`${path}:${n}: the file ends without its summary line (cut short?)`);
  }
  await store.importContent(records());
  const file = { counts: sum.counts, checksum: sum.digest() };
  return { file, store: await contentSum(store) };
}

function checkRecord(record: ContentTransfer): string | null {
  const text = (value: unknown) => typeof value === 'string' && value.length > 0;
  const int = (value: unknown) => typeof value === 'number' && Number.isSafeInteger(value);
  switch (record.type) {
    case 'section':
      return text(record.id) && text(record.slug) && text(record.name) && int(record.position)
        ? null
        : 'a section needs id, slug, name and position';
    case 'tag':
      return text(record.id) && text(record.slug) && text(record.name) ? null : 'a tag needs id, slug and name';
    case 'article':
      if (!text(record.id) || !text(record.slug) || !text(record.title) || !text(record.sectionId))
        return 'an article needs id, slug, title and sectionId';
      if (!int(record.publishedAt) || !int(record.version) || !Array.isArray(record.body))
        return 'an article needs publishedAt, version and body';
      if (record.status !== 'DRAFT' && record.status !== 'PUBLISHED')
        return `an article's status is DRAFT or PUBLISHED, not ${String(record.status)}`;
      if (!Array.isArray(record.credits) || !Array.isArray(record.tagIds) || !Array.isArray(record.revisions))
        return 'an article needs credits, tagIds and revisions lists';
      return null;
    case 'teasers':
      return text(record.sectionId) && (record.kind === 'HOT' || record.kind === 'LATEST') && Array.isArray(record.items)
        ? null
        : 'a teaser list needs sectionId, kind (HOT or LATEST) and items';
  }
}
