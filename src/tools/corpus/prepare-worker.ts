// Worker thread of `npm run corpus`: generates, parses and prepares one chunk of pages at a time,
// so segmentation runs beside the thread that writes to the store.
import { parentPort } from 'node:worker_threads';
import { preparePage } from '../../data/prepare-page.js';
import { parsePage } from '../../ingest/parse-page.js';
import { generatePages } from './generate.js';

export interface ChunkRequest {
  seed: number;
  start: number;
  count: number;
}

if (!parentPort) throw new Error('prepare-worker.ts runs as a worker thread');
const port = parentPort;
port.on('message', ({ seed, start, count }: ChunkRequest) => {
  const prepared = [];
  let i = start;
  for (const page of generatePages({ count, seed, start })) {
    prepared.push(preparePage(parsePage(page.text, `corpus seed ${seed} #${i++}`)));
  }
  port.postMessage({ start, prepared });
});
