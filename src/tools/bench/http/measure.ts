// Measuring: one workload against one server, warmed up, then run for the set time, with the
// server's CPU, memory, event-loop delay and garbage collection read around the run; and the
// logging comparison, which measures the uncached scenario under each logging setting.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Cursor, drive, pace, type RunResult, type Workload } from '../load.js';
import { cpuMs } from '../server-command.js';
import { formatPercent } from '../stats.js';
import {
  cpuSince,
  type GcTotals,
  gcSince,
  type LoggingEnv,
  memory,
  SERVICES,
  type Server,
  scrape,
  serverTail,
  servicesCpu,
  startNewsgraph,
  stopChild,
} from './processes.js';
import { CONNECTIONS, LOGGING_ROUNDS, PACED_CONNECTIONS, progress, SECONDS, WARMUP_SECONDS } from './settings.js';
import { articlePost, type Fixtures, listWorkload } from './workloads.js';

export interface Row {
  scenario: string;
  server: Server['kind'];
  run: RunResult;
  rps: number;
  cpuMsPerRequest: number;
  rss: number;
  peak: number;
  /** Shares of one core the server and the bench process (the load generator) used during the run. */
  serverCpu: number;
  clientCpu: number;
  /** The same for the services newsgraph used on this machine (PostgreSQL, Redis), when it used any. */
  servicesCpu?: number;
  /** How late each process's event loop ran during the run (max and p99, ms): newsgraph's from its /metrics, and this process's. */
  loopDelay: { server?: { max: number; p99: number }; client: { max: number; p99: number } };
  /** newsgraph's garbage collections during the run. */
  gc?: GcTotals;
  /** The fixed rate asked for, and how it was sent. */
  target?: { rate: number; pacing: Pacing; share: number };
  /** Lines and bytes newsgraph wrote to its drained standard output during the run. */
  logged?: { lines: number; bytes: number };
}

/** autocannon's per-connection quota each second (bursts), or evenly spaced open-loop sends. */
type Pacing = 'autocannon' | 'even';

const cursors = new Map<string, Cursor>();

/** Answers that do not count: not 2xx, not the recorded bytes, a once-only request sent again, or none at all. */
export const failures = (run: RunResult) => run.non2xx + run.mismatched + run.repeats + run.errors;

/** The logging compared: what `npm start` does by default, every request logged, and nothing logged. */
export const LOGGING = [
  { name: 'default (LOG_REQUESTS unset: 1%)', env: {} },
  { name: 'LOG_REQUESTS=1 (every request)', env: { LOG_REQUESTS: '1' } },
  { name: 'LOG_LEVEL=silent', env: { LOG_LEVEL: 'silent' } },
] as const satisfies readonly { name: string; env: LoggingEnv }[];

export type Logging = (typeof LOGGING)[number]['name'];

export interface LoggingRun {
  logging: Logging;
  round: number;
  row: Row;
  /** Lines the server dropped because its standard output was not read fast enough. */
  dropped: number;
}

/**
 * The uncached ArticlePage scenario once per logging setting per round, each on a fresh process
 * (so the uncached list is new to every one), warmed up on other articles; the second round runs
 * in the reverse order, so a machine that slows down or speeds up over the section favours none.
 */
export async function compareLogging(fixtures: Fixtures, uncached: Workload): Promise<LoggingRun[]> {
  const runs: LoggingRun[] = [];
  for (let round = 1; round <= LOGGING_ROUNDS; round++) {
    for (const { name, env } of round % 2 ? LOGGING : [...LOGGING].reverse()) {
      const newsgraph = await startNewsgraph(env);
      progress(`logging, round ${round}: ${name}`);
      const warmup = listWorkload(
        'uncached warm-up',
        fixtures.warm.map((slug) => articlePost(slug)),
      );
      const row = await measure('uncached ArticlePage', newsgraph, uncached, { warmup, verifyWarmup: false });
      const dropped = (await scrape(newsgraph))('log_lines_dropped_total');
      await stopChild(newsgraph.child);
      runs.push({ logging: name, round, row, dropped });
    }
  }
  return runs;
}

