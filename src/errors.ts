import { GraphQLError } from 'graphql';

/** The error codes clients can rely on, in `extensions.code`. */
export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'CONFLICT';

export function userError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** Invalid input from the client; `argument` names the offending argument or field path. */
export function badUserInput(message: string, argument: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return userError('BAD_USER_INPUT', message, { argument, ...extensions });
}
