// Process entry: config → store → server → listen, and a clean stop on SIGTERM/SIGINT.
import { existsSync } from 'node:fs';
import { TokenStore } from './auth/tokens.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { storeFailureKind } from './data/errors.js';
import { openStore } from './data/open-store.js';
import { seedIfEmpty } from './ingest/import-pages.js';
import { standardOutputLog } from './logging.js';
import { Metrics } from './metrics.js';
import { buildServer } from './server.js';

/** How long past SHUTDOWN_TIMEOUT_MS a stopping process may take before it exits regardless. */
const HARD_EXIT_AFTER_MS = 500;
/** How long the last log lines may take to reach standard output's reader: within the drain timeout, but never less than `least`. */
const LAST_LINES_MS = { least: 50, most: 500 };
/**
 * How long start-up waits for a store that does not answer yet (a database
 * still starting, restarting, or not reachable yet) before it gives up.
 * Instances and their database are often started together.
 */
const STORE_WAIT_MS = 30_000;

/** `work`, tried again while the store is unavailable, for up to STORE_WAIT_MS. */
async function onceTheStoreAnswers<T>(work: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + STORE_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (storeFailureKind(error) !== 'unavailable' || Date.now() >= giveUpAt) throw error;
      console.error(`the store does not answer yet (${(error as Error).message}); trying again`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2000)));
    }
  }
}

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
  const logOutput = standardOutputLog();
  metrics.watchLogOutput(() => logOutput.dropped);
  // The logger comes with the server, which needs the store first; until then a lost connection goes to stderr.
  let logConnectionError = (error: Error) => console.error('a store connection failed:', error.message);
  const store = openStore(config.database, { onQuery: metrics.observeQuery, onConnectionError: (error) => logConnectionError(error) });
  // Under the start-up lock, so instances starting together migrate in turn: Kysely's own
  // migration lock is a plain advisory lock, which PG_LOCK_TIMEOUT_MS would cancel while another
  // instance's migrations run longer than that.
  await onceTheStoreAnswers(() => store.withStartupLock(() => store.migrate()));
  // A store that cannot be written (a read-only mount) still serves reads; there is nothing to seed it with then.
  const readiness = await store.checkReady();
  const seeded = readiness.writable ? await seedIfEmpty(store, config.seedPath) : [];

  const loadTokens = async () => (existsSync(config.tokensFile) ? TokenStore.load(config.tokensFile) : TokenStore.empty());
  let tokens = await loadTokens();
  const { http } = await buildServer({ config, store, metrics, tokens: { verify: (token) => tokens.verify(token) } });
  // The driver's error holds its whole client; the log needs what happened, not that.
  logConnectionError = (error) =>
    http.log.warn(
      { reason: error.message, code: (error as { code?: unknown }).code },
      'a store connection failed; the pool opens a new one when needed',
    );
  if (!existsSync(config.tokensFile)) {
    http.log.warn(
      { tokensFile: config.tokensFile },
      'no tokens file: every editor token is refused (create one with npm run token -- create NAME --role EDITOR)',
    );
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
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const deadline = performance.now() + config.shutdownTimeoutMs;
    // Whatever hangs below (a store that never closes, say), the process ends soon after the drain
    // timeout. process.exit does not wait for log lines queued for a standard output nobody reads.
    setTimeout(() => {
      http.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time; exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs + HARD_EXIT_AFTER_MS).unref();
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
    // The last lines reach a reader that is reading; a stalled one is not waited for past the deadline.
    await logOutput.settle(Math.max(LAST_LINES_MS.least, Math.min(deadline - performance.now(), LAST_LINES_MS.most)));
    process.exit(drained === true ? 0 : 1);
  };
  // Before listening: a signal that arrives once the port is open must find the clean stop in place.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await http.listen({ host: config.host, port: config.port });
  http.log.info(`GraphQL at http://${config.host}:${config.port}/graphql`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