export async function measure(
  scenario: string,
  server: Server,
  workload: Workload,
  { warmup, verifyWarmup = true, target }: { warmup: Workload; verifyWarmup?: boolean; target?: Row['target'] },
): Promise<Row> {
  const common = { port: server.port, connections: CONNECTIONS, enforceOnce: server.kind === 'newsgraph' };
  const load = (options: Parameters<typeof drive>[0]) =>
    target?.pacing === 'even'
      ? pace({ ...options, connections: PACED_CONNECTIONS, rate: target.rate })
      : drive({ ...options, ...(target ? { rate: target.rate } : {}) });
  const what = `${scenario}${target ? ` at ${Math.round(target.rate)} req/s (${target.pacing}, ${formatPercent(target.share)})` : ''}`;
  progress(`${what}: ${server.kind}, ${WARMUP_SECONDS} s warm-up, ${SECONDS} s run`);
  await load({ ...common, workload: warmup, cursor: cursorFor(warmup, server), seconds: WARMUP_SECONDS, verify: verifyWarmup });
  // Scraping newsgraph's /metrics resets its event-loop delay histogram: the next scrape covers the run.
  const gcBefore = server.kind === 'newsgraph' ? (await scrape(server)).gc : undefined;
  const clientLoop = monitorEventLoopDelay({ resolution: 10 });
  clientLoop.enable();
  const cpuBefore = cpuMs(server.pid);
  const clientBefore = process.cpuUsage();
  const servicesBefore = servicesCpu();
  const loggedBefore = server.output && { lines: server.output.lines, bytes: server.output.bytes };
  const run = await load({ ...common, workload, cursor: cursorFor(workload, server), seconds: SECONDS, verify: true });
  const cpu = cpuMs(server.pid) - cpuBefore;
  const logged = server.output &&
    loggedBefore && { lines: server.output.lines - loggedBefore.lines, bytes: server.output.bytes - loggedBefore.bytes };
  const client = process.cpuUsage(clientBefore);
  const services = cpuSince(servicesBefore, servicesCpu());
  clientLoop.disable();
  const serverLoop = server.kind === 'newsgraph' ? await scrape(server) : undefined;
  if (server.child.exitCode !== null || server.child.signalCode !== null) {
    throw new Error(`${server.kind} exited during "${what}"${server.log ? `:\n${serverTail(server)}` : ''}`);
  }
  return {
    scenario,
    server: server.kind,
    run,
    rps: run.good / run.seconds,
    cpuMsPerRequest: cpu / Math.max(1, run.responses),
    ...memory(server.pid),
    serverCpu: cpu / 1000 / run.seconds,
    clientCpu: (client.user + client.system) / 1e6 / run.seconds,
    ...(SERVICES.length && server.kind === 'newsgraph' ? { servicesCpu: services / 1000 / run.seconds } : {}),
    loopDelay: {
      ...(serverLoop
        ? {
            server: {
              max: serverLoop('nodejs_eventloop_lag_max_seconds') * 1000,
              p99: serverLoop('nodejs_eventloop_lag_p99_seconds') * 1000,
            },
          }
        : {}),
      client: { max: clientLoop.max / 1e6, p99: clientLoop.percentile(99) / 1e6 },
    },
    ...(serverLoop && gcBefore ? { gc: gcSince(gcBefore, serverLoop.gc) } : {}),
    ...(target ? { target } : {}),
    ...(logged ? { logged } : {}),
  };
}

function cursorFor(workload: Workload, server: Server): Cursor {
  const key = `${workload.name}@${server.pid}`;
  let cursor = cursors.get(key);
  if (!cursor) cursors.set(key, (cursor = { next: 0 }));
  return cursor;
}
