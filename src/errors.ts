import { GraphQLError } from 'graphql';
import { DeadlineExceeded, StoreFailure, storeFailureKind, type StoreFailureKind } from './data/errors.js';

/**
 * Every error code the service emits in `extensions.code`, beside the ones
 * Apollo Server emits itself (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED,
 * PERSISTED_QUERY_NOT_FOUND, INTERNAL_SERVER_ERROR, …).
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CONFLICT'
  /** The request ran past REQUEST_TIMEOUT_MS (503). */
  | 'DEADLINE_EXCEEDED'
  /** The store cannot be reached or is too busy to answer now (503, Retry-After). */
  | 'STORE_UNAVAILABLE'
  /** The store's disk is full: writes are refused until space returns; reads go on (503). */
  | 'STORE_FULL'
  /** The store is read-only: writes are refused; reads go on (503). */
  | 'STORE_READ_ONLY';

/** The HTTP status a response gets when this error is its reason (Apollo honours `extensions.http`). */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  DEADLINE_EXCEEDED: 503,
  STORE_UNAVAILABLE: 503,
  STORE_FULL: 503,
  STORE_READ_ONLY: 503,
};

/** Seconds a client is asked to wait (`Retry-After`) before trying again after a 503. */
export const RETRY_AFTER_SECONDS = 1;

export function userError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
  cause?: unknown,
): GraphQLError {
  const status = HTTP_STATUS[code];
  const http = status === undefined ? {} : { http: { status, ...(status === 503 ? { headers: new Map([['retry-after', String(RETRY_AFTER_SECONDS)]]) } : {}) } };
  return new GraphQLError(message, {
    extensions: { ...extensions, code, ...http },
    originalError: cause instanceof Error ? cause : undefined,
  });
}

/** Invalid input from the client; `argument` names the offending argument or field path. */
export function badUserInput(message: string, argument: string, extensions: Record<string, unknown> = {}, cause?: unknown): GraphQLError {
  return userError('BAD_USER_INPUT', message, { argument, ...extensions }, cause);
}

const STORE_FAILURES: Record<StoreFailureKind, { code: ErrorCode; message: string }> = {
  unavailable: { code: 'STORE_UNAVAILABLE', message: 'the content store is unavailable; try again shortly' },
  busy: { code: 'STORE_UNAVAILABLE', message: 'the content store is too busy to answer; try again shortly' },
  timeout: { code: 'DEADLINE_EXCEEDED', message: 'the content store did not answer in time' },
  full: { code: 'STORE_FULL', message: 'the content store is out of disk space: nothing was written; reads go on' },
  'read-only': { code: 'STORE_READ_ONLY', message: 'the content store is read-only: nothing was written; reads go on' },
};

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
