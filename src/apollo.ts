import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  isObjectType,
  type ValidationContext,
} from 'graphql';
import { type CacheConfig, DEFAULT_CACHE, DEFAULT_EXECUTOR, DEFAULT_LIMITS, type Executor, type Limits } from './config.js';
import type { Context } from './context.js';
import { maskedInternalError, STORE_FAILURE_CODES, storeErrorToGraphQLError } from './errors.js';
import { jitGateway } from './executor.js';
import { cacheControlPlugin } from './http-cache/cache-control-plugin.js';
import { costLimitPlugin } from './limits/cost.js';
import { type SafelistManifest, safelistPlugin, withSafelist } from './safelist/manifest.js';
import { buildSchema } from './schema.js';

const DOCUMENT_STORE_BYTES = 2 * 2 ** 20;
/** How long a registered persisted query is kept after its last registration (in memory, the LRU also bounds it by bytes). */
const PERSISTED_QUERY_SECONDS = 24 * 3600;

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
  /** Serve as an Apollo Federation 2 subgraph (`_service`, `_entities`); off unless asked for. */
  federation?: boolean;
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
          error.extensions?.code === 'INTERNAL_SERVER_ERROR' ? maskedInternalError(contextValue.requestId, error.path) : error,
        );
      },
    };
  },
};

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
          for (let depth = 0; depth < 5 && 'originalError' in cause && cause.originalError instanceof Error; depth++)
            cause = cause.originalError;
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
  federation = false,
}: ApolloOptions): ApolloServer<Context> {
  const schema = answeringStoreErrors(buildSchema({ federation }));
  return new ApolloServer<Context>({
    ...(executor === 'jit' ? { gateway: jitGateway(schema) } : { schema }),
    persistedQueries: { cache: withSafelist(persistedQueries, safelist), ttl: PERSISTED_QUERY_SECONDS },
    // Parsed and validated documents. Apollo's default holds about 30 MiB of them by its estimate,
    // which measured over 250 MB of heap under a stream of unique queries; the portal's own
    // operations are a few dozen.
    documentStore: new InMemoryLRUCache<DocumentNode>({ maxSize: DOCUMENT_STORE_BYTES }),
    // Apollo's CSRF prevention refuses any GET without a header a browser form could not send, which is
    // every GET urql, curl or a CDN sends. It guards against requests a browser sends with ambient
    // credentials (cookies); newsgraph has none: editors send bearer tokens, which a forged cross-site
    // request cannot carry, so such a request reads only what is public anyway. Mutations still never
    // run over GET (405), and a POST whose body is not JSON is still refused (400).
    csrfPrevention: false,
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
      // Apollo turns inline traces on for a subgraph schema: any client sending the trace header would
      // get per-field timings, cost every resolver a timer, and the traced answer could be cached for others.
      // newsgraph reports to no Apollo usage service, so no gateway needs them.
      ApolloServerPluginInlineTraceDisabled(),
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
    // `_entities` returns one promise per entity, which the field's own wrapper never sees settle.
    replaceReferenceResolver(type, (resolveReference) => (reference, context, info) => {
      let result: unknown;
      try {
        result = resolveReference(reference, context, info);
      } catch (error) {
        return translate(error);
      }
      return result instanceof Promise ? result.catch(translate) : result;
    });
  }
  return schema;
}

type ReferenceResolver = (reference: object, context: Context, info: GraphQLResolveInfo) => unknown;

/**
 * Swaps an entity's `__resolveReference` where @apollo/subgraph keeps it:
 * `extensions.apollo.subgraph.resolveReference` (only subgraph schemas have it).
 */
function replaceReferenceResolver(type: GraphQLObjectType, wrap: (resolveReference: ReferenceResolver) => ReferenceResolver): void {
  const apollo = type.extensions.apollo;
  if (!isRecord(apollo) || !isRecord(apollo.subgraph) || typeof apollo.subgraph.resolveReference !== 'function') return;
  // The library calls it as (reference, context, info), which is how newsgraph's resolvers are typed.
  const resolveReference = apollo.subgraph.resolveReference as ReferenceResolver;
  type.extensions = {
    ...type.extensions,
    apollo: { ...apollo, subgraph: { ...apollo.subgraph, resolveReference: wrap(resolveReference) } },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
