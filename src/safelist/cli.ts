// npm run safelist -- FILES... > manifest.json: the safelist manifest of the operations in .graphql files.
import { readFileSync } from 'node:fs';
import { runCli } from '../cli.js';
import { buildManifest } from './manifest.js';

function main(files: string[]): number {
  if (files.length === 0) {
    console.error('usage: npm run safelist -- operations/*.graphql > safelist.json');
    return 2;
  }
  try {
    const manifest = buildManifest(files.map((source) => ({ source, text: readFileSync(source, 'utf8') })));
    process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    console.error(`${manifest.operations.length} operation(s): ${manifest.operations.map((o) => o.name).join(', ')}`);
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    return 1;
  }
}

runCli(main);
