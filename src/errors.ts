import { type ASTNode, GraphQLError, type GraphQLFormattedError } from 'graphql';
import {
  ArticleNotFoundError,
  DeadlineExceeded,
  SectionCycleError,
  SectionNotFoundError,
  SlugTakenError,
  StoreFailure,
  type StoreFailureKind,
  storeFailureKind,
  VersionConflictError,
} from './data/errors.js';

// The catalogue of every error the service emits: each code, its message and
// its HTTP status is made here and nowhere else, and every error made from
// another one keeps it as its cause (`originalError`) for the log.

/**
 * Every error code the service emits in `extensions.code`, beside the ones
 * Apollo Server emits itself (GRAPHQL_PARSE_FAILED, PERSISTED_QUERY_NOT_FOUND,
 * BAD_USER_INPUT for variables that do not fit, …).
 */
export type ErrorCode =
  /** Invalid input; `extensions.argument` names the argument or field path. */
  | 'BAD_USER_INPUT'
  /** What a mutation names does not exist; `extensions.argument` says which argument. */
  | 'NOT_FOUND'
  /** No editor token, or one that does not verify (401). */
  | 'UNAUTHENTICATED'
  /** A token whose role may not do this (403). */
  | 'FORBIDDEN'
  /** The article changed since the version the client edited (`extensions.currentVersion`). */
  | 'CONFLICT'
  /** The request ran past REQUEST_TIMEOUT_MS (503). */
  | 'DEADLINE_EXCEEDED'
  /** The store cannot be reached or is too busy to answer now (503, Retry-After). */
  | 'STORE_UNAVAILABLE'
  /** The store's disk is full: writes are refused until space returns; reads go on (503). */
  | 'STORE_FULL'
  /** The store is read-only: writes are refused; reads go on (503). */
  | 'STORE_READ_ONLY'
  /** Apollo's code, also used for an operation over the cost budget (400, `extensions.cost` and `budget`). */
  | 'GRAPHQL_VALIDATION_FAILED'
  /** The server runs a safelist and the operation is not on it (400). */
  | 'OPERATION_NOT_IN_SAFELIST'
  /** A failure inside the server; in production the client sees only the request id. */
  | 'INTERNAL_SERVER_ERROR'
  /** A client cut off after too many refused requests (429, Retry-After); sent before GraphQL runs. */
  | 'RATE_LIMITED'
  /** The server is draining for shutdown (503); sent before GraphQL runs. */
  | 'SHUTTING_DOWN'
  /** A browser's preflight from a page whose origin CORS_ORIGINS does not allow (403); sent before GraphQL runs. */
  | 'ORIGIN_NOT_ALLOWED'
  /** A request HTTP itself refuses, such as a URL over the size limit (414); sent before GraphQL runs. */
  | 'BAD_REQUEST';

/** The HTTP status a response gets when this error is its reason (Apollo honours `extensions.http`). */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  DEADLINE_EXCEEDED: 503,
  STORE_UNAVAILABLE: 503,
  STORE_FULL: 503,
  STORE_READ_ONLY: 503,
  GRAPHQL_VALIDATION_FAILED: 400,
  OPERATION_NOT_IN_SAFELIST: 400,
};

/** Seconds a client is asked to wait (`Retry-After`) before trying again after a 503. */
export const RETRY_AFTER_SECONDS = 1;

/** A client error with its code and, where the code has one, its HTTP status; the named helpers below are built on it. */
export function userError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}, cause?: unknown): GraphQLError {
  const status = HTTP_STATUS[code];
  const http =
    status === undefined
      ? {}
      : { http: { status, ...(status === 503 ? { headers: new Map([['retry-after', String(RETRY_AFTER_SECONDS)]]) } : {}) } };
  return new GraphQLError(message, {
    extensions: { ...extensions, code, ...http },
    originalError: cause instanceof Error ? cause : undefined,
  });
}

