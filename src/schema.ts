import { readdirSync, readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { type DocumentNode, type GraphQLSchema, visit } from 'graphql';
import { gql } from 'graphql-tag';
import { ROOT } from './paths.js';
import { resolvers } from './resolvers/index.js';

const SCHEMA_DIR = new URL('schema/', ROOT);

/** The directives schema/federation.graphql links from the federation spec; the plain API leaves them out. */
const FEDERATION_DIRECTIVES = new Set(['link', 'key']);

/** The SDL files of schema/, one per domain, in a stable order. */
export function loadTypeDefs(): DocumentNode[] {
  return readdirSync(SCHEMA_DIR)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => gql(readFileSync(new URL(name, SCHEMA_DIR), 'utf8')));
}

type SubgraphResolvers = Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers'];

export interface SchemaOptions {
  /** Serve as an Apollo Federation 2 subgraph: `_service`, `_entities` and the entities' `@key`s (config FEDERATION). */
  federation?: boolean;
}

/**
 * The executable schema: the SDL with its resolvers. As a subgraph it is
 * built by Apollo's own subgraph library, which adds `_service` and
 * `_entities` and reads the entities' `__resolveReference`; otherwise by
 * graphql-tools (the same merge Apollo Server does for typeDefs +
 * resolvers) from the SDL without the federation directives.
 */
export function buildSchema({ federation = false }: SchemaOptions = {}): GraphQLSchema {
  const typeDefs = loadTypeDefs();
  // The library's resolver map types `__resolveReference` as a field resolver; codegen types it as
  // what @apollo/subgraph calls: (reference, context, info).
  if (federation) return buildSubgraphSchema({ typeDefs, resolvers: resolvers as SubgraphResolvers });
  return makeExecutableSchema({ typeDefs: typeDefs.map(withoutFederation), resolvers });
}

/** The document without `@link`, `@key` and the `extend schema` that only carried them. */
function withoutFederation(document: DocumentNode): DocumentNode {
  return visit(document, {
    Directive: (node) => (FEDERATION_DIRECTIVES.has(node.name.value) ? null : undefined),
    SchemaExtension: {
      leave: (node) => ((node.directives?.length ?? 0) === 0 && (node.operationTypes?.length ?? 0) === 0 ? null : undefined),
    },
  });
}
