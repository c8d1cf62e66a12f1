// The start-up every command-line entry shares (npm run import, export, token, safelist, corpus):
// arguments in, an exit status out, and the configured store opened, migrated and closed around
// the work, so each entry holds only what it does.
import { type Config, ConfigError, loadConfig } from './config.js';
import { openStore } from './data/open-store.js';
import type { ContentStore } from './data/store.js';

/**
 * Runs a command-line entry on the process's arguments and exits with the status it returns.
 * A throw exits 1: a configuration error (a bad DATABASE_URL, say) is reported by its message
 * alone, anything else with its stack trace.
 */
export function runCli(main: (argv: string[]) => Promise<number> | number): void {
  Promise.resolve()
    .then(() => main(process.argv.slice(2)))
    .then(
      (code) => process.exit(code),
      (error: unknown) => {
        console.error(error instanceof ConfigError ? error.message : error);
        process.exit(1);
      },
    );
}

/**
 * Loads the configuration from the environment and opens the configured store for bulk writing,
 * migrated, for `use`; the store is closed when `use` settles, whatever its outcome.
 */
export async function withStore(use: (store: ContentStore, config: Config) => Promise<number>): Promise<number> {
  const config = loadConfig(process.env);
  const store = openStore(config.database, { bulk: true });
  try {
    await store.migrate();
    return await use(store, config);
  } finally {
    await store.close();
  }
}
