import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { isObjectType, type DocumentNode, type GraphQLError, type GraphQLFieldResolver, type GraphQLSchema, type ValidationContext } from 'graphql';
import { DEFAULT_CACHE, DEFAULT_EXECUTOR, DEFAULT_LIMITS, type CacheConfig, type Config, type Executor, type Limits } from './config.js';
import { jitGateway } from './executor.js';
import { fastifyLogging, requestLog } from './logging.js';
import { costLimitPlugin } from './limits/cost.js';
import { limitRefusals } from './limits/refusals.js';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { createContext, type Context } from './context.js';
import type { TokenStore, Viewer } from './auth/tokens.js';
import type { ContentStore } from './data/store.js';
import { storeErrorToGraphQLError, userError } from './errors.js';
import { Metrics } from './metrics.js';
import { loadManifest, safelistPlugin, type SafelistManifest } from './safelist/manifest.js';
import { InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { cacheEdge, type CacheEdge } from './http-cache/edge.js';
import { cacheControlPlugin } from './http-cache/cache-control-plugin.js';
import { responseCacheHints, serveFromCache } from './http-cache/hooks.js';
import { composeSharedStore } from './data/compose-store.js';
import { memoryResponseStore, ResponseCache, type ResponseStore } from './http-cache/response-cache.js';
import { SectionCache } from './data/decorators/section-cache.js';
import { redisKeyValueCache, RedisResponseCache } from './http-cache/redis-cache.js';
import { RedisGuard, withTimeout, type RedisClient } from './http-cache/redis-guard.js';
import { SharedPurges } from './http-cache/shared-purges.js';
import { createClient } from '@redis/client';
import { buildSchema } from './schema.js';
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';

const DOCUMENT_STORE_BYTES = 2 * 2 ** 20;
/** How long `/ready` waits for the store before it says not ready. */
const READY_TIMEOUT_MS = 1000;

export interface ApolloOptions {
  production: boolean;
  /** Schema introspection; on unless production. */
  introspection?: boolean;
  /** Apollo Sandbox on GET in a browser; on unless production. */
  landingPage?: boolean;
  /** Request limits; the configured defaults when absent. */
  limits?: Limits;
  /** Only these operations run. */
  safelist?: SafelistManifest | null;
  /** Extra Apollo plugins, such as the Fastify drain plugin. */
  plugins?: ApolloServerPlugin<Context>[];
  /** Cache-Control lifetimes and the persisted query store's size; the configured defaults when absent. */
  cache?: CacheConfig;
  /** Which engine executes operations: graphql-jit (compiled per document) or graphql-js. */
  executor?: Executor;
  /** Where automatic persisted queries are kept (Redis, shared); this process's memory when absent. */
  persistedQueries?: KeyValueCache<string>;
}

// graphql-armor's rules throw by default, which Apollo answers with a 500;
// reported to the validation context they are ordinary 400 validation errors.
const reportAsValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

/**
 * In production a failure inside the server (a store error, a bug) reaches
 * the client as INTERNAL_SERVER_ERROR with a generic message and the request
 * id, never SQL, paths or stack; the full error is logged under that id.
 */
const maskInternalErrors: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didEncounterErrors({ contextValue, errors }) {
        for (const error of errors) {
          if (error.extensions?.code !== 'INTERNAL_SERVER_ERROR' && error.extensions?.code !== undefined) continue;
          contextValue.log?.error({ err: error.originalError ?? error, path: error.path }, 'internal error');
        }
      },
      async willSendResponse({ contextValue, response }) {
        if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
        response.body.singleResult.errors = response.body.singleResult.errors.map((error) =>
          error.extensions?.code === 'INTERNAL_SERVER_ERROR'
            ? {
                message: `Internal server error (request ${contextValue.requestId ?? 'unknown'})`,
                path: error.path,
                extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: contextValue.requestId ?? null },
              }
            : error,
        );
      },
    };
  },
};

/** Codes that mean the store failed (src/errors.ts); the client gets the code, the log gets the cause. */
const STORE_FAILURE_CODES = new Set(['STORE_UNAVAILABLE', 'STORE_FULL', 'STORE_READ_ONLY', 'DEADLINE_EXCEEDED']);

