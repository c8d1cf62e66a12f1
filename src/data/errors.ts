// What the data module reports when a write cannot be done as asked. The API
// layer turns these into GraphQL errors with codes; nothing is written.

export class ArticleNotFoundError extends Error {
  constructor(readonly articleId: string) {
    super(`no article has id ${articleId}`);
    this.name = 'ArticleNotFoundError';
  }
}

/** Someone changed the article since the caller read it. */
export class VersionConflictError extends Error {
  constructor(
    readonly articleId: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(`article ${articleId} is at version ${currentVersion}, not ${expectedVersion}`);
    this.name = 'VersionConflictError';
  }
}

export class SlugTakenError extends Error {
  constructor(
    readonly slug: string,
    readonly what: 'article' | 'section' = 'article',
  ) {
    super(`another ${what} already has the slug "${slug}"`);
    this.name = 'SlugTakenError';
  }
}

export class SectionNotFoundError extends Error {
  constructor(readonly sectionId: string) {
    super(`no section has id ${sectionId}`);
    this.name = 'SectionNotFoundError';
  }
}

/** A section cannot move under itself or under a section below it. */
export class SectionCycleError extends Error {
  constructor(
    readonly sectionId: string,
    readonly parentId: string,
  ) {
    super(`section ${sectionId} cannot move under ${parentId}, which is the section itself or below it`);
    this.name = 'SectionCycleError';
  }
}

/** Content is imported only into an empty store: ids are kept, and would collide with what is there. */
export class StoreNotEmptyError extends Error {
  constructor() {
    super('the store already holds content; import exported content into an empty store');
    this.name = 'StoreNotEmptyError';
  }
}

/**
 * How the store itself failed, as opposed to a write it refused: the
 * database is away (restarting, unreachable, out of connections), busy (a
 * lock held too long), out of space, read-only, or a statement ran past its
 * time. The API layer answers each with a code of its own (src/errors.ts);
 * nothing was written.
 */
export type StoreFailureKind = 'unavailable' | 'busy' | 'full' | 'read-only' | 'timeout';

/** A store failure with its kind; `cause` is the driver's own error, kept for the log. */
export class StoreFailure extends Error {
  constructor(
    readonly kind: StoreFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreFailure';
  }
}

// node-postgres and Node's socket errors that mean the server cannot be reached or went away.
const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|the database system is (starting up|shutting down|in recovery mode)|terminating connection/i;

/**
 * What kind of store failure `error` is, from the drivers' own codes
 * (SQLSTATE for PostgreSQL, SQLITE_* result codes for SQLite, errno for
 * sockets), or null for anything else (a bug, a constraint the store should
 * have checked). Pure: the data module and the API layer both ask it.
 */
export function storeFailureKind(error: unknown): StoreFailureKind | null {
  if (error instanceof StoreFailure) return error.kind;
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // SQLite: extended result codes start with the primary one (SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE).
    if (code.startsWith('SQLITE_FULL')) return 'full';
    if (code.startsWith('SQLITE_READONLY')) return 'read-only';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
    if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return 'unavailable';
    // PostgreSQL SQLSTATE: class 08 connection exception; 57P01-57P03 shutting down, crashed, starting up;
    // 53300 too many connections; 53100 disk full; 57014 statement timeout; 55P03 lock timeout;
    // 25006 read-only transaction (a standby after failover).
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return 'unavailable';
    if (code === '53100') return 'full';
    if (code === '57014') return 'timeout';
    if (code === '55P03') return 'busy';
    if (code === '25006') return 'read-only';
    if (CONNECTION_ERRNOS.has(code)) return 'unavailable';
  }
  if (CONNECTION_MESSAGES.test(error.message)) return 'unavailable';
  if (error.cause !== undefined && error.cause !== error) return storeFailureKind(error.cause);
  return null;
}

/**
 * A request's time with the store ran out (REQUEST_TIMEOUT_MS): a call made
 * after its deadline, or a read still waiting at it. The API layer answers
 * it as DEADLINE_EXCEEDED (src/errors.ts).
 */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the request ran longer than ${timeoutMs} ms and was stopped`);
    this.name = 'DeadlineExceeded';
  }
}
