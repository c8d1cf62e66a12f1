import { GraphQLError } from 'graphql';

/** The error codes clients can rely on, in `extensions.code`. */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'CONFLICT';

/** The HTTP status a response gets when this error is its reason (Apollo honours `extensions.http`). */
const HTTP_STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401, FORBIDDEN: 403 };

export function userError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
  cause?: unknown,
): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { ...extensions, code, ...(status ? { http: { status } } : {}) },
    originalError: cause instanceof Error ? cause : undefined,
  });
}

/** Invalid input from the client; `argument` names the offending argument or field path. */
export function badUserInput(message: string, argument: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return userError('BAD_USER_INPUT', message, { argument, ...extensions });
}