/** Logs the driver's own error behind every store failure a client was told of by its code only. */
const logStoreFailures: ApolloServerPlugin<Context> = {
  async requestDidStart() {
    return {
      async didEncounterErrors({ contextValue, errors }) {
        for (const error of errors) {
          const code = error.extensions?.code;
          if (typeof code !== 'string' || !STORE_FAILURE_CODES.has(code)) continue;
          // graphql-js wraps the GraphQLError a resolver threw, which wraps the driver's error.
          let cause: Error = error;
          for (let depth = 0; depth < 5 && 'originalError' in cause && cause.originalError instanceof Error; depth++) cause = cause.originalError;
          contextValue.log?.error({ err: cause, code, path: error.path }, `the store failed: ${cause.message}`);
        }
      },
    };
  },
};

/** The GraphQL engine alone: what tests drive with `executeOperation`, and what the HTTP server mounts. */
export function createApollo({
  production,
  introspection = !production,
  landingPage = !production,
  limits = DEFAULT_LIMITS,
  safelist = null,
  plugins = [],
  cache = DEFAULT_CACHE,
  executor = DEFAULT_EXECUTOR,
  persistedQueries = new InMemoryLRUCache<string>({ maxSize: cache.persistedQueryBytes }),
}: ApolloOptions): ApolloServer<Context> {
  const schema = answeringStoreErrors(buildSchema());
  return new ApolloServer<Context>({
    ...(executor === 'jit' ? { gateway: jitGateway(schema) } : { schema }),
    persistedQueries: { cache: withSafelist(persistedQueries, safelist), ttl: PERSISTED_QUERY_SECONDS },
    // Parsed and validated documents. Apollo's default holds about 30 MiB of them by its estimate,
    // which measured over 250 MB of heap under a stream of unique queries; the portal's own
    // operations are a few dozen.
    documentStore: new InMemoryLRUCache<DocumentNode>({ maxSize: DOCUMENT_STORE_BYTES }),
    introspection,
    includeStacktraceInErrorResponses: !production,
    // "Did you mean …?" tells a stranger what fields exist; production keeps the schema to itself.
    formatError: production ? (formatted) => ({ ...formatted, message: formatted.message.replace(/ Did you mean .+\?$/, '') }) : undefined,
    // A document over the token budget fails in the parser: a 400 GRAPHQL_PARSE_FAILED before any work.
    parseOptions: { maxTokens: limits.tokens },
    maxRecursiveSelections: true,
    validationRules: [
      maxDepthRule({ n: limits.depth, ignoreIntrospection: true, ...reportAsValidationError }),
      maxAliasesRule({ n: limits.aliases, ...reportAsValidationError }),
      maxDirectivesRule({ n: limits.directives, ...reportAsValidationError }),
    ],
    plugins: [
      ...plugins,
      costLimitPlugin(limits.cost),
      logStoreFailures,
      cacheControlPlugin(cache),
      // The policy is static per document (src/http-cache/policy.ts); Apollo's per-field plugin would
      // compute it again on every request, at a measured cost.
      ApolloServerPluginCacheControlDisabled(),
      ...(production ? [maskInternalErrors] : []),
      ...(safelist ? [safelistPlugin(safelist)] : []),
      landingPage
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false })
        : ApolloServerPluginLandingPageDisabled(),
    ],
  });
}

/**
 * The schema with every resolver's store errors told to the client as
 * GraphQL errors with codes (src/errors.ts): a request past its deadline as
 * DEADLINE_EXCEEDED, a store failure as STORE_UNAVAILABLE and the like, each
 * a 503 with Retry-After. The store and its decorators know nothing of
 * GraphQL; this is where what they throw meets the API. Translated as the
 * resolver returns, before graphql-js places the error, so every plugin
 * (logs, masking, the HTTP status) sees the coded error.
 */
function answeringStoreErrors(schema: GraphQLSchema): GraphQLSchema {
  const translate = (error: unknown): never => {
    throw storeErrorToGraphQLError(error) ?? error;
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve: GraphQLFieldResolver<unknown, Context> | undefined = field.resolve;
      if (!resolve) continue;
      field.resolve = (source, args, context, info) => {
        let result: unknown;
        try {
          result = resolve(source, args, context, info);
        } catch (error) {
          return translate(error);
        }
        return result instanceof Promise ? result.catch(translate) : result;
      };
    }
  }
  return schema;
}

/** How long a registered persisted query is kept after its last registration (in memory, the LRU also bounds it by bytes). */
const PERSISTED_QUERY_SECONDS = 24 * 3600;

/**
 * Automatic persisted queries in `store`, bounded (by bytes in memory, by
 * TTL in Redis). Safelisted operations can be sent by id alone, so they are
 * kept apart and never evicted.
 */
