import { randomUUID } from 'node:crypto';
import type { ApolloServer } from '@apollo/server';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { createClient } from '@redis/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { createApollo } from './apollo.js';
import type { TokenStore } from './auth/tokens.js';
import type { Config } from './config.js';
import { type Context, createContext, viewerOf } from './context.js';
import { browserAccess } from './cors.js';
import { composeSharedStore } from './data/compose-store.js';
import { SectionCache } from './data/decorators/section-cache.js';
import type { ContentStore } from './data/store.js';
import { edgeServerFactory } from './edge-server.js';
import { urlTooLong } from './errors.js';
import { type CacheEdge, cacheEdge } from './http-cache/edge.js';
import { responseCacheHints, serveFromCache } from './http-cache/hooks.js';
import { RedisResponseCache, redisKeyValueCache } from './http-cache/redis-cache.js';
import { type RedisClient, RedisGuard, withTimeout } from './http-cache/redis-guard.js';
import { memoryResponseStore, ResponseCache, type ResponseStore } from './http-cache/response-cache.js';
import { SharedPurges } from './http-cache/shared-purges.js';
import { limitRefusals } from './limits/refusals.js';
import { fastifyLogging, requestLog } from './logging.js';
import { Metrics } from './metrics.js';
import { loadManifest } from './safelist/manifest.js';

/** How long `/ready` waits for the store before it says not ready. */
const READY_TIMEOUT_MS = 1000;

/**
 * A Redis client behind a guard (src/http-cache/redis-guard.ts): every command
 * bounded by REDIS_TIMEOUT_MS, Redis gone past while it does not answer.
 * Start-up waits a little for Redis and then goes on without it: it is a
 * shared cache, not the store, and the guard's probe notices when it comes.
 * A connection that drops is retried by the client; meanwhile commands fail
 * at once (no offline queue).
 */
async function connectRedis(
  url: string,
  timeoutMs: number,
  log: { info(message: string): void; warn(fields: object, message: string): void },
): Promise<RedisGuard> {
  const client: RedisClient = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: Math.max(timeoutMs, 1000),
      // node-redis waits up to 2.2 s between attempts by default. An attempt on a closed port costs
      // next to nothing, and every save made before the reconnection waits for a recorded purge.
      reconnectStrategy: (retries) => Math.min(25 * 2 ** retries, 100) + Math.floor(Math.random() * 25),
    },
  });
  client.on('error', () => {
    // Reported where it matters: the guard's log line, /ready, the metrics. Without a listener the
    // client's error event would end the process.
  });
  const guard = new RedisGuard(client, {
    timeoutMs,
    onChange: (available, cause) =>
      available
        ? log.info('Redis answers again; using the shared cache')
        : log.warn({ err: cause }, 'Redis is not answering; going past the shared cache until it does'),
  });
  const connected = client.connect();
  connected.catch(() => {});
  await withTimeout(connected, Math.max(timeoutMs * 4, 1000), () => new Error('Redis did not accept a connection in time')).catch(
    (error: unknown) => guard.bypass(error),
  );
  return guard;
}

function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

export interface Server {
  http: FastifyInstance;
  apollo: ApolloServer<Context>;
  /** The in-memory response cache; null when RESPONSE_CACHE_MB is 0 or the cache is in Redis. */
  cache: ResponseCache | null;
}

