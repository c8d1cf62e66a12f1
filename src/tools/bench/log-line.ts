// What one request log line costs in CPU, in-process: a request's child logger (pino, as Fastify
// makes one per request) writing one `graphql request` line through newsgraph's standard-output
// destination (src/logging.ts). Run with standard output sent somewhere that reads it
// (`npm run bench:log-line > /dev/null`); it prints to standard error.
import pino from 'pino';
import { standardOutputLog } from '../../logging.js';

const LINES = 200_000;
const ROUNDS = 3;

const stream = standardOutputLog();
const root = pino({ level: 'info', redact: { paths: ['req.headers.authorization'], censor: '[redacted]' } }, stream);
for (let round = 1; round <= ROUNDS; round++) {
  const before = process.cpuUsage();
  for (let i = 0; i < LINES; i++) {
    const log = root.child({ reqId: `0f3b0c3a-1f1e-4f5d-9a55-7f0d0b5e2c${String(i % 100).padStart(2, '0')}` });
    log.info({ operation: 'ArticlePage', status: 200, durationMs: 2.31, errors: 0 }, 'graphql request');
    // Let the destination write what is queued, as a server's event loop would between requests.
    if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  await stream.settle(10_000);
  const used = process.cpuUsage(before);
  process.stderr.write(
    `round ${round}: ${((used.user + used.system) / LINES).toFixed(2)} µs of CPU per line (child logger, line, write), ${LINES.toLocaleString('en')} lines\n`,
  );
}
