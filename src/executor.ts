import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { type DocumentNode, type ExecutionResult, execute, type GraphQLSchema, getVariableValues, printSchema } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

/** An operation is compiled on its second run: compiling costs more than running once, and most one-off queries never come back. */
const COMPILE_AFTER = 2;
/** Compiled operations kept; each is generated code, tens of kilobytes. */
const MAX_COMPILED = 500;

/**
 * graphql-jit as Apollo Server's executor. Apollo 5 has no `executor`
 * option (one passed in the config is silently ignored); its gateway
 * interface is the one place an executor plugs in. Apollo still parses,
 * validates, runs every plugin and serializes; only execution changes.
 * Each operation is compiled once per parsed document (Apollo reuses the
 * document object for the same text) into a function that resolves exactly
 * the fields it selects, without graphql-js's per-field interpretation.
 * One-off operations run on graphql-js: compiling each of a stream of
 * unique queries cost more time than it saved and held hundreds of
 * megabytes of generated code.
 */
export function jitGateway(schema: GraphQLSchema): GatewayInterface {
  const compiled = new LRUCache<DocumentNode, Map<string | null, CompiledQuery | ExecutionResult>>({ max: MAX_COMPILED });
  const runs = new WeakMap<DocumentNode, number>();
  const executor: GatewayExecutor = async ({ document, operation, operationName, request, context }) => {
    // Bad variables are checked by graphql-js first: its errors point at the variable definition,
    // which is how Apollo tells them apart as BAD_USER_INPUT (400); graphql-jit's do not, and
    // can name the wrong variable.
    const variables = request.variables ?? {};
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) return { errors: coerced.errors };
    let byName = compiled.get(document);
    if (!byName) {
      const seen = (runs.get(document) ?? 0) + 1;
      runs.set(document, seen);
      if (seen < COMPILE_AFTER) return execute({ schema, document, operationName, variableValues: variables, contextValue: context });
      compiled.set(document, (byName = new Map()));
    }
    let query = byName.get(operationName);
    if (!query) byName.set(operationName, (query = compileQuery(schema, document, operationName ?? undefined)));
    // Compilation failures come back as an ExecutionResult with errors; Apollo reports them as usual.
    if (!isCompiledQuery(query)) return query;
    return query.query(undefined, context, variables);
  };
  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => {};
    },
    async stop() {},
  };
}
