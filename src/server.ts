import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { createContext, type Context } from './context.js';
import type { ContentStore } from './data/store.js';
import { buildSchema } from './schema.js';

export interface ApolloOptions {
  production: boolean;
  /** Extra Apollo plugins, such as the Fastify drain plugin. */
  plugins?: ApolloServerPlugin<Context>[];
}

/** The GraphQL engine alone: what tests drive with `executeOperation`, and what the HTTP server mounts. */
export function createApollo({ production, plugins = [] }: ApolloOptions): ApolloServer<Context> {
  return new ApolloServer<Context>({
    schema: buildSchema(),
    plugins: [
      ...plugins,
      production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
    ],
  });
}

export interface Server {
  http: FastifyInstance;
  apollo: ApolloServer<Context>;
}

/** Fastify with Apollo mounted at /graphql, ready to `listen`. Closing `http` drains and stops Apollo. */
export async function buildServer({ config, store }: { config: Config; store: ContentStore }): Promise<Server> {
  const http = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
  });
  const apollo = createApollo({
    production: config.nodeEnv === 'production',
    plugins: [fastifyApolloDrainPlugin(http)],
  });
  await apollo.start();
  await http.register(fastifyApollo(apollo), {
    path: '/graphql',
    context: async () => createContext(store),
  });
  return { http, apollo };
}