/** Fastify with Apollo mounted at /graphql, ready to `listen`. Closing `http` drains and stops Apollo. */
export async function buildServer({
  config,
  store,
  tokens,
  metrics = new Metrics(),
  logStream,
}: {
  config: Config;
  store: ContentStore;
  tokens: Pick<TokenStore, 'verify'>;
  metrics?: Metrics;
  /** Where logs go (standard output unless given). */
  logStream?: NodeJS.WritableStream;
}): Promise<Server> {
  const { limits } = config;
  // Set below when the response cache is in this process's memory.
  let edge: CacheEdge | null = null;
  let closing = false;
  const http = Fastify({
    // CORS, refusing requests while closing, and the cache's edge, in front of Fastify's handler (src/edge-server.ts).
    serverFactory: edgeServerFactory({ cors: browserAccess(config.corsOrigins), closing: () => closing, edge: () => edge }),
    // Requests that arrive once closing has begun are refused by the server factory, when their headers arrive, as
    // Fastify would refuse them; a request the edge was still reading then is Fastify's to finish.
    return503OnClosing: false,
    genReqId: () => randomUUID(),
    // A hop count trusts that many proxies nearest to us (Fastify's types only take it as a function).
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    // Larger bodies are refused with 413 before they are read.
    bodyLimit: limits.bodyBytes,
    ...fastifyLogging(config, logStream),
  });
  http.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const shared = config.redis
    ? { guard: await connectRedis(config.redis.url, config.redis.timeoutMs, http.log), prefix: config.redis.prefix }
    : null;
  if (shared) {
    http.addHook('onClose', async () => {
      shared.guard.close();
      // QUIT waits for Redis's answer; a frozen Redis must not hold the shutdown.
      await withTimeout(shared.guard.client.quit(), 1000, () => new Error('QUIT timed out')).catch(() => shared.guard.client.destroy());
    });
  }
  // First, so a client that is cut off costs nothing more.
  const refusals = limits.refusalsPerMinute > 0 ? limitRefusals(http, { max: limits.refusalsPerMinute, windowMs: 60_000 }) : null;
  http.addHook('onRequest', async (request, reply) => {
    if (Buffer.byteLength(request.url) > limits.urlBytes) {
      const refusal = urlTooLong(limits.urlBytes);
      await reply.code(refusal.status).send(refusal.body);
    }
  });
  const apollo = createApollo({
    production: config.nodeEnv === 'production',
    introspection: config.introspection,
    landingPage: config.landingPage,
    limits,
    safelist: config.safelist ? loadManifest(config.safelist) : null,
    plugins: [fastifyApolloDrainPlugin(http), metrics.plugin(), requestLog(config)],
    cache: config.cache,
    executor: config.executor,
    federation: config.federation,
    ...(shared ? { persistedQueries: redisKeyValueCache(shared.guard, `${shared.prefix}apq:`) } : {}),
  });

  // Every write through this server purges the cached responses it made stale before it returns;
  // with Redis, the purge reaches every instance's answers before the mutation returns.
  const staleMs = config.cache.staleIfErrorSeconds * 1000;
  const cache = !shared && config.cache.responseBytes > 0 ? new ResponseCache({ maxBytes: config.cache.responseBytes, staleMs }) : null;
  // With Redis, purges that Redis does not confirm are kept in the store until delivered, and no
  // instance answers from the shared cache meanwhile (src/http-cache/shared-purges.ts).
  let sharedPurges: SharedPurges | null = null;
  const redisResponses = shared
    ? new RedisResponseCache(shared.guard, shared.prefix, staleMs, {
        fresh: () => sharedPurges?.usable() ?? false,
        stale: () => (sharedPurges?.pending() ?? 1) === 0,
      })
    : null;
  if (redisResponses) {
    sharedPurges = new SharedPurges(store, redisResponses, { log: http.log });
    await sharedPurges.start();
    const purges = sharedPurges;
    http.addHook('onClose', async () => purges.stop());
    metrics.watchSharedCache(() => ({ usable: redisResponses.usable(), pendingPurges: purges.pending() }));
  }
  const responses: ResponseStore | null = redisResponses ?? (cache ? memoryResponseStore(cache) : null);
  // Kept in this process only: with Redis there are other instances, whose purges would not reach it.
  const sections =
    !shared && config.cache.sectionRecords > 0
      ? new SectionCache({ maxRecords: config.cache.sectionRecords, ttlMs: config.cache.responseSeconds * 1000 })
      : null;
  let served = store;
  if (responses || sections) {
    // The section cache first: a response built after the responses' purge must not read old section data.
    const purger = sharedPurges ?? {
      purge: async (tags: readonly string[]) => {
        sections?.purge(tags);
        await responses?.purge(tags);
      },
      purgeAll: async () => {
        sections?.clear();
        await responses?.clear();
      },
    };
    // The layers every request shares (src/data/compose-store.ts); each request adds its own in createContext.
    const layers = composeSharedStore(store, {
      purger,
      sections,
      onPurgeError: (error) => http.log.error({ err: error }, 'a scheduled purge failed'),
    });
    await layers.invalidation.scheduleUpcoming();
    http.addHook('onClose', async () => layers.invalidation.cancelScheduled());
    if (responses) {
      serveFromCache(http, {
        cache: responses,
        metrics,
        ttlSeconds: config.cache.responseSeconds,
        staleIfErrorSeconds: config.cache.staleIfErrorSeconds,
      });
      const { peek } = responses;
      if (peek)
        edge = cacheEdge(http, {
          peek,
          metrics,
          bodyLimit: limits.bodyBytes,
          mayCutOff: refusals?.mayCutOff,
          staleIfErrorSeconds: config.cache.staleIfErrorSeconds,
        });
    }
    if (cache) metrics.watchResponseCache(() => cache.stats());
    if (sections) metrics.watchSectionCache(() => sections.stats());
    served = layers.store;
  }

  // Liveness, readiness (the store answers and is migrated) and Prometheus metrics.
  http.get('/health', async () => ({ status: 'ok' }));
  // A store that refuses writes still serves reads, so the instance stays in the load balancer's pool.
  http.get('/ready', async (_, reply) => {
    try {
      // Bounded: a load balancer's probe must get an answer even from a store that does not answer.
      const readiness = await withTimeout(
        served.checkReady(),
        READY_TIMEOUT_MS,
        () => new Error(`the store did not answer within ${READY_TIMEOUT_MS} ms`),
      );
      // Redis is a cache: without it reads go to the store, so it is reported, never a reason to take readers away.
      const sharedCache = shared ? { sharedCache: redisResponses?.usable() ? 'in use' : 'bypassed' } : {};
      return readiness.writable
        ? { status: 'ready', ...sharedCache }
        : { status: 'ready', writes: 'refused', reason: readiness.reason, ...sharedCache };
    } catch (error) {
      http.log.warn({ err: error }, 'not ready');
      return reply.code(503).send({ status: 'unavailable', reason: (error as Error).message });
    }
  });
  http.get('/metrics', async (_, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
  await apollo.start();
  await http.register(fastifyApollo(apollo), {
    path: '/graphql',
    context: async (request) =>
      createContext(served, await viewerOf(request.headers.authorization, tokens), {
        log: request.log,
        id: request.id,
        timeoutMs: config.requestTimeoutMs,
        cache: responseCacheHints(request),
      }),
  });
  return { http, apollo, cache };
}
