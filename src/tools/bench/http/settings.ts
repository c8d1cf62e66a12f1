// What a run of npm run bench is set to: the environment's settings, read once, and the constants
// every part of the bench shares.
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const STORE_URL = process.env.BENCH_DATABASE_URL ?? 'sqlite:var/bench-100k.db';
export const ARTICLES = Number(process.env.BENCH_ARTICLES ?? 100_000);
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** The even-paced runs' most connections: open loop, a request due when all are busy waits for one, and that wait is the pacer's, not the server's. */
export const PACED_CONNECTIONS = Number(process.env.BENCH_PACED_CONNECTIONS ?? 256);
export const WARMUP_SECONDS = Math.min(3, SECONDS);
/** Requests in a mix list: more than newsgraph answers in a warm-up and a run, so its unique queries stay unique. */
export const MIX_LENGTH = 200_000;
/** The most slugs fetched: 10,000 for the cached and mixed scenarios, the rest for the uncached recording. */
export const MAX_SLUGS = 60_000;
/** One part of the bench alone; only `logging` so far. */
export const ONLY = process.env.BENCH_ONLY || undefined;
export const LOGGING_ROUNDS = 2;

/**
 * With REDIS_URL set, the servers keep their caches in Redis, as instances scaled out do. Each
 * server started gets a key prefix of its own, so a fresh server finds an empty cache there as it
 * would in memory; the bench deletes its keys when it ends.
 */
export const REDIS_URL = process.env.REDIS_URL || undefined;

/** A line of progress, on standard error: standard output is the report's. */
export function progress(message: string): void {
  console.error(`· ${message}`);
}
