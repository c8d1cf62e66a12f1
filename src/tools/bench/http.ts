// npm run bench: newsgraph over HTTP on a 100,000-article store, in production mode and in its own
// process, driven from this process (load.ts); and, in the same run, the ceiling: a bare
// node:http process (ceiling.ts) sending the very same bytes for the very same requests. Prints
// req/s, latency, server CPU per request and memory for each scenario and server, the share of the
// ceiling newsgraph reaches, and whether the performance targets are met. Then what logging
// costs: the uncached scenario on newsgraph with production's default logging, with every request
// logged and with no logging, alternating (BENCH_ONLY=logging runs that part alone). An answer
// that is not byte for byte the recorded one, or not 2xx, is a failure and does not count as throughput.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, closeSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createClient } from '@redis/client';
import pg from 'pg';
import { parseDatabaseUrl, type DatabaseConfig } from '../../config.js';
import type { RecordedAnswer } from './ceiling.js';
import { drive, pace, type BenchRequest, type Cursor, type Expected, type Mismatch, type RunResult, type Workload } from './load.js';
import { cpuMs, freePort, serverCommand } from './server-command.js';
import { formatMs } from './stats.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const STORE_URL = process.env.BENCH_DATABASE_URL ?? 'sqlite:var/bench-100k.db';
const ARTICLES = Number(process.env.BENCH_ARTICLES ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** The even-paced runs' most connections: open loop, a request due when all are busy waits for one, and that wait is the pacer's, not the server's. */
const PACED_CONNECTIONS = Number(process.env.BENCH_PACED_CONNECTIONS ?? 256);
const WARMUP_SECONDS = Math.min(3, SECONDS);
/** Requests in a mix list: more than newsgraph answers in a warm-up and a run, so its unique queries stay unique. */
const MIX_LENGTH = 200_000;
/** The most slugs fetched: 10,000 for the cached and mixed scenarios, the rest for the uncached recording. */
const MAX_SLUGS = 60_000;
/** One part of the bench alone; only `logging` so far. */
const ONLY = process.env.BENCH_ONLY || undefined;
const LOGGING_ROUNDS = 2;

const ARTICLE_PAGE = `query ArticlePage($slug: String!) { article(slug: $slug) { title source { name } publishedAt section { name path { name } } body { __typename ... on Paragraph { text } ... on Image { caption url } } credits { role label name } tags { name } excerpt wordCount readingMinutes hot: related(kind: HOT, first: 6) { kind title summary url } } }`;
const SECTION_PAGE = `query SectionPage($slug: String!) { section(slug: $slug) { name path { name } articles(first: 20) { totalCount nodes { slug title publishedAt excerpt credits { name } tags { name } } pageInfo { endCursor hasNextPage } } } }`;
const SEARCH = `query Search($query: String!) { search(query: $query, first: 10) { totalCount edges { node { score snippet article { slug title publishedAt } } } } }`;
/** A different alias per request: no response cache, and no parse cache either, has seen the query before. */
const uniqueQuery = (n: number) => `query Unique($slug: String!) { article(slug: $slug) { title excerpt wordCount u${n}: slug } }`;

const JSON_POST = { 'content-type': 'application/json' };
// Apollo's CSRF prevention refuses a GET without a header a browser form could not send.
const PREFLIGHT = { 'apollo-require-preflight': 'true' };

interface Operation {
  name: string;
  query: string;
  sha256: string;
}
const operation = (name: string, query: string): Operation => ({ name, query, sha256: createHash('sha256').update(query).digest('hex') });
const OPERATIONS = { article: operation('ArticlePage', ARTICLE_PAGE), section: operation('SectionPage', SECTION_PAGE), search: operation('Search', SEARCH) };

interface Server {
  kind: 'newsgraph' | 'ceiling';
  child: ChildProcess;
  pid: number;
  port: number;
  startupMs: number;
  /** Where its standard error (and, unless it is drained, its standard output) goes. */
  log?: string;
  /** Its standard output, read by this process as a log shipper would and thrown away. */
  output?: DrainedOutput;
}

/** What a server wrote to its drained standard output: counts, and the end of it for error messages. */
interface DrainedOutput {
  lines: number;
  bytes: number;
  tail: string;
}

interface Row {
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

const children = new Set<ChildProcess>();
const cursors = new Map<string, Cursor>();
const tmp = mkdtempSync(join(tmpdir(), 'newsgraph-bench-'));
let logs = 0;

async function main(): Promise<void> {
  if (ONLY && ONLY !== 'logging') throw new Error(`BENCH_ONLY=${ONLY}: the only part that runs alone is "logging"`);
  const database = parseDatabaseUrl(STORE_URL, ROOT);
  if (database.kind === 'sqlite' && !existsSync(database.path)) await buildStore(database.path);
  const store = describeStore(database);
  progress('building dist/ (npm run build)');
  server = serverCommand();

  let newsgraph = await startNewsgraph();
  const startups = [newsgraph.startupMs];
  const peaks: number[] = [];
  progress(`newsgraph ready in ${Math.round(newsgraph.startupMs)} ms; collecting fixtures through the API`);
  const fixtures = await collectFixtures(newsgraph, database);
  const rows: Row[] = [];
  const notes: string[] = [];

  if (ONLY === 'logging') {
    const uncached = await recordUncached(newsgraph, fixtures.uncached, notes);
    await stopChild(newsgraph.child);
    printLogging(store, fixtures, uncached, await compareLogging(fixtures, uncached), notes);
    return;
  }

  // 1. Cached ArticlePage: 1,000 pages, each fetched once before the warm-up.
  const cached = listWorkload('cached ArticlePage', fixtures.cached.map((slug) => articlePost(slug)));
  await record(newsgraph, cached, notes);
  rows.push(await measure('cached ArticlePage', newsgraph, cached, { warmup: cached }));
  rows.push(await withCeiling(cached, (ceiling) => measure('cached ArticlePage', ceiling, cached, { warmup: cached })));

  // 2. Uncached ArticlePage. The answers have to be recorded before the run, and recording them
  // from the server under test would leave them in its caches. So they are recorded from this
  // process, and then it is replaced by a fresh one (empty in-memory caches) that warms up on a
  // disjoint set of articles and never sees an article twice in the measured run. (The
  // operating system's file cache keeps the pages SQLite read: the store is warm, the server cold.)
  const canonicals = await recordUniqueCanonicals(newsgraph, fixtures.uniquePool);
  const uncached = await recordUncached(newsgraph, fixtures.uncached, notes);
  peaks.push(memory(newsgraph.pid).peak);
  memoryReports.push(await memoryReport(newsgraph, 'after the cached and uncached-recording runs'));
  await stopChild(newsgraph.child);
  newsgraph = await startNewsgraph();
  startups.push(newsgraph.startupMs);
  const warmup = listWorkload('uncached warm-up', fixtures.warm.map((slug) => articlePost(slug)));
  rows.push(await measure('uncached ArticlePage', newsgraph, uncached, { warmup, verifyWarmup: false }));
  rows.push(await withCeiling(uncached, (ceiling) => measure('uncached ArticlePage', ceiling, uncached, { warmup: uncached })));

  // 3. The portal's mix as POSTs.
  const mixPost = mixWorkload('mix POST', fixtures, canonicals, { apq: false, firstUnique: 1 });
  await record(newsgraph, mixPost, notes);
  rows.push(await measure('mix POST', newsgraph, mixPost, { warmup: mixPost }));
  rows.push(await withCeiling(mixPost, (ceiling) => measure('mix POST', ceiling, mixPost, { warmup: mixPost })));

  // 4. The same mix as automatic persisted queries over GET, each query text registered once. A
  // unique query cannot be persisted in advance, so those few are sent as POSTs in this run too.
  await registerPersistedQueries(newsgraph, fixtures);
  const mixGet = mixWorkload('mix APQ GET', fixtures, canonicals, { apq: true, firstUnique: 1_000_001 });
  await record(newsgraph, mixGet, notes);
  rows.push(await measure('mix APQ GET', newsgraph, mixGet, { warmup: mixGet }));
  rows.push(await withCeiling(mixGet, (ceiling) => measure('mix APQ GET', ceiling, mixGet, { warmup: mixGet })));

  // 5. Latency at a fixed 80% of the throughput newsgraph reached (this process has not seen the
  // cached ArticlePage list yet: recording it warms it, as in scenario 1). autocannon's fixed rate
  // comes in bursts at full concurrency each second, which measures nearly the saturated latency
  // again; the even, open-loop runs are the ones the target is judged on.
  const atRate: Row[] = [];
  const maxOf = (scenario: string) => Math.max(1, rows.find((row) => row.scenario === scenario && row.server === 'newsgraph')!.rps);
  await record(newsgraph, cached, notes);
  // Each even-paced run is repeated against the ceiling at the same rate, with the same list: what
  // the load generator and this machine add to the latency of a server that does nothing else.
  const atFixedRate = async (scenario: string, workload: Workload, target: NonNullable<Row['target']>): Promise<Row> => {
    const row = await measure(scenario, newsgraph, workload, { warmup: workload, target });
    atRate.push(row);
    if (target.pacing === 'even') atRate.push(await withCeiling(workload, (ceiling) => measure(scenario, ceiling, workload, { warmup: workload, target })));
    return row;
  };
  // One mix list per pacing: each run sends up to 13 s of the list, and unique queries must stay unique.
  for (const [pacing, firstUnique] of [['autocannon', 2_000_001], ['even', 3_000_001]] as const) {
    const mixAtRate = mixWorkload(`mix POST at 80% (${pacing})`, fixtures, canonicals, { apq: false, firstUnique });
    await record(newsgraph, mixAtRate, notes);
    await atFixedRate('cached ArticlePage', cached, { rate: 0.8 * maxOf('cached ArticlePage'), pacing, share: 0.8 });
    await atFixedRate('mix POST', mixAtRate, { rate: 0.8 * maxOf('mix POST'), pacing, share: 0.8 });
  }
  // Where the even-paced p99 is over 20 ms at 80%, step down until it is not: the share of the
  // maximum at which the latency target does hold on this machine.
  let firstUnique = 4_000_001;
  for (const scenario of ['cached ArticlePage', 'mix POST']) {
    const at80 = atRate.find((row) => row.scenario === scenario && row.server === 'newsgraph' && row.target?.pacing === 'even')!;
    if (at80.run.latency.p99 <= 20) continue;
    for (const share of [0.7, 0.6, 0.5]) {
      let workload = cached;
      if (scenario === 'mix POST') {
        workload = mixWorkload(`mix POST at ${share * 100}% (even)`, fixtures, canonicals, { apq: false, firstUnique });
        firstUnique += 1_000_000;
        await record(newsgraph, workload, notes);
      }
      const row = await atFixedRate(scenario, workload, { rate: share * maxOf(scenario), pacing: 'even', share });
      if (row.run.latency.p99 <= 20 && !failures(row.run)) break;
    }
  }
  peaks.push(memory(newsgraph.pid).peak);
  memoryReports.push(await memoryReport(newsgraph, 'after the uncached, mixed and fixed-rate runs'));

  await stopChild(newsgraph.child);

  printReport({ store, fixtures, uncachedCount: uncached.requests.length, startups, rows, atRate, peak: Math.max(...peaks), notes });
  console.log(`\nnewsgraph's memory, from its /metrics:\n${memoryReports.map((line) => `  ${line}`).join('\n')}`);

  // 6. What logging costs, on the uncached list recorded for scenario 2: fresh processes each run, so it may be sent again.
  printLogging(store, fixtures, uncached, await compareLogging(fixtures, uncached), []);
}

// ---------------------------------------------------------------- logging

/** The logging compared: what `npm start` does by default, every request logged, and nothing logged. */
const LOGGING = [
  { name: 'default (LOG_REQUESTS unset: 1%)', env: {} },
  { name: 'LOG_REQUESTS=1 (every request)', env: { LOG_REQUESTS: '1' } },
  { name: 'LOG_LEVEL=silent', env: { LOG_LEVEL: 'silent' } },
] as const satisfies readonly { name: string; env: LoggingEnv }[];

type Logging = (typeof LOGGING)[number]['name'];

interface LoggingRun {
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
async function compareLogging(fixtures: Fixtures, uncached: Workload): Promise<LoggingRun[]> {
  const runs: LoggingRun[] = [];
  for (let round = 1; round <= LOGGING_ROUNDS; round++) {
    for (const { name, env } of round % 2 ? LOGGING : [...LOGGING].reverse()) {
      const newsgraph = await startNewsgraph(env);
      progress(`logging, round ${round}: ${name}`);
      const warmup = listWorkload('uncached warm-up', fixtures.warm.map((slug) => articlePost(slug)));
      const row = await measure('uncached ArticlePage', newsgraph, uncached, { warmup, verifyWarmup: false });
      const dropped = (await scrape(newsgraph))('log_lines_dropped_total');
      await stopChild(newsgraph.child);
      runs.push({ logging: name, round, row, dropped });
    }
  }
  return runs;
}

function printLogging(store: string, fixtures: Fixtures, uncached: Workload, runs: LoggingRun[], notes: string[]): void {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const number = (value: number) => Math.round(value).toLocaleString('en');
  const signed = (value: number) => `${value < 0 ? '−' : '+'}${number(Math.abs(value))}`;
  const table = (header: string[], body: string[][]) => [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  const microseconds = (row: Row) => row.cpuMsPerRequest * 1000;

  console.log(`\nwhat logging costs: uncached ArticlePage on newsgraph in production mode, ${fixtures.total.toLocaleString('en')} articles in ${store}`);
  console.log(`${cpu}, ${availableParallelism()} cores; node ${process.version}; the load generator runs in the bench process`);
  console.log(
    `a fresh process each run, ${CONNECTIONS} connections, ${SECONDS} s runs after ${WARMUP_SECONDS} s warm-ups on other articles, ${LOGGING_ROUNDS} rounds (alternating, the second in reverse order); ` +
      `requests over ${number(uncached.requests.length)} recorded articles, none sent twice to a process; each server's standard output read by the bench and thrown away\n`,
  );
  console.log(
    table(
      ['logging', 'round', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'log lines/req', 'log bytes/req', 'failures'],
      runs.map(({ logging, round, row }) => {
        const responses = Math.max(1, row.run.responses);
        return [
          logging,
          String(round),
          number(row.rps),
          formatMs(row.run.latency.p50),
          formatMs(row.run.latency.p99),
          number(microseconds(row)),
          ((row.logged?.lines ?? 0) / responses).toFixed(3),
          number((row.logged?.bytes ?? 0) / responses),
          String(failures(row.run)),
        ];
      }),
    ),
  );

  // Over all rounds: total CPU over total answers, so a longer run weighs more.
  const total = (logging: Logging) => {
    const rows = runs.filter((run) => run.logging === logging).map((run) => run.row);
    return (1000 * rows.reduce((sum, row) => sum + row.cpuMsPerRequest * row.run.responses, 0)) / Math.max(1, rows.reduce((sum, row) => sum + row.run.responses, 0));
  };
  const byRound = (more: Logging, less: Logging) =>
    Array.from({ length: LOGGING_ROUNDS }, (_, i) => {
      const of = (logging: Logging) => microseconds(runs.find((run) => run.logging === logging && run.round === i + 1)!.row);
      return signed(of(more) - of(less));
    }).join(', ');
  const cost = (more: Logging, less: Logging) => `${signed(total(more) - total(less))} µs (rounds: ${byRound(more, less)})`;
  const [usual, every, silent] = [LOGGING[0].name, LOGGING[1].name, LOGGING[2].name];
  console.log(`\nserver CPU per request over all rounds: ${LOGGING.map(({ name }) => `${name} ${number(total(name))} µs`).join('; ')}`);
  console.log(`logging every request costs ${cost(every, usual)} of server CPU per request over the default, ${cost(every, silent)} over LOG_LEVEL=silent`);
  console.log(`the default's 1% costs ${cost(usual, silent)} over LOG_LEVEL=silent`);
  // The same setting measured twice shows how small a difference these rounds can tell from noise.
  const spreads = LOGGING.map(({ name }) => {
    const values = runs.filter((run) => run.logging === name).map((run) => microseconds(run.row));
    return { name, spread: Math.max(...values) - Math.min(...values) };
  }).sort((a, b) => b.spread - a.spread);
  if (LOGGING_ROUNDS > 1) {
    console.log(`noise: one setting's runs differ by up to ${number(spreads[0]!.spread)} µs per request (${spreads[0]!.name}); a difference smaller than that is not resolved here`);
  }
  const dropped = runs.reduce((sum, run) => sum + run.dropped, 0);
  console.log(`log lines the servers dropped for want of a reader (newsgraph_log_lines_dropped_total): ${number(dropped)}`);

  for (const { logging, round, row } of runs) {
    if (failures(row.run)) notes.push(`${logging}, round ${round}: ${failures(row.run)} failures${row.run.firstMismatch ? `; first: ${describeMismatch(row.run.firstMismatch)}` : ''}`);
  }
  if (notes.length) console.log(`\nnotes:\n${notes.map((note) => `- ${note}`).join('\n')}`);
}

// ---------------------------------------------------------------- processes

/** What `npm start` runs, built once when the bench starts. */
let server: { command: string; args: string[] } | undefined;

/**
 * With REDIS_URL set, the servers keep their caches in Redis, as instances scaled out do. Each
 * server started gets a key prefix of its own, so a fresh server finds an empty cache there as it
 * would in memory; the bench deletes its keys when it ends.
 */
const REDIS_URL = process.env.REDIS_URL || undefined;
const REDIS_RUN_PREFIX = `newsgraph-bench:${process.pid}-${Date.now()}:`;
let starts = 0;

/**
 * The logging settings a server starts with: the bench's own (warn, so a healthy server says
 * little), or the logging comparison's, where an unset variable is left unset, as in production.
 */
type LoggingEnv = Partial<Record<'LOG_LEVEL' | 'LOG_REQUESTS', string>>;

function newsgraphCommand(port: number, logging: LoggingEnv = { LOG_LEVEL: 'warn' }): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (!server) throw new Error('the server has not been built yet');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: STORE_URL,
    ...(REDIS_URL ? { REDIS_PREFIX: `${REDIS_RUN_PREFIX}${++starts}:` } : {}),
  };
  delete env.LOG_LEVEL;
  delete env.LOG_REQUESTS;
  return { ...server, env: { ...env, ...logging } };
}

async function dropRedisKeys(): Promise<void> {
  if (!REDIS_URL) return;
  const client = createClient({ url: REDIS_URL });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${REDIS_RUN_PREFIX}*`, COUNT: 1000 })) if (keys.length) await client.del(keys);
  } finally {
    await client.quit();
  }
}

/**
 * A newsgraph process with the bench's logging, its log in a file; or, given `logging`, with those
 * settings and its standard output read and thrown away here, as a log shipper reads it in
 * production (a file would take every line synchronously; a pipe nobody reads fills and drops them).
 */
async function startNewsgraph(logging?: LoggingEnv): Promise<Server> {
  const port = await freePort();
  const { command, args, env } = newsgraphCommand(port, logging);
  // Its log goes to a file, shown if it dies: at warn level a healthy server says little, but
  // what it says must not land in the middle of the table.
  const log = join(tmp, `newsgraph-${++logs}.log`);
  const fd = openSync(log, 'w');
  const started = performance.now();
  const child = watch(spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', logging ? 'pipe' : fd, fd] }));
  closeSync(fd);
  const output = logging ? drain(child) : undefined;
  const server: Server = { kind: 'newsgraph', child, pid: child.pid!, port, startupMs: 0, log, ...(output ? { output } : {}) };
  const base = `http://127.0.0.1:${port}`;
  // A production server logging at warn says nothing when it listens: poll /ready.
  while ((await fetch(`${base}/ready`).catch(() => null))?.status !== 200) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`newsgraph exited while starting:\n${serverTail(server)}`);
    if (performance.now() - started > 60_000) throw new Error('newsgraph did not become ready within 60 s');
    await sleep(10);
  }
  server.startupMs = performance.now() - started;
  return server;
}

