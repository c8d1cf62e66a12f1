import type { MutationCreateSectionArgs, MutationMoveSectionArgs, MutationUpdateSectionArgs } from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import type { SectionRecord } from '../../data/types.js';
import { rethrowStoreRefusal } from '../../errors.js';
import { slugify } from '../../text/slug.js';
import { requireRole } from '../access.js';
import { requireStoreId } from '../identity.js';
import { checkSlug, sectionName } from './validation.js';

// The section tree's mutations: administrators only.

export async function createSection(context: Context, { input }: MutationCreateSectionArgs): Promise<SectionRecord> {
  requireRole(context, ['ADMIN']);
  const name = sectionName(input.name);
  const slug = input.slug != null ? checkSlug(input.slug, 'input.slug') : slugify(name);
  const parentId = requireStoreId(input.parent, 'Section', 'input.parent');
  return context.store.createSection({ name, slug, parentId }).catch(rethrowStoreRefusal({ section: 'input.parent' }));
}

export async function updateSection(context: Context, { id, input }: MutationUpdateSectionArgs): Promise<SectionRecord> {
  requireRole(context, ['ADMIN']);
  const sectionId = requireStoreId(id, 'Section', 'id');
  return context.store
    .updateSection({
      id: sectionId,
      name: input.name != null ? sectionName(input.name) : undefined,
      slug: input.slug != null ? checkSlug(input.slug, 'input.slug') : undefined,
    })
    .catch(rethrowStoreRefusal({ section: 'id' }));
}

export async function moveSection(context: Context, { id, parent }: MutationMoveSectionArgs): Promise<SectionRecord> {
  requireRole(context, ['ADMIN']);
  const sectionId = requireStoreId(id, 'Section', 'id');
  const parentId = requireStoreId(parent, 'Section', 'parent');
  return context.store.moveSection({ id: sectionId, parentId }).catch(rethrowStoreRefusal({ section: 'id' }));
}
