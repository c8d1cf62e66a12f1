// npm run corpus -- --articles N [--seed S]: fills the configured store with N synthetic articles
// (src/tools/corpus/generate.ts), parsed, prepared and written exactly as imported pages are.
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { runCli, withStore } from '../../cli.js';
import type { PreparedPage } from '../../data/prepare-page.js';
import { formatBytes } from '../bench/stats.js';
import type { ChunkRequest } from './prepare-worker.js';

// Node 20 does not run --import hooks in worker threads, so the worker registers
// tsx itself before loading its TypeScript module.
const WORKER_BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => { register(); return import(${JSON.stringify(new URL('./prepare-worker.ts', import.meta.url).href)}); })`;

/** Pages per chunk, and per transaction: large enough that commits cost nothing, small enough to show progress. */
const CHUNK = 1_000;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { articles: { type: 'string' }, seed: { type: 'string', default: '1' } },
    strict: true,
  });
  const count = Number(values.articles);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(seed)) {
    console.error('usage: npm run corpus -- --articles N [--seed S]   (N ≥ 1, S an integer; default seed 1)');
    return 2;
  }
  return withStore(async (store, config) => {
    // Preparing (segmentation above all) is the heavier half, so it gets every core but the writer's.
    const workers = Array.from({ length: Math.max(1, availableParallelism() - 1) }, () => new Worker(WORKER_BOOTSTRAP, { eval: true }));
    try {
      const started = performance.now();
      const counts = { created: 0, updated: 0, unchanged: 0 };

      // Chunks are handed out round-robin and written strictly in order, so ids follow generation order.
      const chunks: ChunkRequest[] = [];
      for (let start = 0; start < count; start += CHUNK) chunks.push({ seed, start, count: Math.min(CHUNK, count - start) });
      const ready = new Map<number, PreparedPage[]>();
      const waiting = new Map<number, () => void>();
      let next = 0;
      const dispatch = (worker: Worker) => {
        const chunk = chunks[next++];
        if (chunk) worker.postMessage(chunk);
      };
      for (const worker of workers) {
        worker.on('message', ({ start, prepared }: { start: number; prepared: PreparedPage[] }) => {
          ready.set(start, prepared);
          waiting.get(start)?.();
          dispatch(worker);
        });
        worker.on('error', (error) => {
          console.error(error);
          process.exit(1);
        });
        dispatch(worker);
        dispatch(worker); // two in flight per worker, so none idles while the writer catches up
      }

      let done = 0;
      for (const chunk of chunks) {
        if (!ready.has(chunk.start)) await new Promise<void>((resolve) => waiting.set(chunk.start, resolve));
        const prepared = ready.get(chunk.start)!;
        ready.delete(chunk.start);
        for (const result of await store.savePages(prepared)) counts[result.status]++;
        done += prepared.length;
        const seconds = (performance.now() - started) / 1000;
        process.stdout.write(`\r${done.toLocaleString('en')} / ${count.toLocaleString('en')} articles, ${seconds.toFixed(1)} s`);
      }
      const seconds = (performance.now() - started) / 1000;
      const { database } = config;
      const size =
        database.kind === 'sqlite'
          ? ['', '-wal'].reduce((sum, suffix) => sum + (statSync(database.path + suffix, { throwIfNoEntry: false })?.size ?? 0), 0)
          : NaN;
      console.log(
        `\n${count.toLocaleString('en')} articles (seed ${seed}) in ${seconds.toFixed(1)} s, ${Math.round(count / seconds).toLocaleString('en')}/s ` +
          `with ${workers.length} preparing worker(s): ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged; ` +
          `store ${Number.isNaN(size) ? 'in PostgreSQL' : formatBytes(size)}`,
      );
      return 0;
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
}

runCli(main);
