import type { ImportStatus, MutationImportPagesArgs } from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import type { ParsedPage } from '../../data/page.js';
import { preparePage } from '../../data/prepare-page.js';
import type { ArticleRecord } from '../../data/types.js';
import { badUserInput } from '../../errors.js';
import { PageParseError, parsePage } from '../../ingest/parse-page.js';
import { requireRole } from '../access.js';

// Page import through the API: the same page text `npm run import` reads.

const MAX_IMPORT_PAGES = 100;

/** An `ImportedPage` as the provider returns it: the article by id, read when a client asks for it. */
export interface ImportedPageModel {
  status: ImportStatus;
  articleId: string;
}

/** importPages: every page parsed first; one failure fails the whole call, and then nothing is written. */
export async function importPages(context: Context, { pages }: MutationImportPagesArgs): Promise<ImportedPageModel[]> {
  requireRole(context);
  if (pages.length > MAX_IMPORT_PAGES) throw badUserInput(`at most ${MAX_IMPORT_PAGES} pages, got ${pages.length}`, 'pages');
  const parsed: ParsedPage[] = [];
  const failures: { page: number; line: number; reason: string }[] = [];
  const errors: PageParseError[] = [];
  pages.forEach((text, page) => {
    try {
      parsed.push(parsePage(text, `pages[${page}]`));
    } catch (error) {
      if (!(error instanceof PageParseError)) throw error;
      failures.push({ page, line: error.line, reason: error.reason });
      errors.push(error);
    }
  });
  if (failures.length) {
    const message = failures.map((f) => `pages[${f.page}]:${f.line}: ${f.reason}`).join('; ');
    throw badUserInput(
      message,
      `pages[${failures[0]!.page}]`,
      { failures },
      errors.length === 1 ? errors[0] : new AggregateError(errors, message),
    );
  }
  const results = await context.store.savePages(parsed.map(preparePage));
  return results.map((r) => ({ status: r.status.toUpperCase() as ImportStatus, articleId: r.articleId }));
}

/** The article an import wrote, public or not yet. */
export async function importedArticle(context: Context, page: ImportedPageModel): Promise<ArticleRecord> {
  const [article] = await context.store.findArticlesByIds({ ids: [page.articleId], includeHidden: true });
  if (!article) throw new Error(`imported article ${page.articleId} is missing`);
  return article;
}