/** Invalid input from the client; `argument` names the offending argument or field path. */
export function badUserInput(message: string, argument: string, extensions: Record<string, unknown> = {}, cause?: unknown): GraphQLError {
  return userError('BAD_USER_INPUT', message, { argument, ...extensions }, cause);
}

/** Nothing with the identifier the client gave in `argument`. */
export function notFound(message: string, argument: string, cause?: unknown): GraphQLError {
  return userError('NOT_FOUND', message, { argument }, cause);
}

/** The request carries no (valid) editor token (401). */
export function unauthenticated(message: string): GraphQLError {
  return userError('UNAUTHENTICATED', message);
}

/** The request's token holds a role that may not do this (403). */
export function forbidden(message: string): GraphQLError {
  return userError('FORBIDDEN', message);
}

/** The article changed since the version the client edited; the client reloads and applies its change again. */
export function versionConflict(error: VersionConflictError): GraphQLError {
  return userError(
    'CONFLICT',
    `the article changed since version ${error.expectedVersion}: it is at version ${error.currentVersion}; reload it and apply the change again`,
    { currentVersion: error.currentVersion, expectedVersion: error.expectedVersion },
    error,
  );
}

/**
 * A write the store refused (`data/errors.ts`) as the client's error, with
 * the refusal kept as its cause; null when `error` is no refusal (a server
 * fault, which the caller lets through as it is). `fields` names the input
 * field a missing section or a taken slug came from in this mutation.
 */
export function storeRefusalError(error: unknown, fields: { section?: string; slug?: string } = {}): GraphQLError | null {
  if (error instanceof VersionConflictError) return versionConflict(error);
  if (error instanceof ArticleNotFoundError) return notFound(error.message, 'id', error);
  if (error instanceof SlugTakenError) return badUserInput(error.message, fields.slug ?? 'input.slug', {}, error);
  if (error instanceof SectionNotFoundError) return badUserInput(error.message, fields.section ?? 'input.section', {}, error);
  if (error instanceof SectionCycleError) return badUserInput(error.message, 'parent', {}, error);
  return null;
}

/** For a write's `.catch`: a store refusal rethrown as the client's error (see `storeRefusalError`), anything else as it is. */
export function rethrowStoreRefusal(fields: { section?: string; slug?: string } = {}): (error: unknown) => never {
  return (error) => {
    throw storeRefusalError(error, fields) ?? error;
  };
}

const STORE_FAILURES: Record<StoreFailureKind, { code: ErrorCode; message: string }> = {
  unavailable: { code: 'STORE_UNAVAILABLE', message: 'the content store is unavailable; try again shortly' },
  busy: { code: 'STORE_UNAVAILABLE', message: 'the content store is too busy to answer; try again shortly' },
  timeout: { code: 'DEADLINE_EXCEEDED', message: 'the content store did not answer in time' },
  full: { code: 'STORE_FULL', message: 'the content store is out of disk space: nothing was written; reads go on' },
  'read-only': { code: 'STORE_READ_ONLY', message: 'the content store is read-only: nothing was written; reads go on' },
};

/** The codes that mean the store itself failed: the client gets the code, the log gets the cause. */
export const STORE_FAILURE_CODES: ReadonlySet<string> = new Set(Object.values(STORE_FAILURES).map((failure) => failure.code));

/**
 * The GraphQL error a client gets for a failure of the store itself (see
 * `storeFailureKind`), with its cause kept for the log; null when `error`
 * is not one (the caller lets it through as it is).
 */
export function storeFailureError(error: unknown): GraphQLError | null {
  if (error instanceof GraphQLError) return null;
  const kind = storeFailureKind(error);
  if (kind === null) return null;
  const { code, message } = STORE_FAILURES[kind];
  return userError(code, error instanceof StoreFailure && kind === 'timeout' ? error.message : message, {}, error);
}

/** A request that ran past its deadline (503 DEADLINE_EXCEEDED). */
export function deadlineExceeded(timeoutMs: number): GraphQLError {
  return userError('DEADLINE_EXCEEDED', `the request ran longer than ${timeoutMs} ms and was stopped`);
}

