import { createHash } from 'node:crypto';
import { pinyin } from 'pinyin-pro';

/**
 * URL-safe ASCII form of a name: Chinese becomes toneless pinyin, other
 * letters are lower-cased and accents dropped, everything else separates.
 * 原创 → yuanchuang, Meta 元宇宙 → meta-yuanyuzhou.
 */
export function slugify(name: string): string {
  const parts: string[] = [];
  // Runs of Han characters become one pinyin word; everything else is split on non-alphanumerics.
  for (const [run] of name.matchAll(/\p{Script=Han}+|[^\p{Script=Han}]+/gu)) {
    if (/^\p{Script=Han}/u.test(run)) {
      parts.push(pinyin(run, { toneType: 'none', type: 'array', v: true }).join(''));
    } else {
      parts.push(
        ...run
          .normalize('NFKD')
          .replace(/\p{M}/gu, '')
          .toLowerCase()
          .split(/[^a-z0-9]+/),
      );
    }
  }
  const slug = parts
    .map((p) => p.toLowerCase().replace(/[^a-z0-9]/g, ''))
    .filter(Boolean)
    .join('-');
  return slug.slice(0, 80).replace(/-+$/, '') || 'x';
}

/**
 * The slug of an imported page. A scraped page carries no id or URL, so its
 * identity is what it says of itself: the outlet, the publication time and
 * the headline. The same page imported again gets the same slug; the date
 * prefix keeps slugs readable and sortable.
 */
export function pageSlug(page: { sourceName: string | null; publishedAt: number; title: string }): string {
  const digest = createHash('sha256')
    .update([page.sourceName ?? '', String(page.publishedAt), page.title].join('\n'))
    .digest('hex')
    .slice(0, 12);
  const beijing = new Date(page.publishedAt + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
  return `${beijing}-${digest}`;
}