function withSafelist(store: KeyValueCache<string>, safelist: SafelistManifest | null): KeyValueCache<string> {
  const pinned = new Map((safelist?.operations ?? []).map((operation) => [`apq:${operation.id}`, operation.body]));
  if (pinned.size === 0) return store;
  return {
    get: async (key) => pinned.get(key) ?? store.get(key),
    set: (key, value, options) => (pinned.has(key) ? Promise.resolve() : store.set(key, value, options)),
    delete: (key) => store.delete(key),
  };
}

/**
 * Who sent the request: nobody without an Authorization header; the token's
 * holder with a valid bearer token; and a request with a token that does not
 * verify is refused outright (401) rather than quietly served as anonymous.
 */
export async function viewerOf(authorization: string | undefined, tokens: Pick<TokenStore, 'verify'>): Promise<Viewer | null> {
  if (authorization === undefined || authorization.trim() === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const viewer = match ? await tokens.verify(match[1]!) : null;
  if (!viewer) throw userError('UNAUTHENTICATED', 'the Authorization header does not hold a valid editor token (Bearer <token>)');
  return viewer;
}

/**
 * A Redis client behind a guard (src/http-cache/redis-guard.ts): every command
 * bounded by REDIS_TIMEOUT_MS, Redis gone past while it does not answer.
 * Start-up waits a little for Redis and then goes on without it: it is a
 * shared cache, not the store, and the guard's probe notices when it comes.
 * A connection that drops is retried by the client; meanwhile commands fail
 * at once (no offline queue).
 */
async function connectRedis(url: string, timeoutMs: number, log: { info(message: string): void; warn(fields: object, message: string): void }): Promise<RedisGuard> {
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
      available ? log.info('Redis answers again; using the shared cache') : log.warn({ err: cause }, 'Redis is not answering; going past the shared cache until it does'),
  });
  const connected = client.connect();
  connected.catch(() => {});
  await withTimeout(connected, Math.max(timeoutMs * 4, 1000), () => new Error('Redis did not accept a connection in time')).catch((error: unknown) =>
    guard.bypass(error),
  );
  return guard;
}

/**
 * What Fastify answers (`return503OnClosing`) to a request that arrives
 * while the server drains, so a load balancer sends it elsewhere.
 */
function refuseWhileClosing(response: ServerResponse): void {
  const body = JSON.stringify({ errors: [{ message: 'the server is shutting down; try another instance', extensions: { code: 'SHUTTING_DOWN' } }] });
  response.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
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
    // The server Fastify would make (lib/server.js), with the cache's edge in front of Fastify's handler.
    serverFactory: (handler, options) => {
      const { keepAliveTimeout, requestTimeout, connectionTimeout } = options as Record<'keepAliveTimeout' | 'requestTimeout' | 'connectionTimeout', number>;
      const server = createServer((request, response) => {
        if (closing) return refuseWhileClosing(response);
        if (edge) return edge.handle(request, response, handler);
        handler(request, response);
      });
      server.keepAliveTimeout = keepAliveTimeout;
      server.requestTimeout = requestTimeout;
      server.setTimeout(connectionTimeout);
      return server;
    },
    // Requests that arrive once closing has begun are refused above, when their headers arrive, as
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
  const shared = config.redis ? { guard: await connectRedis(config.redis.url, config.redis.timeoutMs, http.log), prefix: config.redis.prefix } : null;
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
      await reply.code(414).send({ errors: [{ message: `the URL is longer than ${limits.urlBytes} bytes`, extensions: { code: 'BAD_REQUEST' } }] });
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
      serveFromCache(http, { cache: responses, metrics, ttlSeconds: config.cache.responseSeconds, staleIfErrorSeconds: config.cache.staleIfErrorSeconds });
      const { peek } = responses;
      if (peek) edge = cacheEdge(http, { peek, metrics, bodyLimit: limits.bodyBytes, mayCutOff: refusals?.mayCutOff, staleIfErrorSeconds: config.cache.staleIfErrorSeconds });
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
      const readiness = await withTimeout(served.checkReady(), READY_TIMEOUT_MS, () => new Error(`the store did not answer within ${READY_TIMEOUT_MS} ms`));
      // Redis is a cache: without it reads go to the store, so it is reported, never a reason to take readers away.
      const sharedCache = shared ? { sharedCache: redisResponses?.usable() ? 'in use' : 'bypassed' } : {};
      return readiness.writable ? { status: 'ready', ...sharedCache } : { status: 'ready', writes: 'refused', reason: readiness.reason, ...sharedCache };
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
