import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The map in the README, held to: data flows one way (HTTP → response cache → Apollo → resolvers →
// providers → composed store → SQL), and nothing below reaches back up. Each rule names a room and
// what it must never import; a move that breaks one fails here with the file and the import.

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Every module the file names in an import or export, static or dynamic: src-relative paths for our own, package names for the rest. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((match) => match[1]!);
  return specifiers.map((specifier) =>
    specifier.startsWith('.') ? relative(SRC, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts') : specifier,
  );
}

const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
  .filter((path) => path.endsWith('.ts'))
  .map((path) => ({ path, imports: importsOf(join(SRC, path)) }));

const API = ['apollo.ts', 'server.ts', 'edge-server.ts', 'cors.ts', 'context.ts', 'errors.ts', 'executor.ts', 'main.ts'];
const ABOVE_DATA = ['resolvers/', 'providers/', 'http-cache/', 'limits/', 'safelist/', 'auth/', ...API];
const SQL = ['data/sql/', 'data/sql-store.ts', 'data/open-store.ts', 'kysely', 'pg', 'better-sqlite3'];

const RULES: { room: string; never: string[]; why: string }[] = [
  { room: '', never: ['tools/'], why: 'the tools stand apart from the service' },
  { room: 'data/', never: [...ABOVE_DATA, 'ingest/'], why: 'the data module knows nothing of GraphQL, HTTP or the parser' },
  {
    room: 'data/migrations/',
    never: ['data/', 'text/', 'ingest/', 'config.ts'],
    why: 'migrations are frozen: they run the code they ran the day they were written',
  },
  { room: 'text/', never: ['data/', 'ingest/', ...ABOVE_DATA], why: 'text functions take plain values' },
  { room: 'ingest/', never: ABOVE_DATA, why: 'the importer depends on data, never on the API' },
  {
    room: 'providers/',
    never: ['resolvers/', 'http-cache/', 'apollo.ts', 'server.ts', ...SQL],
    why: 'providers reach the store through ContentStore',
  },
  {
    room: 'resolvers/',
    never: ['http-cache/', 'apollo.ts', 'server.ts', ...SQL],
    why: 'resolvers are thin: arguments in, a provider called',
  },
  {
    room: 'http-cache/',
    never: ['resolvers/', 'providers/', 'context.ts', 'apollo.ts', ...SQL],
    why: 'the response cache sits above Apollo and sees requests, not resolvers',
  },
];

const matches = (imported: string, target: string) =>
  target.endsWith('/') || target.endsWith('.ts') ? imported.startsWith(target) : imported === target || imported.startsWith(`${target}/`);

describe('the rooms of src/', () => {
  it('are all found (the scan itself works)', () => {
    for (const room of ['data/', 'data/migrations/', 'text/', 'ingest/', 'providers/', 'resolvers/', 'http-cache/', 'tools/']) {
      expect(files.filter(({ path }) => path.startsWith(room)).length, room).toBeGreaterThan(0);
    }
    expect(files.flatMap(({ imports }) => imports).length).toBeGreaterThan(300);
  });

  it.each(RULES.map((rule) => [`src/${rule.room}`, rule.why, rule] as const))(
    '%s never imports what lies above it: %s',
    (_, __, { room, never }) => {
      const breaking = files
        .filter(({ path }) => path.startsWith(room) && !(room === '' && path.startsWith('tools/')))
        .flatMap(({ path, imports }) =>
          imports
            .filter(
              (imported) =>
                never.some((target) => matches(imported, target)) && !imported.startsWith(room === 'data/migrations/' ? room : '\0'),
            )
            .map((imported) => `src/${path} imports ${imported}`),
        );
      expect(breaking).toEqual([]);
    },
  );
});
