import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addToken, revokeToken } from '../src/auth/tokens.js';

describe('editor tokens in a running server', () => {
  it('take effect on SIGHUP: a token created after start works once reloaded, and a revoked one stops working', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'newsgraph-reload-'));
    const tokensFile = join(dir, 'tokens.json');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${dir}/db`, LOG_LEVEL: 'info', NEWSGRAPH_TOKENS_FILE: tokensFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      const address = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk;
          const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match) resolve(match[1]!);
        });
        child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
      });
      const reloaded = async () => {
        const before = (output.match(/reloaded editor tokens/g) ?? []).length;
        child.kill('SIGHUP');
        for (let i = 0; i < 100 && (output.match(/reloaded editor tokens/g) ?? []).length === before; i++) {
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
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