function drain(child: ChildProcess): DrainedOutput {
  const output: DrainedOutput = { lines: 0, bytes: 0, tail: '' };
  child.stdout!.on('data', (chunk: Buffer) => {
    output.bytes += chunk.length;
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) output.lines++;
    output.tail = (output.tail + chunk.toString('utf8', Math.max(0, chunk.length - 2_000))).slice(-2_000);
  });
  return output;
}

/** The end of what a server wrote, for an error message. */
function serverTail(server: Server): string {
  return [server.log && tail(server.log), server.output?.tail].filter(Boolean).join('\n');
}

async function startCeiling(answers: string): Promise<Server> {
  const started = performance.now();
  const entry = fileURLToPath(new URL('./ceiling.ts', import.meta.url));
  const child = watch(spawn(process.execPath, ['--import', 'tsx', entry, answers], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the ceiling server exited with ${code} while starting`)));
  });
  return { kind: 'ceiling', child, pid: child.pid!, port, startupMs: performance.now() - started };
}

async function withCeiling<T>(workload: Workload, run: (ceiling: Server) => Promise<T>): Promise<T> {
  const file = join(tmp, 'answers.ndjson');
  await writeAnswers(file, workload);
  const ceiling = await startCeiling(file);
  try {
    return await run(ceiling);
  } finally {
    await stopChild(ceiling.child);
    rmSync(file, { force: true });
  }
}

async function writeAnswers(file: string, workload: Workload): Promise<void> {
  const out = createWriteStream(file);
  for (const [i, request] of workload.requests.entries()) {
    const expected = workload.expected[i]!;
    const line: RecordedAnswer = {
      method: request.method,
      path: request.path,
      body: request.body ?? '',
      status: expected.status,
      contentType: expected.contentType,
      response: expected.body.toString('base64'),
    };
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function watch(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then wait for it to exit (SIGKILL if it has not after 15 s). */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function buildStore(store: string): Promise<void> {
  console.log(`${store} does not exist: building it with npm run corpus -- --articles ${ARTICLES} (about 2 minutes for 100,000)`);
  const child = watch(spawn('npm', ['run', 'corpus', '--', '--articles', String(ARTICLES)], { cwd: ROOT, env: { ...process.env, DATABASE_URL: STORE_URL }, stdio: ['ignore', 'inherit', 'inherit'] }));
  const [code] = (await once(child, 'exit')) as [number | null];
  console.log();
  if (code !== 0) {
    // A half-built store would be taken for a whole one next time.
    for (const suffix of ['', '-wal', '-shm']) rmSync(store + suffix, { force: true });
    throw new Error(`building the store failed (exit ${code})`);
  }
}

/** The local services newsgraph works through in this run, by process name. */
const SERVICES = [
  ...(/^postgres(ql)?:/.test(STORE_URL) ? [{ name: 'PostgreSQL', command: 'postgres' }] : []),
  ...(REDIS_URL ? [{ name: 'Redis', command: 'redis-server' }] : []),
];

/**
 * CPU time so far of each process of those services on this machine, by pid: the work
 * newsgraph's own figure leaves out. The bench assumes nothing else uses them meanwhile.
 */
function servicesCpu(): Map<number, number> {
  const byPid = new Map<number, number>();
  if (!SERVICES.length) return byPid;
  const commands = new Set(SERVICES.map((service) => service.command));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (commands.has(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) byPid.set(Number(entry), cpuMs(Number(entry)));
    } catch {
      // The process ended while being read.
    }
  }
  return byPid;
}

/**
 * CPU used between two readings by the processes alive at the second (a PostgreSQL backend starts
 * and ends with its connection: one that ended during the run is not counted, one that started is
 * counted whole).
 */
function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** Resident memory now and at its peak, in bytes. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

// ---------------------------------------------------------------- fixtures

interface Fixtures {
  total: number;
  /** Disjoint sets of article slugs, one per use. */
  cached: string[];
  mix: string[];
  uniquePool: string[];
  warm: string[];
  uncached: string[];
  sections: string[];
  terms: string[];
}

async function collectFixtures(server: Server, database: DatabaseConfig): Promise<Fixtures> {
  type Page = { articles: { nodes: { slug: string }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } };
  const total = (await graphql<{ articles: { totalCount: number } }>(server, '{ articles(first: 1) { totalCount } }')).articles.totalCount;
  if (total < 1_000) {
    throw new Error(
      `the store holds ${total} articles; fill it first (npm run corpus -- --articles ${ARTICLES}, or npm run import -- EXPORT.jsonl into an empty store)`,
    );
  }
  const slugs: string[] = [];
  for (let after: string | null = null; slugs.length < Math.min(total, MAX_SLUGS); ) {
    const page: Page = await graphql<Page>(server, 'query Slugs($after: String) { articles(first: 100, after: $after) { nodes { slug } pageInfo { endCursor hasNextPage } } }', { after });
    slugs.push(...page.articles.nodes.map((node) => node.slug));
    if (!page.articles.pageInfo.hasNextPage) break;
    after = page.articles.pageInfo.endCursor;
  }
  shuffle(slugs, random(1));
  // Each use takes its own slugs, so no scenario warms another's articles; a small store shrinks them all.
  let taken = 0;
  const take = (wanted: number) => slugs.slice(taken, (taken += Math.min(wanted, Math.floor(slugs.length / 10))));
  const cached = take(1_000);
  const mix = take(5_000);
  const uniquePool = take(2_000);
  const warm = take(2_000);
  const uncached = slugs.slice(taken);
  const sections = (await graphql<{ sections: { slug: string }[] }>(server, '{ sections { slug } }')).sections.map((section) => section.slug);
  return { total, cached, mix, uniquePool, warm, uncached, sections, terms: await searchTerms(database, 50) };
}

/**
 * Search words from the store's own term statistics (read directly, for choosing fixtures only):
 * Chinese words of two to four characters at evenly spaced ranks of how many articles hold them,
 * so a few very common words and many ordinary and rare ones, as readers type them.
 */
async function searchTerms(database: DatabaseConfig, count: number): Promise<string[]> {
  const statistics = 'SELECT term FROM search_terms WHERE articles > 1 ORDER BY articles DESC, term';
  let terms: string[];
  if (database.kind === 'sqlite') {
    const db = new Database(database.path, { readonly: true, fileMustExist: true });
    try {
      terms = (db.prepare(statistics).all() as { term: string }[]).map((row) => row.term);
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // ORDER BY term in the C collation, as SQLite compares: the same store gives the same words.
      terms = (await client.query<{ term: string }>(`${statistics} COLLATE "C"`)).rows.map((row) => row.term);
    } finally {
      await client.end();
    }
  }
  const words = terms.filter((term) => /^\p{Script=Han}{2,4}$/u.test(term));
  if (words.length < count) throw new Error(`the store holds only ${words.length} usable search words`);
  return Array.from({ length: count }, (_, i) => words[Math.floor((i * words.length) / count)]!);
}

/** The store as the report names it: a SQLite path, or a PostgreSQL URL without its password. */
function describeStore(database: DatabaseConfig): string {
  if (database.kind === 'sqlite') return database.path;
  const url = new URL(database.url);
  if (url.password) url.password = '***';
  return `PostgreSQL ${url.href}`;
}

const memoryReports: string[] = [];

/** newsgraph's /metrics, as a reader of one metric by name (without the `newsgraph_` prefix; NaN if absent). */
async function scrape(server: Server): Promise<Scraped> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^newsgraph_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return Object.assign(metric, { gc: gcTotals(text) });
}

type Scraped = ((name: string) => number) & { gc: GcTotals };

/** Garbage collections by kind (major, minor, incremental, weakcb) since the process started: how many, their time, and how many took 10 ms or more. */
type GcTotals = Map<string, { count: number; seconds: number; over10ms: number }>;

function gcTotals(text: string): GcTotals {
  const totals: GcTotals = new Map();
  const of = (kind: string) => totals.get(kind) ?? totals.set(kind, { count: 0, seconds: 0, over10ms: 0 }).get(kind)!;
  const under10ms = new Map<string, number>();
  for (const [, suffix, labels, value] of text.matchAll(/^newsgraph_nodejs_gc_duration_seconds_(count|sum|bucket)\{([^}]*)\} (\S+)$/gm)) {
    const kind = /kind="([^"]+)"/.exec(labels!)?.[1] ?? '?';
    if (suffix === 'count') of(kind).count = Number(value);
    else if (suffix === 'sum') of(kind).seconds = Number(value);
    else if (/le="0\.01"/.test(labels!)) under10ms.set(kind, Number(value));
  }
  for (const [kind, total] of totals) total.over10ms = total.count - (under10ms.get(kind) ?? 0);
  return totals;
}

function gcSince(before: GcTotals, after: GcTotals): GcTotals {
  const since: GcTotals = new Map();
  for (const [kind, total] of after) {
    const was = before.get(kind) ?? { count: 0, seconds: 0, over10ms: 0 };
    since.set(kind, { count: total.count - was.count, seconds: total.seconds - was.seconds, over10ms: total.over10ms - was.over10ms });
  }
  return since;
}

/**
 * Where a newsgraph process's memory is, as it reports it: resident, V8's heap (used of what it
 * holds), memory outside the heap (Buffers, among them the response cache's bodies), and the
 * response cache's own count. Whatever RSS holds beyond heap and external is native: jieba's
 * tables, SQLite, the allocator's free lists, code.
 */
async function memoryReport(server: Server, when: string): Promise<string> {
  const metric = await scrape(server);
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const { rss, peak } = memory(server.pid);
  const heapUsed = metric('nodejs_heap_size_used_bytes');
  const heapTotal = metric('nodejs_heap_size_total_bytes');
  const external = metric('nodejs_external_memory_bytes');
  const native = rss - heapTotal - external;
  const cache = metric('response_cache_bytes');
  const cached = Number.isNaN(cache) ? 'the response cache is in Redis' : `response cache ${mib(cache)}`;
  return `${when}: RSS ${mib(rss)} (peak ${mib(peak)}); V8 heap ${mib(heapUsed)} used of ${mib(heapTotal)}; external ${mib(external)} (${cached}); the rest ${mib(native)}`;
}

async function graphql<T>(server: Server, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${server.port}/graphql`, { method: 'POST', headers: JSON_POST, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (response.status !== 200 || body.errors || !body.data) throw new Error(`fixture query failed (${response.status}): ${JSON.stringify(body).slice(0, 500)}`);
  return body.data;
}

// ---------------------------------------------------------------- requests and workloads

function articlePost(slug: string, once = false): BenchRequest {
  return post(`ArticlePage ${slug}`, ARTICLE_PAGE, { slug }, once);
}

function post(label: string, query: string, variables: Record<string, unknown>, once = false): BenchRequest {
  return { method: 'POST', path: '/graphql', headers: JSON_POST, body: JSON.stringify({ query, variables }), once, label };
}

function persistedGet(op: Operation, variables: Record<string, unknown>, label: string): BenchRequest {
  const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: op.sha256 } });
  const path = `/graphql?operationName=${op.name}&variables=${encodeURIComponent(JSON.stringify(variables))}&extensions=${encodeURIComponent(extensions)}`;
  return { method: 'GET', path, headers: PREFLIGHT, once: false, label };
}

