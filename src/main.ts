// Process entry: config → store → server → listen, and a clean stop on SIGTERM/SIGINT.
import { existsSync } from 'node:fs';
import { TokenStore } from './auth/tokens.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openStore } from './data/open-store.js';
import { seedIfEmpty } from './ingest/import-pages.js';
import { Metrics } from './metrics.js';
import { buildServer } from './server.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  const metrics = new Metrics();
  const store = openStore(config.database, { onQuery: metrics.observeQuery });
  await store.migrate();
  // A store that cannot be written (a read-only mount) still serves reads; there is nothing to seed it with then.
  const readiness = await store.checkReady();
  const seeded = readiness.writable ? await seedIfEmpty(store, config.seedPath) : [];

  const loadTokens = async () => (existsSync(config.tokensFile) ? TokenStore.load(config.tokensFile) : TokenStore.empty());
  let tokens = await loadTokens();
  const { http } = await buildServer({ config, store, metrics, tokens: { verify: (token) => tokens.verify(token) } });
  if (!existsSync(config.tokensFile)) {
    http.log.warn({ tokensFile: config.tokensFile }, 'no tokens file: every editor token is refused (create one with npm run token -- create NAME --role EDITOR)');
  }
  // Tokens created or revoked with `npm run token` take effect on SIGHUP, without a restart.
  process.on('SIGHUP', () => {
    loadTokens().then(
      (reloaded) => {
        tokens = reloaded;
        http.log.info({ tokensFile: config.tokensFile }, 'reloaded editor tokens');
      },
      (error: unknown) => http.log.error(error, 'could not reload editor tokens; keeping the ones loaded before'),
    );
  });
  if (seeded.length) http.log.info({ pages: seeded.length, from: config.seedPath }, 'seeded an empty store');
  if (!readiness.writable) http.log.warn({ reason: readiness.reason }, 'store is read-only: writes are refused');
  await http.listen({ host: config.host, port: config.port });
  http.log.info(`GraphQL at http://${config.host}:${config.port}/graphql`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    http.log.info({ signal }, 'shutting down');
    // Stop accepting, let requests in flight finish (up to the drain timeout), then close the store.
    const timedOut = Symbol('timed out');
    const drained = await Promise.race([
      http.close().then(() => true),
      new Promise<typeof timedOut>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs, timedOut).unref()),
    ]).catch((error: unknown) => {
      http.log.error(error, 'shutdown failed');
      return false;
    });
    if (drained === timedOut) http.log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'requests still in flight at the drain timeout');
    await store.close().catch((error: unknown) => http.log.error(error, 'closing the store failed'));
    process.exit(drained === true ? 0 : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
