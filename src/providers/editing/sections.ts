import type { MutationCreateSectionArgs, MutationMoveSectionArgs, MutationUpdateSectionArgs } from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import type { SectionRecord } from '../../data/types.js';
import { rethrowStoreRefusal } from '../../errors.js';
import { slugify } from '../../text/slug.js';
import { requireRole } from '../access.js';
import { checkSlug, sectionName } from './validation.js';

// The section tree's mutations: administrators only.

export async function createSection(context: Context, { input }: MutationCreateSectionArgs): Promise<SectionRecord> {
  requireRole(context, ['ADMIN']);
  const name = sectionName(input.name);
  const slug = input.slug != null ? checkSlug(input.slug, 'input.slug') : slugify(name);
  return context.store.createSection({ name, slug, parentId: input.parent }).catch(rethrowStoreRefusal({ section: 'input.parent' }));
}

export async function updateSection(context: Context, { id, input }: MutationUpdateSectionArgs): Promise<SectionRecord> {
  requireRole(context, ['ADMIN']);
  return context.store
    .updateSection({
      id,
      name: input.name != null ? sectionName(input.name) : undefined,
      slug: input.slug != null ? checkSlug(input.slug, 'input.slug') : undefined,
    })
    .catch(rethrowStoreRefusal({ section: 'id' }));
}

export async function moveSection(context: Context, { id, parent }: MutationMoveSectionArgs): Promise<SectionRecord> {
  requireRole(context, ['ADMIN']);
  return context.store.moveSection({ id, parentId: parent }).catch(rethrowStoreRefusal({ section: 'id' }));
}