/**
 * What a client is told of an error the store threw: DEADLINE_EXCEEDED for
 * a request past its deadline, the store failure's code (`storeFailureError`),
 * or null when `error` is neither (the caller lets it through as it is).
 */
export function storeErrorToGraphQLError(error: unknown): GraphQLError | null {
  if (error instanceof DeadlineExceeded) return deadlineExceeded(error.timeoutMs);
  return storeFailureError(error);
}

/**
 * A value the DateTime scalar cannot read or write. It carries no code of its
 * own: graphql-js reports it as the variable's or literal's error, and Apollo
 * gives that its code (BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED).
 */
export function scalarError(message: string, node?: ASTNode): GraphQLError {
  return new GraphQLError(message, node ? { nodes: node } : {});
}

/** An operation whose estimated cost is over the budget, refused before it runs (400). */
export function costOverBudget(cost: number, budget: number): GraphQLError {
  return new GraphQLError(
    `this operation's estimated cost is ${cost}, over the budget of ${budget}: ask for fewer items per page or fewer nested lists`,
    {
      extensions: {
        code: 'GRAPHQL_VALIDATION_FAILED' satisfies ErrorCode,
        cost,
        budget,
        http: { status: HTTP_STATUS.GRAPHQL_VALIDATION_FAILED },
      },
    },
  );
}

/** An operation not on the server's safelist, refused before it runs (400). */
export function notInSafelist(): GraphQLError {
  return new GraphQLError('this server runs only the operations on its safelist; this one is not on it', {
    extensions: { code: 'OPERATION_NOT_IN_SAFELIST' satisfies ErrorCode, http: { status: HTTP_STATUS.OPERATION_NOT_IN_SAFELIST } },
  });
}

/** What a production client sees of an internal error: a generic message and the request id the log has the error under. */
export function maskedInternalError(requestId: string | undefined, path: GraphQLFormattedError['path']): GraphQLFormattedError {
  return {
    message: `Internal server error (request ${requestId ?? 'unknown'})`,
    path,
    extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode, requestId: requestId ?? null },
  };
}

/** A refusal sent over HTTP before GraphQL runs: its status and a GraphQL-shaped body. */
export interface HttpRefusal {
  status: number;
  body: { errors: GraphQLFormattedError[] };
}

function httpRefusal(status: number, code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): HttpRefusal {
  return { status, body: { errors: [{ message, extensions: { code, ...extensions } }] } };
}

/** A client cut off after `max` refused requests within `windowMs` (429); send `Retry-After: seconds` with it. */
export function rateLimited({ max, windowMs, seconds }: { max: number; windowMs: number; seconds: number }): HttpRefusal {
  return httpRefusal(
    429,
    'RATE_LIMITED',
    `too many refused requests from this client: ${max} within ${windowMs / 1000} s; try again in ${seconds} s`,
    {
      retryAfterSeconds: seconds,
    },
  );
}

/** A request that arrives while the server drains (503), so a load balancer sends it elsewhere. */
export function shuttingDown(): HttpRefusal {
  return httpRefusal(503, 'SHUTTING_DOWN', 'the server is shutting down; try another instance');
}

/**
 * A preflight from a page whose origin may not call the API from a browser
 * (403). The browser shows the page only that the preflight failed; the
 * message is for whoever opens the network panel.
 */
export function originNotAllowed(origin: string): HttpRefusal {
  return httpRefusal(
    403,
    'ORIGIN_NOT_ALLOWED',
    `pages from ${origin} may not call this API from a browser: the origin is not in CORS_ORIGINS`,
  );
}

/** A URL over the size limit (414). */
export function urlTooLong(limitBytes: number): HttpRefusal {
  return httpRefusal(414, 'BAD_REQUEST', `the URL is longer than ${limitBytes} bytes`);
}