function listWorkload(name: string, requests: BenchRequest[]): Workload {
  return { name, requests, order: requests.map((_, i) => i), expected: requests.map(() => undefined) };
}

/**
 * The portal's traffic: 60% article pages over ~5,000 articles, 25% section pages, 10% searches
 * over 50 words, 5% unique queries; pre-shuffled with a fixed seed and walked in order by all
 * connections together, so the shares hold over any stretch of the run. Unique queries are
 * numbered from `firstUnique`, so no two workloads sent to one process share one.
 */
function mixWorkload(name: string, fixtures: Fixtures, canonicals: Map<string, Expected>, { apq, firstUnique }: { apq: boolean; firstUnique: number }): Workload {
  const next = random(7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const requests: BenchRequest[] = [];
  const expected: (Expected | undefined)[] = [];
  const known = new Map<string, number>();
  const order: number[] = [];
  const shared = (label: string, op: Operation, variables: Record<string, unknown>) => {
    let index = known.get(label);
    if (index === undefined) {
      index = requests.push(apq ? persistedGet(op, variables, label) : post(label, op.query, variables)) - 1;
      expected.push(undefined);
      known.set(label, index);
    }
    return index;
  };
  let unique = firstUnique;
  for (let i = 0; i < MIX_LENGTH; i++) {
    const share = next();
    if (share < 0.6) {
      const slug = pick(fixtures.mix);
      order.push(shared(`ArticlePage ${slug}`, OPERATIONS.article, { slug }));
    } else if (share < 0.85) {
      const slug = pick(fixtures.sections);
      order.push(shared(`SectionPage ${slug}`, OPERATIONS.section, { slug }));
    } else if (share < 0.95) {
      const term = pick(fixtures.terms);
      order.push(shared(`Search ${term}`, OPERATIONS.search, { query: term }));
    } else {
      const n = unique++;
      const slug = fixtures.uniquePool[n % fixtures.uniquePool.length]!;
      order.push(requests.push(post(`Unique u${n} ${slug}`, uniqueQuery(n), { slug }, true)) - 1);
      expected.push(uniqueAnswer(canonicals.get(slug)!, n));
    }
  }
  return { name, requests, order, expected };
}

// ---------------------------------------------------------------- recording the answers

/** Answers by server process and request, so a list is fetched from a process only once. */
const answered = new Map<string, Expected>();
/** The first answer any process gave to each request, to catch answers that change between processes. */
const firstAnswers = new Map<string, Buffer>();
const requestKey = (request: BenchRequest) => `${request.method} ${request.path}\n${request.body ?? ''}`;

/** Fetches every distinct request of the workload that has no answer yet once: the answers to expect, and a warm-up. */
async function record(server: Server, workload: Workload, notes: string[]): Promise<void> {
  // Once-only requests are never fetched here: unique queries' answers are derived, uncached ones recorded apart.
  const shared = workload.requests.flatMap((request, i) => (request.once ? [] : [i]));
  const fresh = shared.filter((i) => !answered.has(`${server.pid} ${requestKey(workload.requests[i]!)}`)).length;
  if (fresh) progress(`${workload.name}: fetching ${fresh.toLocaleString('en')} distinct requests once from newsgraph (the answers to expect, and a warm-up)`);
  let changed = 0;
  let example = '';
  await inParallel(shared, CONNECTIONS, async (i) => {
    const request = workload.requests[i]!;
    const key = requestKey(request);
    let answer = answered.get(`${server.pid} ${key}`);
    if (!answer) {
      answer = await fetchAnswer(server, request);
      answered.set(`${server.pid} ${key}`, answer);
      const first = firstAnswers.get(key);
      if (!first) firstAnswers.set(key, answer.body);
      else if (!first.equals(answer.body)) {
        changed++;
        example ||= `${request.label}: ${describeDifference(first, answer.body)}`;
      }
    }
    workload.expected[i] = answer;
  });
  if (changed) notes.push(`${workload.name}: ${changed} answers differ from an earlier newsgraph process's answer to the same request; e.g. ${example}`);
}

/**
 * The uncached list is recorded the way it will be sent: autocannon over unused articles, each
 * once, for twice the run's length, so the fresh process can answer twice as fast before it runs
 * out. Only what was answered makes the list.
 */
async function recordUncached(server: Server, slugs: string[], notes: string[]): Promise<Workload> {
  const candidates = listWorkload('uncached recording', slugs.map((slug) => articlePost(slug, true)));
  const answers = new Map<number, Expected>();
  progress(`uncached ArticlePage: recording answers for ${2 * SECONDS} s from this newsgraph process`);
  const run = await drive({
    port: server.port,
    workload: candidates,
    cursor: { next: 0 },
    seconds: 2 * SECONDS,
    connections: CONNECTIONS,
    verify: false,
    enforceOnce: true,
    capture: (slot, answer) => answers.set(slot, answer),
  });
  const slots = [...answers.keys()].sort((a, b) => a - b);
  for (const slot of slots) {
    const { body } = answers.get(slot)!;
    if ((JSON.parse(body.toString()) as { errors?: unknown }).errors) throw new Error(`${candidates.requests[slot]!.label} answered with errors: ${body.toString().slice(0, 500)}`);
  }
  if (run.repeats) notes.push(`uncached ArticlePage: the store's ${slugs.length} unused articles ran out while recording; the uncached row is not trustworthy`);
  if (run.non2xx || run.errors) notes.push(`uncached ArticlePage: ${run.non2xx} non-2xx answers and ${run.errors} errors while recording (left out of the list)`);
  progress(`uncached ArticlePage: recorded ${slots.length.toLocaleString('en')} answers (${Math.round(run.good / run.seconds)} req/s)`);
  const requests = slots.map((slot) => candidates.requests[slot]!);
  return { name: 'uncached ArticlePage', requests, order: requests.map((_, i) => i), expected: slots.map((slot) => answers.get(slot)!) };
}

/** Each unique query's answer is the answer to its `u0` form with the alias renumbered; the `u0` forms are fetched from the first process only. */
async function recordUniqueCanonicals(server: Server, slugs: string[]): Promise<Map<string, Expected>> {
  const canonicals = new Map<string, Expected>();
  await inParallel(slugs, CONNECTIONS, async (slug) => {
    const answer = await fetchAnswer(server, post(`Unique u0 ${slug}`, uniqueQuery(0), { slug }));
    uniqueAnswer(answer, 1);
    canonicals.set(slug, answer);
  });
  return canonicals;
}

function uniqueAnswer(canonical: Expected, n: number): Expected {
  const text = canonical.body.toString();
  const alias = ',"u0":"';
  const at = text.lastIndexOf(alias);
  if (at < 0 || text.indexOf(alias) !== at) throw new Error(`unexpected answer to the unique query: ${text.slice(0, 300)}`);
  return { ...canonical, body: Buffer.from(`${text.slice(0, at)},"u${n}":"${text.slice(at + alias.length)}`) };
}

async function registerPersistedQueries(server: Server, fixtures: Fixtures): Promise<void> {
  const examples: [Operation, Record<string, unknown>][] = [
    [OPERATIONS.article, { slug: fixtures.mix[0] }],
    [OPERATIONS.section, { slug: fixtures.sections[0] }],
    [OPERATIONS.search, { query: fixtures.terms[0] }],
  ];
  for (const [op, variables] of examples) {
    const extensions = { persistedQuery: { version: 1, sha256Hash: op.sha256 } };
    const response = await fetch(`http://127.0.0.1:${server.port}/graphql`, { method: 'POST', headers: JSON_POST, body: JSON.stringify({ query: op.query, variables, extensions }) });
    const text = await response.text();
    if (response.status !== 200 || text.includes('"errors"')) throw new Error(`registering ${op.name} as a persisted query failed (${response.status}): ${text.slice(0, 300)}`);
  }
}

async function fetchAnswer(server: Server, request: BenchRequest): Promise<Expected> {
  const response = await fetch(`http://127.0.0.1:${server.port}${request.path}`, { method: request.method, headers: request.headers, body: request.body });
  const body = Buffer.from(await response.arrayBuffer());
  // An error is never the answer to expect: the fixture itself is broken.
  if (response.status < 200 || response.status > 299 || (JSON.parse(body.toString()) as { errors?: unknown }).errors) {
    throw new Error(`${request.label} answered ${response.status}: ${body.toString().slice(0, 500)}`);
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
}

// ---------------------------------------------------------------- measuring

async function measure(
  scenario: string,
  server: Server,
  workload: Workload,
  { warmup, verifyWarmup = true, target }: { warmup: Workload; verifyWarmup?: boolean; target?: Row['target'] },
): Promise<Row> {
  const common = { port: server.port, connections: CONNECTIONS, enforceOnce: server.kind === 'newsgraph' };
  const load = (options: Parameters<typeof drive>[0]) =>
    target?.pacing === 'even' ? pace({ ...options, connections: PACED_CONNECTIONS, rate: target.rate }) : drive({ ...options, ...(target ? { rate: target.rate } : {}) });
  const what = `${scenario}${target ? ` at ${Math.round(target.rate)} req/s (${target.pacing}, ${percent(target.share)})` : ''}`;
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
  const logged = server.output && loggedBefore && { lines: server.output.lines - loggedBefore.lines, bytes: server.output.bytes - loggedBefore.bytes };
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
      ...(serverLoop ? { server: { max: serverLoop('nodejs_eventloop_lag_max_seconds') * 1000, p99: serverLoop('nodejs_eventloop_lag_p99_seconds') * 1000 } } : {}),
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

// ---------------------------------------------------------------- report

interface Report {
  store: string;
  fixtures: Fixtures;
  uncachedCount: number;
  startups: number[];
  rows: Row[];
  atRate: Row[];
  /** newsgraph's highest peak RSS over its processes. */
  peak: number;
  notes: string[];
}

const failures = (run: RunResult) => run.non2xx + run.mismatched + run.repeats + run.errors;
const percent = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

function printReport({ store, fixtures, uncachedCount, startups, rows, atRate, peak, notes }: Report): void {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const share = (row: Row) => {
    const ceiling = rows.find((other) => other.scenario === row.scenario && other.server === 'ceiling');
    return row.server === 'newsgraph' && ceiling ? row.rps / ceiling.rps : undefined;
  };
  const mib = (bytes: number) => (bytes / (1 << 20)).toFixed(0);
  const number = (value: number) => Math.round(value).toLocaleString('en');
  const measured = (row: Row) => [
    formatMs(row.run.latency.p50),
    formatMs(row.run.latency.p99),
    formatMs(row.cpuMsPerRequest),
    `${mib(row.rss)} (${mib(row.peak)})`,
    String(failures(row.run)),
  ];
  const table = (header: string[], body: string[][]) => [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');

  console.log(`\nnewsgraph over HTTP: ${fixtures.total.toLocaleString('en')} articles in ${store}${REDIS_URL ? `; caches in Redis (${REDIS_URL})` : ''}`);
  console.log(`${cpu}, ${availableParallelism()} cores; node ${process.version}; the load generator runs in the bench process`);
  console.log(`${CONNECTIONS} connections (even-paced runs: up to ${PACED_CONNECTIONS}, opened as needed), pipelining 1, ${SECONDS} s runs after ${WARMUP_SECONDS} s warm-ups; start-up (spawn to /ready 200): ${startups.map((ms) => `${number(ms)} ms`).join(', restart ')}`);
  console.log(
    `requests: cached over ${fixtures.cached.length.toLocaleString('en')} articles; uncached over ${number(uncachedCount)} recorded ones, none sent twice; ` +
      `mix over ${fixtures.mix.length.toLocaleString('en')} articles, ${fixtures.sections.length} sections, ${fixtures.terms.length} search words (${fixtures.terms.slice(0, 4).join(' ')} …) and unique queries\n`,
  );
  console.log(
    table(
      ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'RSS MiB (peak)', 'failures', '% of ceiling'],
      rows.map((row) => {
        const ratio = share(row);
        return [row.scenario, row.server, number(row.rps), ...measured(row), ratio === undefined ? '—' : percent(ratio)];
      }),
    ),
  );
  console.log(
    '\nnewsgraph at a fixed 80% of its max req/s, and lower where the even p99 was over 20 ms (autocannon: its per-connection quota each second; even: open loop, latency from when each request was due):\n',
  );
  console.log(
    table(
      ['scenario', 'server', 'pacing', 'share of max', 'target req/s', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'RSS MiB (peak)', 'failures'],
      atRate.map((row) => [row.scenario, row.server, row.target?.pacing ?? '', percent(row.target?.share ?? 0), number(row.target?.rate ?? 0), number(row.rps), ...measured(row)]),
    ),
  );

  // With the load generator on the same machine, a ceiling that is not using its core was held
  // back by the client or the kernel: its req/s is this machine's limit, not the server's.
  const services = SERVICES.length ? ` / ${SERVICES.map((service) => service.name).join(' and ')}` : '';
  console.log(`\nCPU during each run, share of one core (server / load generator${services}; ${availableParallelism()} cores in all):`);
  for (const row of [...rows, ...atRate]) {
    const name = `${row.scenario}${row.target ? ` at ${percent(row.target.share)} (${row.target.pacing})` : ''}, ${row.server}`;
    const used = row.servicesCpu === undefined ? '' : ` / ${percent(row.servicesCpu)}`;
    console.log(`  ${name.padEnd(52)} ${percent(row.serverCpu).padStart(6)} / ${percent(row.clientCpu)}${used}`);
  }

  // Little's law: the connections an even-paced run needed are its rate times its latency, peaks included.
  const paced = atRate.filter((row) => row.run.opened !== undefined);
  if (paced.length) {
    console.log(`\nconnections each even-paced run opened (of up to ${PACED_CONNECTIONS}), the most requests in flight at once:`);
    for (const row of paced) console.log(`  ${`${row.scenario} at ${percent(row.target!.share)}, ${row.server}`.padEnd(52)} ${String(row.run.opened).padStart(6)}`);
  }

  // A stalled event loop delays every request in flight: the server's, or the load generator's own.
  console.log('\nevent-loop delay during each newsgraph run, max / p99 ms (server; load generator), sampled every 10 ms, so 10 ms is on time:');
  for (const row of [...rows, ...atRate].filter((row) => row.server === 'newsgraph')) {
    const name = `${row.scenario}${row.target ? ` at ${percent(row.target.share)} (${row.target.pacing})` : ''}`;
    const { server, client } = row.loopDelay;
    const pair = (delay?: { max: number; p99: number }) => (delay ? `${formatMs(delay.max)} / ${formatMs(delay.p99)}` : '—');
    console.log(`  ${name.padEnd(52)} ${pair(server).padStart(15)};  ${pair(client)}`);
  }

  // V8 collects on the main thread too: a long collection stalls the loop like any synchronous work.
  console.log('\ngarbage collection in newsgraph during each run, by kind: count, total ms, how many took 10 ms or more:');
  for (const row of [...rows, ...atRate].filter((row) => row.gc)) {
    const name = `${row.scenario}${row.target ? ` at ${percent(row.target.share)} (${row.target.pacing})` : ''}`;
    const kinds = ['minor', 'major', 'incremental'].map((kind) => {
      const total = row.gc!.get(kind) ?? { count: 0, seconds: 0, over10ms: 0 };
      return `${kind} ${total.count}, ${formatMs(total.seconds * 1000)} ms, ${total.over10ms} ≥ 10 ms`;
    });
    console.log(`  ${name.padEnd(52)} ${kinds.join('; ')}`);
  }

  for (const row of [...rows, ...atRate]) {
    const { run } = row;
    if (!failures(run)) continue;
    const kinds = [
      run.non2xx && `${run.non2xx} non-2xx`,
      run.mismatched && `${run.mismatched} mismatched`,
      run.repeats && `${run.repeats} repeats of a once-only request (the list ran out)`,
      run.errors && `${run.errors} connection errors or timeouts`,
    ].filter(Boolean);
    const name = `${row.scenario}${row.target ? ` at ${percent(row.target.share)} (${row.target.pacing})` : ''}, ${row.server}`;
    notes.push(`${name}: ${kinds.join(', ')}${run.firstMismatch ? `; first: ${describeMismatch(run.firstMismatch)}` : ''}`);
  }
  for (const row of atRate) {
    const lag = row.run.sendLag;
    // Timers fire at best every millisecond, so up to a millisecond late is the pacer's own grain.
    if (row.run.opened !== undefined && row.run.opened >= PACED_CONNECTIONS) {
      notes.push(`${row.scenario} at ${percent(row.target!.share)} (even), ${row.server}: all ${PACED_CONNECTIONS} connections were in use at some point, so requests also waited for one`);
    }
    if (lag && lag.p99 > 2) notes.push(`${row.scenario} at ${percent(row.target!.share)} (even), ${row.server}: requests left the bench up to ${formatMs(lag.p99)} ms late (p99), counted in their latency: the load generator was short of CPU`);
  }
  if (notes.length) console.log(`\nnotes:\n${notes.map((note) => `- ${note}`).join('\n')}`);

  const ratio = (scenario: string) => share(rows.find((row) => row.scenario === scenario && row.server === 'newsgraph')!) ?? 0;
  const check = (met: boolean, text: string) => console.log(`- ${met ? 'met    ' : 'NOT MET'}  ${text}`);
  console.log('\ntargets:');
  check(ratio('cached ArticlePage') >= 0.8, `cached ArticlePage ≥ 80% of ceiling: ${percent(ratio('cached ArticlePage'))}`);
  check(ratio('uncached ArticlePage') >= 0.4, `uncached ArticlePage ≥ 40% of ceiling: ${percent(ratio('uncached ArticlePage'))}`);
  const even = (server: Server['kind']) => atRate.filter((row) => row.server === server && row.target?.pacing === 'even');
  for (const row of even('newsgraph').filter((row) => row.target!.share === 0.8)) {
    check(row.run.latency.p99 <= 20 && !failures(row.run), `${row.scenario} p99 ≤ 20 ms at 80% of max (even pacing): ${formatMs(row.run.latency.p99)} ms`);
    const lower = even('newsgraph').filter((other) => other.scenario === row.scenario && other.target!.share < 0.8);
    const holds = lower.find((other) => other.run.latency.p99 <= 20 && !failures(other.run));
    if (lower.length) {
      console.log(`           ${holds ? `it holds at ${percent(holds.target!.share)} of max (${formatMs(holds.run.latency.p99)} ms)` : `not even at ${percent(lower.at(-1)!.target!.share)} of max (${formatMs(lower.at(-1)!.run.latency.p99)} ms)`}`);
    }
    const ceilings = even('ceiling').filter((other) => other.scenario === row.scenario);
    if (ceilings.length) {
      const p99s = ceilings.map((other) => `${formatMs(other.run.latency.p99)} ms at ${percent(other.target!.share)}`).join(', ');
      console.log(`           the ceiling, paced the same with the same requests: p99 ${p99s}`);
    }
  }
  check(peak <= 300e6, `newsgraph peak RSS ≤ 300 MB: ${(peak / 1e6).toFixed(0)} MB (${mib(peak)} MiB)`);
  for (const [i, ms] of startups.entries()) check(ms <= 1500, `start-up ≤ 1.5 s${i ? ' (restart)' : ''}: ${number(ms)} ms`);
}

function describeMismatch({ request, expected, status, contentType, body }: Mismatch): string {
  const parts = [request.label];
  if (!expected) return `${request.label}: no answer recorded`;
  if (status !== expected.status) parts.push(`status ${status}, expected ${expected.status}`);
  if (contentType !== expected.contentType) parts.push(`content-type "${contentType}", expected "${expected.contentType}"`);
  if (!body.equals(expected.body)) parts.push(describeDifference(expected.body, body));
  return parts.join('; ');
}

/** Where two JSON answers first differ, as a path; the start of the text when one is not JSON. */
function describeDifference(expected: Buffer, actual: Buffer): string {
  let want: unknown;
  let got: unknown;
  try {
    want = JSON.parse(expected.toString());
    got = JSON.parse(actual.toString());
  } catch {
    return `body ${JSON.stringify(actual.toString().slice(0, 200))}`;
  }
  return firstDifference(want, got, '') ?? 'same JSON, different bytes (key order or spacing)';
}

function firstDifference(want: unknown, got: unknown, path: string): string | undefined {
  if (Object.is(want, got)) return undefined;
  const show = (value: unknown) => JSON.stringify(value)?.slice(0, 120) ?? 'undefined';
  if (typeof want !== 'object' || typeof got !== 'object' || want === null || got === null || Array.isArray(want) !== Array.isArray(got)) {
    return `${path || '(root)'}: expected ${show(want)}, got ${show(got)}`;
  }
  for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const difference = firstDifference(Reflect.get(want, key), Reflect.get(got, key), Array.isArray(want) ? `${path}[${key}]` : path ? `${path}.${key}` : key);
    if (difference) return difference;
  }
  return undefined;
}

// ---------------------------------------------------------------- small helpers

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** mulberry32: the same "random" choices on every run, so every run sends the same lists. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], next: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

function tail(file: string): string {
  return readFileSync(file, 'utf8').slice(-2_000);
}

function progress(message: string): void {
  console.error(`· ${message}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function shutdown(): Promise<void> {
  await Promise.all([...children].map(stopChild));
  rmSync(tmp, { recursive: true, force: true });
  await dropRedisKeys();
}

// Children and temporary files go with the bench however it ends.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping the servers`);
    void shutdown().finally(() => process.exit(130));
  });
}

main()
  .then(shutdown)
  .catch(async (error: unknown) => {
    console.error(error);
    await shutdown();
    process.exit(1);
  });
