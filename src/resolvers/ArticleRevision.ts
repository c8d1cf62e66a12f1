import type { ArticleRevisionResolvers } from '../__generated__/resolvers-types.js';
import { revisionGlobalId } from '../providers/identity.js';
import { articleStatus } from './Article.js';

export const ArticleRevision: ArticleRevisionResolvers = {
  id: (revision) => revisionGlobalId(revision),
  title: (revision) => revision.snapshot.title,
  slug: (revision) => revision.snapshot.slug,
  status: (revision) => articleStatus(revision.snapshot),
  deleted: (revision) => revision.snapshot.deletedAt !== null,
  publishedAt: (revision) => revision.snapshot.publishedAt,
  body: (revision) => revision.snapshot.body,
  credits: (revision) => revision.snapshot.credits,
  tags: (revision) => revision.snapshot.tags,
};
