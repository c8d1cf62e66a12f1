import { randomBytes } from 'node:crypto';
import type { Role, Viewer } from '../../auth/tokens.js';
import type { Context } from '../../context.js';
import {
  ArticleNotFoundError,
  SectionCycleError,
  SectionNotFoundError,
  SlugTakenError,
  VersionConflictError,
} from '../../data/errors.js';
import { isPublic, type ArticleRecord, type ArticleSnapshot, type ContentBlock, type CreditRecord, type CreditRole, type SectionRecord } from '../../data/types.js';
import { badUserInput, userError } from '../../errors.js';
import { PageParseError, PAGE_LIMITS, parsePage, type ParsedPage } from '../../ingest/parse-page.js';
import { preparePage } from '../../data/prepare-page.js';
import { slugify } from '../../text/slug.js';

// The management side: who may do what, what valid input is, and how the
// store's refusals read as GraphQL errors. Resolvers call these and return.

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_SLUG = 100;
const MAX_CREDIT_NAME = 64;
const MAX_TAGS = 20;
const MAX_TAG = 32;
const MAX_SECTION_NAME = 32;
const MAX_HOT_ITEMS = 20;
const MAX_IMPORT_PAGES = 100;
const DEFAULT_LABELS: Record<CreditRole, string> = { WRITER: '撰文', EDITOR: '编辑', COVER: '封面' };

/** The viewer, who must hold a token with one of `roles`. */
export function requireRole(context: Context, roles: readonly Role[] = ['EDITOR', 'ADMIN']): Viewer {
  const { viewer } = context;
  if (!viewer) throw userError('UNAUTHENTICATED', 'this needs an editor token: send Authorization: Bearer <token>');
  if (!roles.includes(viewer.role)) {
    throw userError('FORBIDDEN', `this needs a token with the role ${roles.join(' or ')}; "${viewer.name}" is ${viewer.role}`);
  }
  context.private = true;
  return viewer;
}

/** `preview: true` asks to see hidden articles: editors only, and the response becomes private. */
export function allowPreview(context: Context, preview: boolean | null | undefined): boolean {
  if (!preview) return false;
  requireRole(context);
  return true;
}

export interface ContentBlockInput {
  paragraph?: string | null;
  image?: { caption?: string | null; url?: string | null } | null;
}

export interface ArticleInput {
  title?: string | null;
  section?: string | null;
  slug?: string | null;
  source?: { name: string; url?: string | null } | null;
  publishedAt?: Date | null;
  body?: readonly ContentBlockInput[] | null;
  credits?: readonly { role: CreditRole; name: string; label?: string | null }[] | null;
  tags?: readonly string[] | null;
}

/** Checks and normalizes an article input; every problem names its field path under `input`. */
function articleChange(input: ArticleInput): Partial<ArticleSnapshot> {
  const change: Partial<ArticleSnapshot> = {};
  if (input.title != null) {
    const title = input.title.trim();
    const length = [...title].length;
    if (length < 1 || length > PAGE_LIMITS.titleCharacters) {
      throw badUserInput(`title must be 1 to ${PAGE_LIMITS.titleCharacters} characters, got ${length}`, 'input.title');
    }
    change.title = title;
  }
  if (input.slug != null) change.slug = checkSlug(input.slug, 'input.slug');
  if (input.section != null) change.sectionId = input.section;
  if (input.source !== undefined) {
    change.sourceName = input.source?.name.trim() || null;
    change.sourceUrl = input.source?.url?.trim() || null;
  }
  if (input.publishedAt != null) change.publishedAt = input.publishedAt.getTime();
  if (input.body != null) change.body = bodyOf(input.body);
  if (input.credits != null) change.credits = creditsOf(input.credits);
  if (input.tags != null) change.tags = tagsOf(input.tags);
  return change;
}

function checkSlug(slug: string, field: string): string {
  if (!SLUG.test(slug) || slug.length > MAX_SLUG) {
    throw badUserInput(`slug must be lower-case letters, digits and single hyphens, at most ${MAX_SLUG} characters`, field);
  }
  return slug;
}

function bodyOf(blocks: readonly ContentBlockInput[]): ContentBlock[] {
  if (blocks.length > PAGE_LIMITS.bodyBlocks) {
    throw badUserInput(`body may hold at most ${PAGE_LIMITS.bodyBlocks} blocks, got ${blocks.length}`, 'input.body');
  }
  let characters = 0;
  const body = blocks.map((block, i): ContentBlock => {
    const field = `input.body[${i}]`;
    if ((block.paragraph == null) === (block.image == null)) {
      throw badUserInput('each block is exactly one of paragraph and image', field);
    }
    if (block.paragraph != null) {
      const text = block.paragraph.trim();
      if (!text) throw badUserInput('a paragraph cannot be empty', `${field}.paragraph`);
      characters += [...text].length;
      return { type: 'paragraph', text };
    }
    return { type: 'image', caption: block.image?.caption?.trim() || null, url: block.image?.url?.trim() || null };
  });
  if (characters > PAGE_LIMITS.bodyCharacters) {
    throw badUserInput(`body may hold at most ${PAGE_LIMITS.bodyCharacters} characters of text, got ${characters}`, 'input.body');
  }
  return body;
}

