import type { ParsedPage, ParsedTeaser } from '../data/page.js';
import type { ContentBlock, CreditRecord, CreditRole, TeaserKind } from '../data/types.js';
import { pageSlug } from '../text/slug.js';

/*
 * The page-text format, as scraped from the portal; `parsePage` reads it into
 * the data module's `ParsedPage`:
 *
 *   首页 > 原创 > 正文                      breadcrumb (正文 marks the article itself)
 *   <title>
 *   来源:凤凰网 2023-04-23 09:40:36          source and Beijing time
 *   <body: one block per line; (资料图) is an image placeholder>
 *   撰文:…编辑:…封面:…                      credits (optional)
 *   标签: a b c                             tags (optional, may be empty)
 *   编辑: …                                  footer editor (optional, may be empty)
 *   最近更新 / 热点                          teaser modules: teaser lines, each closed by 详细>>
 *
 * Blank lines only separate; every other line lands somewhere, so no text is lost.
 */

export const PAGE_LIMITS = {
  titleCharacters: 200,
  bodyBlocks: 2_000,
  bodyCharacters: 200_000,
} as const;

export class PageParseError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${source}:${line}: ${reason}`);
    this.name = 'PageParseError';
  }
}

interface Line {
  number: number;
  text: string;
}

const BREADCRUMB_SEPARATOR = /\s*[>＞›»]\s*/u;
const ARTICLE_CRUMB = '正文';
const SOURCE_LINE = /^来源\s*[:：]\s*(.*?)\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/u;
const IMAGE_PLACEHOLDER = /^[(（]\s*([^()（）]{0,40}图[^()（）]{0,40}?)\s*[)）]$/u;
const TAGS_LINE = /^标签\s*[:：](.*)$/u;
const FOOTER_EDITOR_LINE = /^编辑\s*[:：](.*)$/u;
const TEASER_HEADINGS: Record<string, TeaserKind> = { 最近更新: 'LATEST', 热点: 'HOT' };
const TEASER_LINK = /^详细\s*>+$/u;
const CREDIT_NAME_MAX = 20;
const SENTENCE_PUNCTUATION = /[。！？；!?;：:]/u;
const NAME_SEPARATOR = /\s*[、，,／/|｜]\s*/u;

const CREDIT_LABELS: Record<string, CreditRole> = {
  撰文: 'WRITER',
  作者: 'WRITER',
  记者: 'WRITER',
  编辑: 'EDITOR',
  责任编辑: 'EDITOR',
  责编: 'EDITOR',
  封面: 'COVER',
};
// Longest labels first so 责任编辑 is not read as 责任 + 编辑.
const CREDIT_LABEL = new RegExp(
  `(${Object.keys(CREDIT_LABELS)
    .sort((a, b) => b.length - a.length)
    .join('|')})\\s*[:：]`,
  'gu',
);

/** Parses one page. `source` names the page in error messages (a file path, or "pages[3]"). */
export function parsePage(text: string, source: string): ParsedPage {
  const lines = splitLines(text);
  const fail = (line: number, reason: string): never => {
    throw new PageParseError(source, line, reason);
  };
  // Where a missing part is reported when the page simply stops: its last non-blank line.
  const lastLine = lines.at(-1)?.number ?? 1;

  const [crumbLine, titleLine, sourceLine] = lines;
  if (!crumbLine) return fail(1, 'empty page: expected a breadcrumb such as "首页 > 原创 > 正文"');
  const crumbs = crumbLine.text.split(BREADCRUMB_SEPARATOR);
  if (crumbs.length < 2 || crumbs.some((c) => c === '')) {
    return fail(crumbLine.number, `no breadcrumb header: expected "首页 > 栏目 > 正文", found "${clip(crumbLine.text)}"`);
  }
  const sectionPath = crumbs.at(-1) === ARTICLE_CRUMB ? crumbs.slice(0, -1) : crumbs;

  if (!titleLine || /^来源\s*[:：]/u.test(titleLine.text)) {
    return fail(titleLine?.number ?? lastLine, 'missing title: expected the headline after the breadcrumb');
  }
  const title = titleLine.text;
  if ([...title].length > PAGE_LIMITS.titleCharacters) {
    fail(titleLine.number, `title is longer than ${PAGE_LIMITS.titleCharacters} characters`);
  }

  if (!sourceLine) return fail(lastLine, 'missing source line: expected "来源:<outlet> YYYY-MM-DD hh:mm:ss" after the title');
  const sourceMatch = SOURCE_LINE.exec(sourceLine.text);
  if (!sourceMatch) {
    return fail(sourceLine.number, `missing source line: expected "来源:<outlet> YYYY-MM-DD hh:mm:ss", found "${clip(sourceLine.text)}"`);
  }
  const [, sourceName = '', ...dateParts] = sourceMatch;
  const publishedAt = beijingTime(dateParts);
  if (publishedAt === null) {
    return fail(sourceLine.number, `impossible date "${sourceLine.text.slice(sourceLine.text.search(/\d{4}-/u)).trim()}"`);
  }

  const rest = lines.slice(3);
  let footerStart = rest.findIndex((l) => TAGS_LINE.test(l.text));
  if (footerStart < 0) footerStart = rest.findIndex((l) => l.text in TEASER_HEADINGS);
  if (footerStart < 0) footerStart = rest.length;

  const bodyLines = rest.slice(0, footerStart);
  const credits: CreditRecord[] = [];
  // Credits close the body: take trailing lines made only of label:name pairs.
  let creditLines = 0;
  while (creditLines < bodyLines.length) {
    const parsed = parseCreditLine(bodyLines[bodyLines.length - 1 - creditLines]!.text);
    if (!parsed) break;
    credits.unshift(...parsed);
    creditLines++;
  }
  const blockLines = bodyLines.slice(0, bodyLines.length - creditLines);
  if (blockLines.length === 0) return fail(sourceLine.number, 'article has no body text after the source line');
  if (blockLines.length > PAGE_LIMITS.bodyBlocks) {
    fail(blockLines[PAGE_LIMITS.bodyBlocks]!.number, `body has more than ${PAGE_LIMITS.bodyBlocks} blocks`);
  }
  const body = blockLines.map((l) => toBlock(l.text));
  const bodyCharacters = body.reduce((n, b) => n + (b.type === 'paragraph' ? [...b.text].length : 0), 0);
  if (bodyCharacters > PAGE_LIMITS.bodyCharacters) {
    fail(blockLines[0]!.number, `body has ${bodyCharacters} characters, more than ${PAGE_LIMITS.bodyCharacters}`);
  }

  const tags: string[] = [];
  const teasers: ParsedTeaser[] = [];
  let module: TeaserKind | null = null;
  let pending: Line[] = [];
  const closeTeaser = () => {
    if (module && pending.length > 0) teasers.push({ kind: module, text: pending.map((l) => l.text).join('\n') });
    pending = [];
  };
  for (const line of rest.slice(footerStart)) {
    const heading = TEASER_HEADINGS[line.text];
    if (heading) {
      closeTeaser();
      module = heading;
      continue;
    }
    if (module) {
      if (TEASER_LINK.test(line.text)) {
        if (pending.length === 0) fail(line.number, `"${line.text}" closes a teaser that has no text`);
        closeTeaser();
      } else {
        pending.push(line);
      }
      continue;
    }
    const tagMatch = TAGS_LINE.exec(line.text);
    if (tagMatch) {
      for (const tag of tagMatch[1]!.split(/[\s,，、;；|｜]+/u)) if (tag && !tags.includes(tag)) tags.push(tag);
      continue;
    }
    const editorMatch = FOOTER_EDITOR_LINE.exec(line.text);
    if (editorMatch) {
      for (const name of splitNames(editorMatch[1]!)) {
        credits.push({ role: 'EDITOR', label: '编辑', name });
      }
      continue;
    }
    fail(line.number, `unexpected line after the body: "${clip(line.text)}" (expected 标签:, 编辑:, 最近更新 or 热点)`);
  }
  // The last teaser of a page may have lost its 详细>> link in scraping; keep its text.
  closeTeaser();

  const page = {
    sectionPath,
    title,
    sourceName: sourceName || null,
    publishedAt,
    body,
    // A name credited twice for the same role (the credits line and the footer's 编辑:) is one credit.
    credits: credits.filter((c, i) => credits.findIndex((d) => d.role === c.role && d.name === c.name) === i),
    tags,
    teasers,
  };
  return { slug: pageSlug(page), ...page };
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  text
    .replace(/^\uFEFF/u, '')
    .split(/\r\n|\r|\n/)
    .forEach((raw, index) => {
      const trimmed = raw.trim();
      if (trimmed) lines.push({ number: index + 1, text: trimmed });
    });
  return lines;
}

function toBlock(text: string): ContentBlock {
  const image = IMAGE_PLACEHOLDER.exec(text);
  if (image) return { type: 'image', caption: image[1]!.trim(), url: null };
  return { type: 'paragraph', text };
}

/**
 * `撰文:晚上吃早饭编辑:江江封面:萱萱` → three credits; null when the line is
 * not made only of credits. A "name" that is long or holds sentence
 * punctuation means the line is prose that happens to start with a label
 * (作者:张三认为……), so it stays in the body.
 */
function parseCreditLine(text: string): CreditRecord[] | null {
  const matches = [...text.matchAll(CREDIT_LABEL)];
  if (matches.length === 0 || matches[0]!.index !== 0) return null;
  const credits: CreditRecord[] = [];
  for (const [i, match] of matches.entries()) {
    const label = match[1]!;
    const end = matches[i + 1]?.index ?? text.length;
    for (const name of splitNames(text.slice(match.index + match[0].length, end))) {
      if ([...name].length > CREDIT_NAME_MAX || SENTENCE_PUNCTUATION.test(name)) return null;
      credits.push({ role: CREDIT_LABELS[label]!, label, name });
    }
  }
  return credits;
}

function splitNames(value: string): string[] {
  return value
    .trim()
    .split(NAME_SEPARATOR)
    .map((n) => n.trim())
    .filter(Boolean);
}

/** Beijing wall-clock parts → epoch ms, or null when the date or time does not exist. */
function beijingTime(parts: (string | undefined)[]): number | null {
  const [year, month, day, hour, minute, second] = parts.map((p) => Number(p ?? 0));
  const ms = Date.UTC(year!, month! - 1, day!, hour! - 8, minute!, second!);
  const check = new Date(ms + 8 * 3600_000);
  const exists =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month! - 1 &&
    check.getUTCDate() === day &&
    check.getUTCHours() === hour &&
    check.getUTCMinutes() === minute &&
    check.getUTCSeconds() === second;
  return exists ? ms : null;
}

function clip(text: string): string {
  const chars = [...text];
  return chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : text;
}
