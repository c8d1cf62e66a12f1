import type {
  ContentBlockInput,
  CreateArticleInput,
  CreditInput,
  HotItemInput,
  UpdateArticleInput,
} from '../../__generated__/resolvers-types.js';
import type { ArticleSnapshot, ContentBlock, CreditRecord, CreditRole } from '../../data/types.js';
import { badUserInput } from '../../errors.js';
import { PAGE_LIMITS } from '../../ingest/parse-page.js';
import { requireStoreId } from '../identity.js';

// What valid editing input is. Each check normalizes what it accepts (trimmed
// text, default labels) and names the offending field path in its error.

const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_SLUG = 100;
const MAX_CREDIT_NAME = 64;
const MAX_TAGS = 20;
const MAX_TAG = 32;
const MAX_SECTION_NAME = 32;
const MAX_HOT_ITEMS = 20;
const DEFAULT_LABELS: Record<CreditRole, string> = { WRITER: '撰文', EDITOR: '编辑', COVER: '封面' };

/** Checks and normalizes an article input; every problem names its field path under `input`. */
export function articleChange(input: CreateArticleInput | UpdateArticleInput): Partial<ArticleSnapshot> {
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
  if (input.section != null) change.sectionId = requireStoreId(input.section, 'Section', 'input.section');
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

export function checkSlug(slug: string, field: string): string {
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

function creditsOf(credits: readonly CreditInput[]): CreditRecord[] {
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

export function sectionName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || [...trimmed].length > MAX_SECTION_NAME) {
    throw badUserInput(`a section name must be 1 to ${MAX_SECTION_NAME} characters`, 'input.name');
  }
  return trimmed;
}

export interface TeaserItem {
  title: string | null;
  summary: string | null;
  url: string | null;
  articleId: string | null;
}

/** A curated list's items, trimmed; whether the articles they point at exist is the caller's to check. */
export function teaserItems(items: readonly HotItemInput[]): TeaserItem[] {
  if (items.length > MAX_HOT_ITEMS) throw badUserInput(`at most ${MAX_HOT_ITEMS} items, got ${items.length}`, 'items');
  return items.map((item, i) => {
    const teaser = {
      title: item.title?.trim() || null,
      summary: item.summary?.trim() || null,
      url: item.url?.trim() || null,
      articleId: item.article == null ? null : requireStoreId(item.article, 'Article', `items[${i}].article`),
    };
    if (!teaser.title && !teaser.summary && !teaser.articleId) {
      throw badUserInput('an item needs a title, a summary or an article', `items[${i}]`);
    }
    return teaser;
  });
}