function creditsOf(credits: NonNullable<ArticleInput['credits']>): CreditRecord[] {
  return credits.map((credit, i) => {
    const name = credit.name.trim();
    if (!name || [...name].length > MAX_CREDIT_NAME) {
      throw badUserInput(`a credited name must be 1 to ${MAX_CREDIT_NAME} characters`, `input.credits[${i}].name`);
    }
    return { role: credit.role, label: credit.label?.trim() || DEFAULT_LABELS[credit.role], name };
  });
}

function tagsOf(tags: readonly string[]): string[] {
  if (tags.length > MAX_TAGS) throw badUserInput(`at most ${MAX_TAGS} tags, got ${tags.length}`, 'input.tags');
  const names = tags.map((tag, i) => {
    const name = tag.trim();
    if (!name || [...name].length > MAX_TAG) throw badUserInput(`a tag must be 1 to ${MAX_TAG} characters`, `input.tags[${i}]`);
    return name;
  });
  return [...new Set(names)];
}

/** The store's refusals as GraphQL errors with codes; anything else is a server fault and passes through. */
function translate(error: unknown, fields: { section?: string; slug?: string } = {}): never {
  if (error instanceof VersionConflictError) {
    throw userError(
      'CONFLICT',
      `the article changed since version ${error.expectedVersion}: it is at version ${error.currentVersion}; reload it and apply the change again`,
      { currentVersion: error.currentVersion, expectedVersion: error.expectedVersion },
      error,
    );
  }
  if (error instanceof ArticleNotFoundError) throw userError('NOT_FOUND', error.message, { argument: 'id' }, error);
  if (error instanceof SlugTakenError) throw badUserInput(error.message, fields.slug ?? 'input.slug');
  if (error instanceof SectionNotFoundError) throw badUserInput(error.message, fields.section ?? 'input.section');
  if (error instanceof SectionCycleError) throw badUserInput(error.message, 'parent');
  throw error;
}

export async function createArticle(context: Context, input: ArticleInput & { title: string; section: string; body: readonly ContentBlockInput[] }) {
  const viewer = requireRole(context);
  const change = articleChange(input);
  const content = {
    slug: change.slug ?? newSlug(),
    title: change.title!,
    sourceName: change.sourceName ?? null,
    sourceUrl: change.sourceUrl ?? null,
    publishedAt: change.publishedAt ?? Date.now(),
    sectionId: change.sectionId!,
    body: change.body!,
    credits: change.credits ?? [],
    tags: change.tags ?? [],
  };
  return context.store.createArticle({ content, by: viewer.name }).catch((error: unknown) => translate(error));
}

/** A slug for an article created without one: its creation date and random hex, stable from then on. */
function newSlug(): string {
  const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
  return `${day}-${randomBytes(6).toString('hex')}`;
}

/** Every article mutation but create: one versioned change of the stored state. */
export async function changeArticle(
  context: Context,
  { id, expectedVersion }: { id: string; expectedVersion: number },
  change: (current: ArticleRecord) => Partial<ArticleSnapshot> | Promise<Partial<ArticleSnapshot>>,
): Promise<ArticleRecord> {
  const viewer = requireRole(context);
  const [current] = await context.store.findArticlesByIds({ ids: [id], includeHidden: true });
  if (!current) throw userError('NOT_FOUND', `no article has id ${id}`, { argument: 'id' });
  // The store checks the version again inside the write; this early check only saves building the change.
  if (current.version !== expectedVersion) translate(new VersionConflictError(id, expectedVersion, current.version));
  const wanted = await change(current);
  return context.store.changeArticle({ id, expectedVersion, change: wanted, by: viewer.name }).catch((error: unknown) => translate(error));
}

export const articleEdits = {
  update: (input: ArticleInput) => () => articleChange(input),
  // Without `at`, publishing makes the article public now; one already public keeps its time.
  publish: (at: Date | null | undefined) => (current: ArticleRecord) => ({
    status: 'PUBLISHED' as const,
    publishedAt: at ? at.getTime() : isPublic(current) ? current.publishedAt : Date.now(),
  }),
  unpublish: () => () => ({ status: 'DRAFT' as const }),
  delete: () => (current: ArticleRecord) => {
    if (current.deletedAt !== null) throw badUserInput('the article is already deleted', 'id');
    return { deletedAt: Date.now() };
  },
  restore: () => (current: ArticleRecord) => {
    if (current.deletedAt === null) throw badUserInput('the article is not deleted', 'id');
    return { deletedAt: null };
  },
};

