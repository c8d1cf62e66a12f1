// Where log lines go, and which requests get one: logging must never be what stops the service.
import type { ApolloServerPlugin } from '@apollo/server';
import { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify';
import type { Config } from './config.js';
import type { Context } from './context.js';

/** How many bytes of log lines may wait for a slow reader of standard output before new lines are dropped. */
const BUFFERED_BYTES = 2 ** 20;

/**
 * Log lines to standard output that never block the event loop.
 *
 * pino's own destination writes synchronously and, on a pipe that stops
 * draining, retries in Atomics.wait forever: requests stall and a SIGTERM
 * never ends the process. Its asynchronous mode writes from the thread pool,
 * and a write blocked there holds `process.exit` (libuv joins the pool on
 * exit), and `fatal` still flushes synchronously. process.stdout on a pipe is
 * a libuv stream: a full pipe queues the line in memory and the loop goes on,
 * and exit does not wait for the queue. Here the queue is bounded: past
 * `bufferedBytes`, lines are dropped and counted. A terminal or a file is
 * written synchronously by Node, as before; only a pipe or socket can stall
 * for long.
 *
 * No `flushSync`, on purpose: pino calls it after every `fatal` line.
 */
export class StandardOutputLog {
  #dropped = 0;
  #broken = false;

  constructor(
    private readonly output: NodeJS.WritableStream & { readonly writableLength: number } = process.stdout,
    private readonly bufferedBytes = BUFFERED_BYTES,
  ) {
    // EPIPE and the like: the reader is gone. Without a listener the error would end the process.
    output.on('error', () => {
      this.#broken = true;
    });
  }

  /** Lines dropped so far because the reader was too slow, or gone. */
  get dropped(): number {
    return this.#dropped;
  }

  /** pino's destination interface: one serialised line. */
  write(line: string): boolean {
    if (this.#broken || this.output.writableLength + line.length > this.bufferedBytes) {
      this.#dropped += 1;
      return true;
    }
    this.output.write(line);
    return true;
  }

  /** Resolves true once every line written so far has left the process, or false after `timeoutMs`. */
  settle(timeoutMs: number): Promise<boolean> {
    if (this.#broken || this.output.writableLength === 0) return Promise.resolve(!this.#broken);
    return new Promise((resolve) => {
      const done = (drained: boolean) => {
        clearTimeout(timer);
        this.output.off('drain', onDrain);
        resolve(drained);
      };
      const onDrain = () => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      timer.unref();
      this.output.on('drain', onDrain);
    });
  }
}

let standardOutput: StandardOutputLog | null = null;

/** The process's one log destination on standard output (created on first use). */
export function standardOutputLog(): StandardOutputLog {
  standardOutput ??= new StandardOutputLog();
  return standardOutput;
}

/**
 * Fastify's request lines in production: no "incoming request", "request
 * completed" or "route not found" line for every request (the GraphQL line,
 * `requestLog`, says what matters, for a sample); its lines about errors stay.
 */
class ProductionRequestLines extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (error) super.requestCompleted(error, request, reply, metadata);
  }

  override routeNotFound(): void {}
}

/**
 * Fastify's logging options: the level, the Authorization header redacted,
 * lines to `stream` (tests) or to standard output without blocking, and in
 * production only Fastify's lines about errors.
 */
export function fastifyLogging(
  config: Pick<Config, 'logLevel' | 'nodeEnv'>,
  stream: { write(line: string): unknown } = standardOutputLog(),
): Pick<FastifyServerOptions, 'logger' | 'logController'> {
  if (config.logLevel === 'silent') return { logger: false };
  return {
    logger: { level: config.logLevel, redact: { paths: ['req.headers.authorization'], censor: '[redacted]' }, stream },
    ...(config.nodeEnv === 'production' ? { logController: new ProductionRequestLines() } : {}),
  };
}

/**
 * One structured log line per GraphQL request (operation, HTTP status,
 * duration, error count; the request id comes with the logger) for a
 * `logRequests` share of ordinary requests, and always for a request with
 * errors or a 5xx status. A request slower than `logSlowMs` is always
 * logged, at warn.
 */
export function requestLog(
  { logRequests, logSlowMs }: Pick<Config, 'logRequests' | 'logSlowMs'>,
  random: () => number = Math.random,
): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, request, response, operationName, errors }) {
          const log = contextValue.log;
          if (!log) return;
          const durationMs = Math.round((performance.now() - started) * 100) / 100;
          const status = response.http.status ?? 200;
          const errorCount = errors?.length ?? 0;
          const slow = durationMs > logSlowMs;
          if (!slow && errorCount === 0 && status < 500 && !(random() < logRequests)) return;
          const line = { operation: operationName ?? request.operationName ?? null, status, durationMs, errors: errorCount };
          if (!slow) log.info(line, 'graphql request');
          else log.warn({ ...line, slowMs: logSlowMs }, 'slow graphql request');
        },
      };
    },
  };
}
