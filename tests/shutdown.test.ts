import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startMainProcess } from './helpers.js';

describe('graceful shutdown', () => {
  it('on SIGTERM stops accepting, finishes the request in flight, closes the store and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'newsgraph-stop-'));
    const main = await startMainProcess({ DATABASE_URL: `sqlite:${dir}/db` });
    try {
      const { child, exited } = main;
      const port = Number(new URL(main.address).port);

      // A request whose body is still arriving when the signal comes.
      const body = JSON.stringify({ query: '{ articles(first: 1) { totalCount nodes { title } } }' });
      const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => {
          child.kill('SIGTERM');
          setTimeout(() => req.end(body.slice(10)), 300);
        }, 200);
      });

      const { status, text } = await response;
      expect(status).toBe(200);
      expect(JSON.parse(text)).toEqual({
        data: { articles: { totalCount: 1, nodes: [{ title: '去年股价跌去四分之三的meta 元宇宙的故事才刚刚开始' }] } },
      });
      expect(await exited).toBe(0);
      expect(main.output()).toContain('"signal":"SIGTERM"');
      // Once stopped, nothing answers on the port.
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    } finally {
      main.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
