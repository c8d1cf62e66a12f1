import type { ApolloServerPlugin } from '@apollo/server';
import { type DocumentNode, type GraphQLSchema, Kind, visit } from 'graphql';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import type { Context } from '../context.js';
import { costOverBudget } from '../errors.js';

/**
 * Every field costs 1 plus what it selects; a field that returns a page or a
 * list sized by `first` or `last`, or one object per id of `ids` (`nodes`),
 * costs that many times what one item selects.
 * `articles(first: 100) { nodes { related(first: 50) { … } } }` is 100 × 50
 * items, which is what the store would be asked for. A subgraph's
 * `_entities(representations:)` costs each representation what its
 * selection costs, as that many `article(id:)` lookups would.
 */
const paginationEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const size =
    typeof args.first === 'number'
      ? args.first
      : typeof args.last === 'number'
        ? args.last
        : Array.isArray(args.ids)
          ? args.ids.length
          : Array.isArray(args.representations)
            ? args.representations.length
            : null;
  return 1 + (size !== null ? Math.max(size, 1) * childComplexity : childComplexity);
};

/** The estimated cost of a request's operation, with variables and defaults applied. */
export function operationCost(
  schema: GraphQLSchema,
  document: Parameters<typeof getComplexity>[0]['query'],
  variables: Record<string, unknown>,
  operationName?: string,
): number {
  return getComplexity({ schema, query: document, variables, operationName, estimators: [paginationEstimator] });
}

/**
 * The variables a document's cost can depend on: those passed as `first` or
 * `last` (page sizes), as `ids` or `_entities`' `representations` (by their
 * number) or as `if` (@include/@skip). A document's cost is the same for
 * every value of its other variables, such as a slug.
 */
const SIZING_ARGUMENTS = new Set(['first', 'last', 'ids', 'representations', 'if']);

function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Argument(node) {
      if (SIZING_ARGUMENTS.has(node.name.value) && node.value.kind === Kind.VARIABLE) {
        names.add(node.value.name.value);
      }
    },
  });
  return [...names];
}

interface DocumentCosts {
  variables: string[];
  costs: Map<string, number>;
}

/** Page sizes differ per request only so much; past this many, a document's remembered costs start over. */
const COSTS_PER_DOCUMENT = 32;

/**
 * Costs computed before, per parsed document (Apollo reuses the document
 * object for the same text) and per values of the variables that matter:
 * estimating walks the whole operation, which measured about a tenth of an
 * uncached article page's time.
 */
const known = new WeakMap<DocumentNode, DocumentCosts>();

function memoizedCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, operationName?: string): number {
  let entry = known.get(document);
  if (!entry) known.set(document, (entry = { variables: costVariables(document), costs: new Map() }));
  // A list of ids or of representations costs by its length, whichever items it holds.
  const sizes = entry.variables.map((name) => (Array.isArray(variables[name]) ? { length: variables[name].length } : variables[name]));
  const key = `${operationName ?? ''}\n${JSON.stringify(sizes)}`;
  let cost = entry.costs.get(key);
  if (cost === undefined) {
    cost = operationCost(schema, document, variables, operationName);
    if (entry.costs.size >= COSTS_PER_DOCUMENT) entry.costs.clear();
    entry.costs.set(key, cost);
  }
  return cost;
}

/**
 * Rejects an operation whose estimated cost is over `budget` once it is
 * parsed and validated, before anything is executed (so before any store
 * access), with the estimate and the budget in `extensions`.
 */
export function costLimitPlugin(budget: number): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operationName }) {
          let cost: number;
          try {
            cost = memoizedCost(schema, document, request.variables ?? {}, operationName ?? undefined);
          } catch {
            // Variables that do not fit the operation: execution reports them as BAD_USER_INPUT before running anything.
            return;
          }
          if (cost > budget) {
            throw costOverBudget(cost, budget);
          }
        },
      };
    },
  };
}
