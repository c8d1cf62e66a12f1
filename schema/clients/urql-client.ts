import { Client, fetchExchange } from '@urql/core';
import { cacheExchange, type KeyGenerator, type KeyingConfig } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { persistedExchange } from '@urql/exchange-persisted';
import schema from '../generated/introspection.json' with { type: 'json' };

// urql with graphcache for newsgraph. Objects with an `id` (every `Node`) are
// normalized by graphcache's default `__typename:id`; select `id` wherever one
// is offered. The schema (the minified introspection `npm run codegen` writes,
// since introspection is off in production) lets fragments on `ContentBlock`
// and `Node` match exactly instead of by guess.

/** Embedded in its parent: a value has no key of its own. */
const value: KeyGenerator = () => null;

/** Every object type without an `id`: values, connections and mutation payloads. */
export const keys: KeyingConfig = {
  Source: value,
  Credit: value,
  Paragraph: value,
  Image: value,
  RelatedItem: value,
  RelatedReason: value,
  SearchHit: value,
  PageInfo: value,
  ArticleConnection: value,
  ArticleEdge: value,
  SearchConnection: value,
  SearchEdge: value,
  ArticlePayload: value,
  SectionPayload: value,
  HotItemsPayload: value,
  ImportPagesPayload: value,
  ImportedPage: value,
};

/**
 * A client for the newsgraph API at `url` (`https://news.example.com/graphql`),
 * with an editor's token when given. Queries go as persisted queries by hash
 * over GET, so a CDN can keep them; the first use of a query is answered
 * `PERSISTED_QUERY_NOT_FOUND` and the exchange sends it once more with its text.
 */
export function createNewsgraphClient(url: string, token?: string): Client {
  return new Client({
    url,
    ...(token ? { fetchOptions: { headers: { authorization: `Bearer ${token}` } } } : {}),
    exchanges: [
      cacheExchange({
        schema,
        keys,
        resolvers: {
          Query: { articles: relayPagination(), search: relayPagination() },
          Section: { articles: relayPagination() },
        },
      }),
      persistedExchange({ preferGetForPersistedQueries: true }),
      fetchExchange,
    ],
  });
}
