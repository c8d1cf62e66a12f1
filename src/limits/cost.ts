import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { Context } from '../context.js';

/**
 * Every field costs 1 plus what it selects; a field that returns a page or a
 * list sized by `first` or `last` costs that many times what one item
 * selects. `articles(first: 100) { nodes { related(first: 50) { … } } }` is
 * 100 × 50 items, which is what the store would be asked for.
 */
const paginationEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const size = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : null;
  return 1 + (size !== null ? Math.max(size, 1) * childComplexity : childComplexity);
};

/** The estimated cost of a request's operation, with variables and defaults applied. */
export function operationCost(schema: GraphQLSchema, document: Parameters<typeof getComplexity>[0]['query'], variables: Record<string, unknown>, operationName?: string): number {
  return getComplexity({ schema, query: document, variables, operationName, estimators: [paginationEstimator] });
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
            cost = operationCost(schema, document, request.variables ?? {}, operationName ?? undefined);
          } catch {
            // Variables that do not fit the operation: execution reports them as BAD_USER_INPUT before running anything.
            return;
          }
          if (cost > budget) {
            throw new GraphQLError(`this operation's estimated cost is ${cost}, over the budget of ${budget}: ask for fewer items per page or fewer nested lists`, {
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', cost, budget, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
