import { type FieldMergeFunction, InMemoryCache, type StoreObject, type TypePolicies } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import introspection from '../generated/possibleTypes.json' with { type: 'json' };

// Apollo Client's cache for newsgraph. Objects with an `id` (every `Node`) are
// normalized by Apollo's default `__typename:id`; select `id` wherever one is
// offered. The rest are values kept inside their parent, and these policies
// merge what different queries select of them instead of replacing it.

/**
 * A list of values without ids (credits, body blocks, teasers): while the
 * list keeps its length, each position holds the same item, so the fields
 * different queries selected of it are merged; a list of another length is new.
 */
const mergeByPosition: FieldMergeFunction<StoreObject[]> = (existing, incoming, { mergeObjects }) =>
  existing?.length === incoming.length ? incoming.map((item, i) => mergeObjects(existing[i]!, item)) : incoming;

export const typePolicies: TypePolicies = {
  Query: {
    fields: {
      articles: relayStylePagination(['filter', 'orderBy', 'preview']),
      search: relayStylePagination(['query', 'filter', 'preview']),
    },
  },
  Section: { fields: { articles: relayStylePagination(['filter', 'orderBy', 'preview']) } },
  Article: {
    fields: {
      body: { merge: mergeByPosition },
      credits: { merge: mergeByPosition },
      related: { merge: mergeByPosition },
    },
  },
  Source: { keyFields: false, merge: true },
  RelatedReason: { keyFields: false, merge: true },
};

/** The cache: union and interface members from the shipped possibleTypes.json (introspection is off in production), and the policies above. */
export function createNewsgraphCache(): InMemoryCache {
  return new InMemoryCache({ possibleTypes: introspection.possibleTypes, typePolicies });
}
