// npm run safelist -- FILES... > manifest.json: the safelist manifest of the operations in .graphql files.
import { readFileSync } from 'node:fs';
import { buildManifest } from './manifest.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: npm run safelist -- operations/*.graphql > safelist.json');
  process.exit(2);
}
try {
  const manifest = buildManifest(files.map((source) => ({ source, text: readFileSync(source, 'utf8') })));
  process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
  console.error(`${manifest.operations.length} operation(s): ${manifest.operations.map((o) => o.name).join(', ')}`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
