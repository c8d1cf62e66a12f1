import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHttpServer, startMainProcess } from './helpers.js';

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
          {
            host: '127.0.0.1',
            port,
            path: '/graphql',
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
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

  it('while draining, finishes a request whose body was still arriving and refuses, with 503, one whose headers come after', async () => {
    const t = await startHttpServer();
    try {
      const port = Number(new URL(t.base).port);
      const open = () =>
        new Promise<Socket>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => resolve(socket));
        });
      const replyOf = (socket: Socket) =>
        new Promise<string>((resolve) => {
          let text = '';
          socket.on('data', (chunk: Buffer) => (text += chunk));
          socket.on('close', () => resolve(text));
        });
      const pause = () => new Promise((resolve) => setTimeout(resolve, 100));
      const body = JSON.stringify({ query: '{ articles(first: 1) { totalCount } }' });
      // A: headers and the start of its body before the drain (the cache's edge is reading it).
      const a = await open();
      const aReply = replyOf(a);
      a.write(
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5)}`,
      );
      // B: a connection with half its headers sent, so it is not idle when the drain starts.
      const b = await open();
      const bReply = replyOf(b);
      b.write('POST /graphql HTTP/1.1\r\nHost: x\r\n');
      await pause();
      const closed = t.server.http.close();
      await pause();
      b.write(`Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await pause();
      a.end(body.slice(5));
      await closed;

      const [aText, bText] = [await aReply, await bReply];
      expect(aText).toMatch(/^HTTP\/1\.1 200 /);
      expect(JSON.parse(aText.slice(aText.indexOf('\r\n\r\n') + 4))).toEqual({ data: { articles: { totalCount: 1 } } });
      expect(bText).toMatch(/^HTTP\/1\.1 503 /);
      expect(bText.toLowerCase()).toContain('connection: close');
      expect(JSON.parse(bText.slice(bText.indexOf('\r\n\r\n') + 4)).errors[0].extensions.code).toBe('SHUTTING_DOWN');
    } finally {
      await t.close().catch(() => {});
    }
  });
});
