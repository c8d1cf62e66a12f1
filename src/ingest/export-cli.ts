// npm run export -- FILE: writes the configured store's whole content to FILE as JSON Lines.
import { runCli, withStore } from '../cli.js';
import { describeCounts, exportToFile } from './transfer-file.js';

async function main(argv: string[]): Promise<number> {
  if (argv.length !== 1 || argv[0] === '--help') {
    console.error('usage: npm run export -- FILE.jsonl   (the configured store, DATABASE_URL, as JSON Lines)');
    return 2;
  }
  return withStore(async (store) => {
    const started = performance.now();
    const { counts, checksum } = await exportToFile(store, argv[0]!);
    console.log(`exported ${describeCounts(counts)} to ${argv[0]} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log(`checksum ${checksum}`);
    return 0;
  });
}

runCli(main);
