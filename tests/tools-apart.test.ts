import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const TOOLS = join(SRC, 'tools');

/** Every relative module the file names in an import or export, static or dynamic, resolved to a path. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map(
    (match) => match[1]!,
  );
  return specifiers.map((specifier) => resolve(dirname(file), specifier));
}

describe('the tools (src/tools)', () => {
  it('are never imported by the service', () => {
    const service = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.ts'))
      .map((path) => join(SRC, path))
      .filter((path) => !path.startsWith(`${TOOLS}/`));
    const imports = service.flatMap((file) => importsOf(file).map((target) => ({ file: relative(SRC, file), target })));
    // The scan itself works: the service imports its own modules.
    expect(imports.length).toBeGreaterThan(100);
    expect(
      imports
        .filter(({ target }) => target.startsWith(`${TOOLS}/`))
        .map(({ file, target }) => `src/${file} imports ${relative(join(SRC, '..'), target)}`),
    ).toEqual([]);
  });
});
