import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addToken, revokeToken } from '../src/auth/tokens.js';
import { startMainProcess } from './helpers.js';

describe('editor tokens in a running server', () => {
  it('take effect on SIGHUP: a token created after start works once reloaded, and a revoked one stops working', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'newsgraph-reload-'));
    const tokensFile = join(dir, 'tokens.json');
    const main = await startMainProcess({ DATABASE_URL: `sqlite:${dir}/db`, NEWSGRAPH_TOKENS_FILE: tokensFile });
    try {
      const { child, address, output } = main;
      const reloads = () => (output().match(/reloaded editor tokens/g) ?? []).length;
      const reloaded = async () => {
        const before = reloads();
        child.kill('SIGHUP');
        for (let i = 0; i < 100 && reloads() === before; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      const status = async (token: string) =>
        (
          await fetch(`${address}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ query: '{ articles(preview: true) { totalCount } }' }),
          })
        ).status;

      const token = await addToken(tokensFile, { name: 'late-shift', role: 'EDITOR' });
      expect(await status(token)).toBe(401);
      await reloaded();
      expect(await status(token)).toBe(200);
      expect(await revokeToken(tokensFile, 'late-shift')).toBe(true);
      await reloaded();
      expect(await status(token)).toBe(401);
    } finally {
      main.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
