import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, type TestStore } from './helpers.js';

/** Starts the fixture process and resolves once it has opened the store and waits for "go". */
function editorProcess(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; result: Promise<string> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join('tests', 'fixtures', 'concurrent-edit.ts'), ...args]);
  let output = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const result = new Promise<string>((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0 ? resolve(output.split('\n').filter(Boolean).at(-1) ?? '') : reject(new Error(`exit ${code}: ${stderr}`)),
    );
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      if (output.startsWith('ready\n')) resolve({ child, result });
    });
    child.on('exit', () => reject(new Error(`exited before it was ready: ${stderr}`)));
  });
}

describe('two editors saving from the same version at the same moment', () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await createTestStore();
  });
  afterAll(() => t.close());

  it('lets exactly one succeed; the other gets CONFLICT and nothing of it is written', async () => {
    const [seed] = await t.store.listArticles({ limit: 1 });
    const location = JSON.stringify(t.location);
    for (let round = 0; round < 3; round++) {
      const [current] = await t.store.findArticlesByIds({ ids: [seed!.id] });
      const version = String(current!.version);
      const editors = await Promise.all(['甲', '乙'].map((name) => editorProcess([location, seed!.id, version, `${name}${round}`])));
      // Both are connected and waiting: release them together.
      for (const { child } of editors) child.stdin.end('go\n');
      const results = (await Promise.all(editors.map((e) => e.result))).map((line) => JSON.parse(line));

      const won = results.filter((r) => r.data?.updateArticle);
      const lost = results.filter((r) => r.errors);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].errors[0].extensions).toMatchObject({ code: 'CONFLICT', currentVersion: Number(version) + 1 });
      const [after] = await t.store.findArticlesByIds({ ids: [seed!.id] });
      expect(after).toMatchObject({ version: Number(version) + 1, title: won[0].data.updateArticle.article.title });
      const revisions = await t.store.listRevisions({ articleId: seed!.id });
      expect(revisions.map((r) => r.version)[0]).toBe(Number(version));
      expect(revisions).toHaveLength(round + 1);
    }
  }, 60_000);
});
