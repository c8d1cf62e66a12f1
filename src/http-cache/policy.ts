import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  getNamedType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** How long public answers may be kept, by what they hold (see README, "Caching"). */
export interface CacheAges {
  /** An article, a section, the section tree: they change when an editor changes them. */
  articleSeconds: number;
  /** Lists, search results and related items: they also change whenever anything is published. */
  listSeconds: number;
}

/**
 * Static hints: the fields whose answer is a list of articles that other
 * articles' publication changes. Every other field is held as long as an
 * article. A response is kept as long as its shortest-lived field allows.
 * (Apollo's per-field cache-control plugin computes the same thing on every
 * request at a measured cost; a document's policy never changes, so it is
 * computed once per document here.)
 */
const LIST_FIELDS = new Set(['Query.articles', 'Query.search', 'Section.articles', 'Article.related']);

export type CachePolicy = { maxAge: number } | null;

const policies = new WeakMap<DocumentNode, Map<string | null, CachePolicy>>();

/**
 * The public cache policy of one operation: its max-age in seconds, or null
 * when it must not be stored at all (mutations, unknown operations).
 * Memoized per parsed document; Apollo reuses the document object for the
 * same query text.
 */
export function cachePolicy(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  ages: CacheAges,
): CachePolicy {
  let byName = policies.get(document);
  if (!byName) policies.set(document, (byName = new Map()));
  const key = operationName ?? null;
  if (byName.has(key)) return byName.get(key)!;

  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = key === null ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === key);
  let policy: CachePolicy = null;
  if (operation?.operation === 'query') {
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((fragment) => [fragment.name.value, fragment]),
    );
    const lists = holdsList(schema, operation.selectionSet, 'Query', fragments, new Set());
    policy = { maxAge: lists ? Math.min(ages.listSeconds, ages.articleSeconds) : ages.articleSeconds };
  }
  byName.set(key, policy);
  return policy;
}

function holdsList(
  schema: GraphQLSchema,
  selectionSet: SelectionSetNode,
  typeName: string,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): boolean {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (LIST_FIELDS.has(`${typeName}.${name}`)) return true;
      const parent = schema.getType(typeName);
      const field = isObjectType(parent) ? parent.getFields()[name] : undefined;
      // Unions (ContentBlock) and scalars hold no lists; inline fragments name the member types.
      if (field && selection.selectionSet && holdsList(schema, selection.selectionSet, getNamedType(field.type).name, fragments, visiting))
        return true;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const on = selection.typeCondition?.name.value ?? typeName;
      if (holdsList(schema, selection.selectionSet, on, fragments, visiting)) return true;
    } else {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      if (holdsList(schema, fragment.selectionSet, fragment.typeCondition.name.value, fragments, visiting)) return true;
    }
  }
  return false;
}
