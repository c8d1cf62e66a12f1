// The ceiling for npm run bench, run as its own process: a bare node:http server that answers each
// benchmark request with the status, content type and bytes newsgraph gave for it, looked up by
// method, URL and body. It does nothing else, so no server answering the same requests over HTTP
// from Node on this machine can be faster. Usage: ceiling.ts ANSWERS.ndjson; it tells its parent
// the port it listens on over IPC.
import { createReadStream } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

/** One line of the answers file. */
export interface RecordedAnswer {
  method: string;
  path: string;
  body: string;
  status: number;
  contentType: string;
  /** The response body, base64: byte for byte what newsgraph sent. */
  response: string;
}

interface Answer {
  status: number;
  headers: Record<string, string | number>;
  body: Buffer;
}

const key = (method: string, path: string, body: string) => `${method} ${path}\n${body}`;

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file || !process.send) throw new Error('usage: started by src/tools/bench/http.ts with an answers file and an IPC channel');
  const answers = new Map<string, Answer>();
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (line === '') continue;
    const recorded = JSON.parse(line) as RecordedAnswer;
    const body = Buffer.from(recorded.response, 'base64');
    answers.set(key(recorded.method, recorded.path, recorded.body), {
      status: recorded.status,
      headers: { 'content-type': recorded.contentType, 'content-length': body.length },
      body,
    });
  }
  const unknown: Answer = {
    status: 404,
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from('no answer recorded for this request\n'),
  };
  const answer = (response: ServerResponse, found: Answer | undefined) => {
    const { status, headers, body } = found ?? unknown;
    response.writeHead(status, headers).end(body);
  };

  const server = createServer((request, response) => {
    const method = request.method ?? '';
    const path = request.url ?? '';
    if (method === 'GET') return answer(response, answers.get(key(method, path, '')));
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => answer(response, answers.get(key(method, path, Buffer.concat(chunks).toString()))));
  });
  // newsgraph keeps idle connections for 72 s; the ceiling must not drop them sooner either.
  server.keepAliveTimeout = 72_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
