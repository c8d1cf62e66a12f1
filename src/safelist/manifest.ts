import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ApolloServerPlugin } from '@apollo/server';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, parse, print, visit } from 'graphql';
import type { Context } from '../context.js';
import { notInSafelist } from '../errors.js';

/** Apollo's persisted query manifest: the format its tooling writes and its router reads. */
export interface SafelistManifest {
  format: 'apollo-persisted-query-manifest';
  version: 1;
  operations: { id: string; name: string; type: 'query' | 'mutation' | 'subscription'; body: string }[];
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** One manifest entry per operation of the documents, each with the fragments it uses; ids are sha256 of the body. */
export function buildManifest(documents: { source: string; text: string }[]): SafelistManifest {
  const operations: OperationDefinitionNode[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const { source, text } of documents) {
    let document: DocumentNode;
    try {
      document = parse(text);
    } catch (error) {
      throw new Error(`${source}: ${(error as Error).message}`);
    }
    for (const definition of document.definitions) {
      if (definition.kind === 'OperationDefinition') {
        if (!definition.name) throw new Error(`${source}: every operation in a safelist needs a name`);
        operations.push(definition);
      } else if (definition.kind === 'FragmentDefinition') {
        fragments.set(definition.name.value, definition);
      }
    }
  }
  const names = new Set<string>();
  return {
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: operations.map((operation) => {
      const name = operation.name!.value;
      if (names.has(name)) throw new Error(`two operations are named ${name}`);
      names.add(name);
      const body = [operation, ...fragmentsUsed(operation, fragments)].map((d) => print(d)).join('\n\n');
      return { id: sha256(body), name, type: operation.operation, body };
    }),
  };
}

function fragmentsUsed(
  node: OperationDefinitionNode | FragmentDefinitionNode,
  all: Map<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): FragmentDefinitionNode[] {
  const used: FragmentDefinitionNode[] = [];
  visit(node, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      if (seen.has(name)) return;
      seen.add(name);
      const fragment = all.get(name);
      if (!fragment) throw new Error(`fragment ${name} is used but not defined`);
      used.push(fragment, ...fragmentsUsed(fragment, all, seen));
    },
  });
  return used;
}

export function loadManifest(path: string): SafelistManifest {
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as SafelistManifest;
  if (manifest.format !== 'apollo-persisted-query-manifest' || !Array.isArray(manifest.operations)) {
    throw new Error(`${path}: not an Apollo persisted query manifest (format "apollo-persisted-query-manifest", version 1)`);
  }
  for (const [i, operation] of manifest.operations.entries()) {
    if (sha256(operation.body) !== operation.id)
      throw new Error(`${path}: operations[${i}] (${operation.name}): id is not the sha256 of its body`);
  }
  return manifest;
}

/**
 * With a safelist, only the manifest's operations run: sent in full (the
 * exact body) or by id alone (`extensions.persistedQuery.sha256Hash`, which
 * the APQ cache answers from the manifest). Anything else is refused before
 * it runs.
 */
export function safelistPlugin(manifest: SafelistManifest): ApolloServerPlugin<Context> {
  const allowed = new Set(manifest.operations.map((o) => o.id));
  return {
    async requestDidStart() {
      return {
        // (Thrown from didResolveSource, Apollo answers 500; here it is a 400 like any refusal before running.)
        async didResolveOperation({ queryHash }) {
          if (!allowed.has(queryHash)) {
            throw notInSafelist();
          }
        },
      };
    },
  };
}

/**
 * The automatic persisted query store with the safelisted operations pinned
 * in it: they can be sent by id alone, so they are kept apart and never
 * evicted, and a client cannot register something else under their ids.
 */
export function withSafelist(store: KeyValueCache<string>, safelist: SafelistManifest | null): KeyValueCache<string> {
  const pinned = new Map((safelist?.operations ?? []).map((operation) => [`apq:${operation.id}`, operation.body]));
  if (pinned.size === 0) return store;
  return {
    get: async (key) => pinned.get(key) ?? store.get(key),
    set: (key, value, options) => (pinned.has(key) ? Promise.resolve() : store.set(key, value, options)),
    delete: (key) => store.delete(key),
  };
}
