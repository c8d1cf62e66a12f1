// npm run import -- PATH...: imports page-text files (or folders of them) into the configured store;
// npm run import -- FILE.jsonl: loads an export (npm run export) into the configured, empty store.
import { runCli, withStore } from '../cli.js';
import { type StoreFailureKind, StoreNotEmptyError, storeFailureKind } from '../data/errors.js';
import type { ContentStore } from '../data/store.js';
import { collectPageFiles, importFiles } from './import-pages.js';
import { describeCounts, importFromFile, TransferFileError } from './transfer-file.js';

const STORE_FAILURES: Record<StoreFailureKind, string> = {
  full: 'the disk the store is on is full',
  'read-only': 'the store is read-only',
  busy: 'the store stayed locked by another process',
  unavailable: 'the store is unavailable',
  timeout: 'the store did not answer in time',
};

/** The store's own failure (see `storeFailureKind`) in words, with the driver's code and message; null for any other error. */
function describeStoreFailure(error: unknown): string | null {
  const kind = storeFailureKind(error);
  if (kind === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return `${STORE_FAILURES[kind]} (${[code, message].filter((part) => typeof part === 'string').join(': ')})`;
}

async function importExport(store: ContentStore, path: string): Promise<number> {
  const started = performance.now();
  try {
    const { file, store: stored } = await importFromFile(store, path);
    console.log(`imported ${describeCounts(stored.counts)} from ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log(`checksum of the file  ${file.checksum}`);
    console.log(`checksum of the store ${stored.checksum}`);
    if (file.checksum !== stored.checksum || JSON.stringify(file.counts) !== JSON.stringify(stored.counts)) {
      console.error('MISMATCH: the store does not hold exactly what the file does');
      return 1;
    }
    console.log('match: the store holds exactly what the file does');
    return 0;
  } catch (error) {
    if (error instanceof TransferFileError || error instanceof StoreNotEmptyError) {
      console.error(`${error.message}; nothing was imported`);
      return 1;
    }
    const failure = describeStoreFailure(error);
    if (failure === null) throw error;
    console.error(`${path}: ${failure}; nothing was imported`);
    return 1;
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help')) {
    console.error('usage: npm run import -- PATH...   (page-text files, or folders searched for *.txt)');
    console.error('       npm run import -- FILE.jsonl (an export from npm run export, into an empty store)');
    return 2;
  }
  return withStore(async (store) => {
    if (argv.length === 1 && argv[0]!.endsWith('.jsonl')) return await importExport(store, argv[0]!);
    const { files, missing } = await collectPageFiles(argv);
    for (const path of missing) console.error(`${path}: no such file or directory`);
    const counts = { created: 0, updated: 0, unchanged: 0, failed: 0 };
    let done = 0;
    try {
      await importFiles(store, files, (outcome) => {
        done++;
        if (outcome.ok) {
          counts[outcome.result.status]++;
          console.log(`${outcome.result.status.padEnd(9)} ${outcome.result.slug}  ${outcome.source}`);
        } else {
          counts.failed++;
          console.error(outcome.error);
        }
      });
    } catch (error) {
      // Each file is its own transaction: the ones listed above are in the store, nothing of this one is.
      const failure = describeStoreFailure(error);
      if (failure === null) throw error;
      console.error(`${files[done]}: ${failure}; nothing of it was written, and the import stopped`);
      console.error(
        `${done} of ${files.length} file(s) done: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.failed} failed`,
      );
      return 1;
    }
    counts.failed += missing.length;
    console.log(
      `${files.length} file(s): ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.failed} failed`,
    );
    return counts.failed > 0 ? 1 : 0;
  });
}

runCli(main);
