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
