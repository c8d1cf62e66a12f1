// npm run import -- PATH...: imports page-text files (or folders of them) into the configured store.
import { ConfigError, loadConfig } from '../config.js';
import { openStore } from '../data/open-store.js';
import { collectPageFiles, importFiles } from './import-pages.js';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help')) {
    console.error('usage: npm run import -- PATH...   (page-text files, or folders searched for *.txt)');
    return 2;
  }
  const config = loadConfig(process.env);
  const store = openStore(config.database);
  try {
    await store.migrate();
    const { files, missing } = await collectPageFiles(argv);
    for (const path of missing) console.error(`${path}: no such file or directory`);
    const counts = { created: 0, updated: 0, unchanged: 0, failed: 0 };
    await importFiles(store, files, (outcome) => {
      if (outcome.ok) {
        counts[outcome.result.status]++;
        console.log(`${outcome.result.status.padEnd(9)} ${outcome.result.slug}  ${outcome.source}`);
      } else {
        counts.failed++;
        console.error(outcome.error);
      }
    });
    counts.failed += missing.length;
    console.log(
      `${files.length} file(s): ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.failed} failed`,
    );
    return counts.failed > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  },
);
