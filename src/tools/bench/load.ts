// The load generators for npm run bench, run in the bench's own process: autocannon for maximum
// throughput, and an evenly paced open-loop sender for latency at a fixed rate. Both hand out the
// next request of one shared list and check each answer against the bytes recorded for that
// request: a wrong answer is a failure, never throughput.
import { connect, type Socket } from 'node:net';
import autocannon from 'autocannon';
import { percentiles } from './stats.js';

export interface BenchRequest {
  method: 'GET' | 'POST';
  /** Path and query string, as sent on the request line. */
  path: string;
  body?: string;
  headers: Record<string, string>;
  /** An uncached article or a unique query: it may reach a newsgraph process only once. */
  once: boolean;
  /** How notes name it, e.g. `ArticlePage 20261030-e4e4366c2793`. */
  label: string;
}

/** What a request must be answered with. */
export interface Expected {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Distinct requests, the order they are sent in, and the answers recorded for them. */
export interface Workload {
  name: string;
  requests: BenchRequest[];
  /** Indexes into `requests`; walked from a cursor, then from the start again. */
  order: number[];
  expected: (Expected | undefined)[];
}

/** How far one server process has got through a workload; warm-up and measured runs share it. */
export interface Cursor {
  next: number;
}

export interface LoadOptions {
  port: number;
  workload: Workload;
  cursor: Cursor;
  seconds: number;
  connections: number;
  /** Check answers against `workload.expected` (a warm-up on unrecorded requests does not). */
  verify: boolean;
  /** Count a `once` request sent a second time as a failure (newsgraph; the ceiling has no cache to fool). */
  enforceOnce: boolean;
}

export interface Mismatch {
  request: BenchRequest;
  expected: Expected | undefined;
  status: number;
  contentType: string;
  body: Buffer;
}

export interface RunResult {
  /** Wall-clock seconds from the first request to the last answer counted. */
  seconds: number;
  /** Answers received, right or wrong. */
  responses: number;
  /** Answers that were 2xx, byte for byte the recorded ones, and not a repeat of a `once` request. */
  good: number;
  non2xx: number;
  mismatched: number;
  /** `once` requests sent again because the list ran out. */
  repeats: number;
  /** Connection errors and timeouts: requests that got no answer. */
  errors: number;
  latency: ReturnType<typeof percentiles>;
  firstMismatch: Mismatch | undefined;
  /** Paced runs: how late requests left this process, which their latency includes (ms). */
  sendLag?: ReturnType<typeof percentiles>;
  /** Paced runs: the connections opened, which is the most requests that were in flight at once. */
  opened?: number;
}

/**
 * As many requests as the server answers, from `connections` connections, one request in flight
 * on each. `capture` receives every 2xx answer (to record the answers to expect). A newsgraph run
 * that reaches the end of a list of once-only requests stops there, within 100 ms.
 */
export function drive(options: LoadOptions & { rate?: number; capture?: (slot: number, answer: Expected) => void }): Promise<RunResult> {
  const { workload, cursor, capture } = options;
  const tally = createTally(options);
  let stop = () => {};
  // autocannon gives each request a fresh context object and hands that same object to
  // onResponse; with one request in flight per connection it identifies the request answered.
  const inFlight = new WeakMap<object, number>();
  const request: autocannon.Request = {
    setupRequest: (defaults, context) => {
      const position = cursor.next++;
      inFlight.set(context, position);
      const next = workload.requests[workload.order[position % workload.order.length]!]!;
      if (options.enforceOnce && next.once && position >= workload.order.length) stop();
      // The request builder writes Content-Length into the headers object: each request gets its own.
      return { ...defaults, method: next.method, path: next.path, headers: { ...next.headers }, body: next.body };
    },
    onResponse: (
      status: number,
      body: string | Buffer,
      context: object,
      headers: Record<string, string | string[] | undefined> | undefined,
    ) => {
      const position = inFlight.get(context);
      const contentType = headerValue(headers, 'content-type');
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      tally.answered(position, status, contentType, bytes);
      const slot = position === undefined ? undefined : workload.order[position % workload.order.length];
      if (capture && slot !== undefined && status >= 200 && status <= 299) capture(slot, { status, contentType, body: bytes });
    },
  };

  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${options.port}`,
        connections: options.connections,
        duration: options.seconds,
        pipelining: 1,
        // A run stops at the first sample tick after it is told to: every 100 ms rather than every second.
        sampleInt: 100,
        // autocannon's rate is a quota per connection per second, sent back to back as each second
        // starts: bursts at full concurrency, not an even rate. `pace` below sends evenly.
        ...(options.rate ? { overallRate: Math.max(1, Math.round(options.rate)) } : {}),
        requests: [request],
        setupClient: keepRawBodies,
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve(tally.result(result.duration, result.errors));
      },
    );
    // Raw latencies of every answer: autocannon's histogram keeps whole milliseconds, and under
    // a fixed rate it "corrects" them with an expected interval of ceil(1 / per-connection rate) = 1 ms.
    instance.on('response', (_client: autocannon.Client, _status: number, _bytes: number, ms: number) => tally.latency(ms));
    stop = () => instance.stop();
  });
}

/**
 * `rate` requests a second, evenly spaced and sent on schedule whether or not earlier ones were
 * answered (open loop), over at most `connections` keep-alive connections, each opened when no
 * open one is free. Latency counts from when a request was due, so time spent waiting for a free
 * connection is not hidden: give it enough connections that it never has to wait, or it measures
 * its own queue (32 connections at 16,000 req/s and 1.5 ms per answer are three quarters busy).
 *
 * It speaks HTTP/1.1 on raw sockets because node:http's client tops out at a few thousand
 * requests a second on one core, far below 80% of what a cached newsgraph answers; answers must
 * carry Content-Length (newsgraph's and the ceiling's do), anything else counts as an error.
 */
export async function pace(options: LoadOptions & { rate: number }): Promise<RunResult> {
  const { workload, cursor, rate, port } = options;
  const tally = createTally(options);
  const total = Math.max(1, Math.round(rate * options.seconds));
  const interval = 1000 / rate;
  const wire = new Map<number, Buffer>();
  const lags: number[] = [];
  let errors = 0;
  let opened = 0;
  let finished = 0;
  let onAllFinished = () => {};
  const waiting: { due: number; position: number }[] = [];
  let head = 0;
  const idle: PacedConnection[] = [];

  const complete = () => {
    if (++finished === total) onAllFinished();
  };
  const dispatch = () => {
    while (head < waiting.length && idle.length) idle.pop()!.send(waiting[head++]!);
  };
  const requestBytes = (slot: number) => {
    let bytes = wire.get(slot);
    if (!bytes) {
      const { method, path, headers, body } = workload.requests[slot]!;
      const payload = Buffer.from(body ?? '');
      const lines = [
        `${method} ${path} HTTP/1.1`,
        `host: 127.0.0.1:${port}`,
        'connection: keep-alive',
        ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ];
      if (body !== undefined) lines.push(`content-length: ${payload.length}`);
      bytes = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]);
      wire.set(slot, bytes);
    }
    return bytes;
  };

  class PacedConnection {
    private socket: Socket | undefined;
    private job: { due: number; position: number } | undefined;
    private buffered: Buffer = Buffer.alloc(0);

    send(job: { due: number; position: number }) {
      this.job = job;
      this.socket ??= this.connect();
      this.socket.write(requestBytes(workload.order[job.position % workload.order.length]!));
    }

    private connect(): Socket {
      const socket = connect(port, '127.0.0.1');
      opened++;
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => this.receive(chunk));
      const lost = () => {
        if (this.socket !== socket) return;
        this.socket = undefined;
        this.buffered = Buffer.alloc(0);
        // An idle connection the server closed is already among the idle ones: it reconnects when used.
        if (!this.job) return;
        this.job = undefined;
        errors++;
        complete();
        idle.push(this);
        dispatch();
      };
      socket.on('error', lost);
      socket.on('close', lost);
      return socket;
    }

    private receive(chunk: Buffer) {
      this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end < 0 || !this.job) return;
      const head = this.buffered.subarray(0, end).toString('latin1');
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      if (length === undefined) return this.socket?.destroy();
      if (this.buffered.length < end + 4 + Number(length)) return;
      const body = this.buffered.subarray(end + 4, end + 4 + Number(length));
      this.buffered = this.buffered.subarray(end + 4 + Number(length));
      const { due, position } = this.job;
      this.job = undefined;
      tally.latency(performance.now() - due);
      tally.answered(position, Number(head.slice(9, 12)), /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? '', body);
      complete();
      idle.push(this);
      dispatch();
    }

    close() {
      const socket = this.socket;
      this.socket = undefined;
      socket?.destroy();
    }
  }

  const connections = Array.from({ length: options.connections }, () => new PacedConnection());
  idle.push(...connections);
  const allFinished = new Promise<void>((resolve) => (onAllFinished = resolve));
  const started = performance.now();
  for (let queued = 0; queued < total; ) {
    // Timers fire at best every millisecond: queue everything that has come due since the last one.
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - started) / interval) + 1);
    for (; queued < due; queued++) {
      const at = started + queued * interval;
      lags.push(now - at);
      waiting.push({ due: at, position: cursor.next++ });
    }
    dispatch();
    if (queued < total) await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + queued * interval - performance.now())));
  }
  // Answers still missing 10 s after the last request was due are timeouts.
  const timedOut = await Promise.race([
    allFinished.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(resolve, 10_000, true)),
  ]);
  const seconds = (performance.now() - started) / 1000;
  for (const connection of connections) connection.close();
  return { ...tally.result(seconds, errors + (timedOut ? total - finished : 0)), sendLag: percentiles(lags), opened };
}

function createTally({ workload, verify, enforceOnce }: LoadOptions) {
  const { requests, order, expected } = workload;
  if (verify && requests.some((_, i) => expected[i] === undefined))
    throw new Error(`${workload.name}: some requests have no recorded answer`);
  const samples: number[] = [];
  let responses = 0;
  let non2xx = 0;
  let mismatched = 0;
  let repeats = 0;
  let firstMismatch: Mismatch | undefined;
  return {
    latency(ms: number) {
      samples.push(ms);
    },
    answered(position: number | undefined, status: number, contentType: string, body: Buffer) {
      responses++;
      const slot = position === undefined ? undefined : order[position % order.length];
      const sent = slot === undefined ? undefined : requests[slot];
      const want = slot === undefined ? undefined : expected[slot];
      const repeated = enforceOnce && sent?.once === true && position !== undefined && position >= order.length;
      const ok = status >= 200 && status <= 299;
      if (ok && repeated) {
        repeats++;
        return;
      }
      if (ok && (!verify || (want !== undefined && status === want.status && contentType === want.contentType && body.equals(want.body))))
        return;
      if (ok) mismatched++;
      else non2xx++;
      if (sent) firstMismatch ??= { request: sent, expected: want, status, contentType, body };
    },
    result(seconds: number, errors: number): RunResult {
      const good = responses - non2xx - mismatched - repeats;
      return { seconds, responses, good, non2xx, mismatched, repeats, errors, latency: percentiles(samples), firstMismatch };
    },
  };
}

interface PendingResponse {
  body: string | Buffer;
}
interface ResponseQueue {
  peek(): PendingResponse | undefined;
  addBody(chunk: Buffer): void;
}

function isResponseQueue(value: unknown): value is ResponseQueue {
  return (
    typeof value === 'object' &&
    value !== null &&
    'peek' in value &&
    typeof value.peek === 'function' &&
    'addBody' in value &&
    typeof value.addBody === 'function'
  );
}

/**
 * autocannon appends each body chunk to a string, which turns a UTF-8 character split across two
 * TCP reads into two replacement characters: a Chinese page would then "mismatch" at random.
 * Keeping the chunks as bytes (and comparing bytes, which is also cheaper than decoding) needs
 * its per-connection response queue, which it does not document; fail loudly if it moves.
 */
function keepRawBodies(client: autocannon.Client): void {
  const queue: unknown = Reflect.get(client, 'pipelinedRequests');
  if (!isResponseQueue(queue))
    throw new Error('autocannon no longer keeps a pipelinedRequests queue per client: update keepRawBodies in src/tools/bench/load.ts');
  queue.addBody = (chunk) => {
    const pending = queue.peek();
    if (pending) pending.body = pending.body === '' ? chunk : Buffer.concat([Buffer.from(pending.body), chunk]);
  };
}

function headerValue(headers: Record<string, string | string[] | undefined> | undefined, name: string): string {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(', ') : (value ?? '');
  }
  return '';
}
