import { readdirSync, readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { gql } from 'graphql-tag';
import { ROOT } from './paths.js';
import { resolvers } from './resolvers/index.js';

const SCHEMA_DIR = new URL('schema/', ROOT);

/** The SDL files of schema/, one per domain, in a stable order. */
export function loadTypeDefs(): DocumentNode[] {
  return readdirSync(SCHEMA_DIR)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => gql(readFileSync(new URL(name, SCHEMA_DIR), 'utf8')));
}

/** The executable schema: the SDL with its resolvers (the same merge Apollo Server does for typeDefs + resolvers). */
export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers });
}
