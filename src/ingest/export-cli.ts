// npm run export -- FILE: writes the configured store's whole content to FILE as JSON Lines.
import { ConfigError, loadConfig } from '../config.js';
import { openStore } from '../data/open-store.js';
import { describeCounts, exportToFile } from './transfer-file.js';

async function main(argv: string[]): Promise<number> {
  if (argv.length !== 1 || argv[0] === '--help') {
    console.error('usage: npm run export -- FILE.jsonl   (the configured store, DATABASE_URL, as JSON Lines)');
    return 2;
  }
  const config = loadConfig(process.env);
  const store = openStore(config.database, { bulk: true });
  try {
    await store.migrate();
    const started = performance.now();
    const { counts, checksum } = await exportToFile(store, argv[0]!);
    console.log(`exported ${describeCounts(counts)} to ${argv[0]} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log(`checksum ${checksum}`);
    return 0;
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