export async function revisionSnapshot(context: Context, articleId: string, version: number): Promise<ArticleSnapshot> {
  const revision = (await context.store.listRevisions({ articleId })).find((r) => r.version === version);
  if (!revision) throw userError('NOT_FOUND', `article ${articleId} has no revision ${version}`, { argument: 'revision' });
  return revision.snapshot;
}

export async function createSection(context: Context, input: { name: string; parent: string; slug?: string | null }): Promise<SectionRecord> {
  requireRole(context, ['ADMIN']);
  const name = sectionName(input.name);
  const slug = input.slug != null ? checkSlug(input.slug, 'input.slug') : slugify(name);
  return context.store.createSection({ name, slug, parentId: input.parent }).catch((error: unknown) =>
    translate(error, { section: 'input.parent' }),
  );
}

export async function updateSection(context: Context, id: string, input: { name?: string | null; slug?: string | null }) {
  requireRole(context, ['ADMIN']);
  return context.store
    .updateSection({
      id,
      name: input.name != null ? sectionName(input.name) : undefined,
      slug: input.slug != null ? checkSlug(input.slug, 'input.slug') : undefined,
    })
    .catch((error: unknown) => translate(error, { section: 'id' }));
}

export async function moveSection(context: Context, id: string, parent: string) {
  requireRole(context, ['ADMIN']);
  return context.store.moveSection({ id, parentId: parent }).catch((error: unknown) => translate(error, { section: 'id' }));
}

function sectionName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || [...trimmed].length > MAX_SECTION_NAME) {
    throw badUserInput(`a section name must be 1 to ${MAX_SECTION_NAME} characters`, 'input.name');
  }
  return trimmed;
}

export async function setHotItems(
  context: Context,
  section: string,
  items: readonly { title?: string | null; summary?: string | null; url?: string | null; article?: string | null }[],
) {
  requireRole(context);
  if (items.length > MAX_HOT_ITEMS) throw badUserInput(`at most ${MAX_HOT_ITEMS} items, got ${items.length}`, 'items');
  const teasers = items.map((item, i) => {
    const teaser = { title: item.title?.trim() || null, summary: item.summary?.trim() || null, url: item.url?.trim() || null, articleId: item.article ?? null };
    if (!teaser.title && !teaser.summary && !teaser.articleId) {
      throw badUserInput('an item needs a title, a summary or an article', `items[${i}]`);
    }
    return teaser;
  });
  const articleIds = teasers.flatMap((t) => (t.articleId ? [t.articleId] : []));
  const found = await context.store.findArticlesByIds({ ids: articleIds, includeHidden: true });
  const missing = articleIds.findIndex((_, i) => !found[i]);
  if (missing >= 0) throw badUserInput(`no article has id ${articleIds[missing]}`, `items[${teasers.findIndex((t) => t.articleId === articleIds[missing])}].article`);
  const saved = await context.store
    .setTeasers({ sectionId: section, kind: 'HOT', items: teasers })
    .catch((error: unknown) => translate(error, { section: 'section' }));
  return saved.map(({ kind, title, summary, url, publishedAt, articleId }) => ({ kind, title, summary, url, publishedAt, articleId, reason: null }));
}

export interface ImportedPageModel {
  status: 'CREATED' | 'UPDATED' | 'UNCHANGED';
  articleId: string;
}

/** importPages: every page parsed first; one failure fails the whole call, and then nothing is written. */
export async function importPages(context: Context, pages: readonly string[]): Promise<ImportedPageModel[]> {
  requireRole(context);
  if (pages.length > MAX_IMPORT_PAGES) throw badUserInput(`at most ${MAX_IMPORT_PAGES} pages, got ${pages.length}`, 'pages');
  const parsed: ParsedPage[] = [];
  const failures: { page: number; line: number; reason: string }[] = [];
  pages.forEach((text, page) => {
    try {
      parsed.push(parsePage(text, `pages[${page}]`));
    } catch (error) {
      if (!(error instanceof PageParseError)) throw error;
      failures.push({ page, line: error.line, reason: error.reason });
    }
  });
  if (failures.length) {
    throw badUserInput(
      failures.map((f) => `pages[${f.page}]:${f.line}: ${f.reason}`).join('; '),
      `pages[${failures[0]!.page}]`,
      { failures },
    );
  }
  const results = await context.store.savePages(parsed.map(preparePage));
  return results.map((r) => ({ status: r.status.toUpperCase() as ImportedPageModel['status'], articleId: r.articleId }));
}
