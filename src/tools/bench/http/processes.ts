// Process control for npm run bench: starting and stopping newsgraph (as npm start runs it) and the
// ceiling server, and reading what they use: CPU and memory from /proc, newsgraph's own /metrics.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, createWriteStream, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import type { RecordedAnswer } from '../ceiling.js';
import type { Workload } from '../load.js';
import { cpuMs, freePort, serverCommand } from '../server-command.js';
import { ARTICLES, REDIS_URL, ROOT, STORE_URL } from './settings.js';

export interface Server {
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
export interface DrainedOutput {
  lines: number;
  bytes: number;
  tail: string;
}

const children = new Set<ChildProcess>();
const tmp = mkdtempSync(join(tmpdir(), 'newsgraph-bench-'));
let logs = 0;

/** What `npm start` runs, built once when the bench starts. */
let server: { command: string; args: string[] } | undefined;

export function buildNewsgraph(): void {
  server = serverCommand();
}

const REDIS_RUN_PREFIX = `newsgraph-bench:${process.pid}-${Date.now()}:`;
let starts = 0;

/**
 * The logging settings a server starts with: the bench's own (warn, so a healthy server says
 * little), or the logging comparison's, where an unset variable is left unset, as in production.
 */
export type LoggingEnv = Partial<Record<'LOG_LEVEL' | 'LOG_REQUESTS', string>>;

function newsgraphCommand(
  port: number,
  logging: LoggingEnv = { LOG_LEVEL: 'warn' },
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
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
export async function startNewsgraph(logging?: LoggingEnv): Promise<Server> {
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
export function serverTail(server: Server): string {
  return [server.log && tail(server.log), server.output?.tail].filter(Boolean).join('\n');
}

async function startCeiling(answers: string): Promise<Server> {
  const started = performance.now();
  const entry = fileURLToPath(new URL('../ceiling.ts', import.meta.url));
  const child = watch(
    spawn(process.execPath, ['--import', 'tsx', entry, answers], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the ceiling server exited with ${code} while starting`)));
  });
  return { kind: 'ceiling', child, pid: child.pid!, port, startupMs: performance.now() - started };
}

export async function withCeiling<T>(workload: Workload, run: (ceiling: Server) => Promise<T>): Promise<T> {
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
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export async function buildStore(store: string): Promise<void> {
  console.log(`${store} does not exist: building it with npm run corpus -- --articles ${ARTICLES} (about 2 minutes for 100,000)`);
  const child = watch(
    spawn('npm', ['run', 'corpus', '--', '--articles', String(ARTICLES)], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: STORE_URL },
      stdio: ['ignore', 'inherit', 'inherit'],
    }),
  );
  const [code] = (await once(child, 'exit')) as [number | null];
  console.log();
  if (code !== 0) {
    // A half-built store would be taken for a whole one next time.
    for (const suffix of ['', '-wal', '-shm']) rmSync(store + suffix, { force: true });
    throw new Error(`building the store failed (exit ${code})`);
  }
}

/** The local services newsgraph works through in this run, by process name. */
export const SERVICES = [
  ...(/^postgres(ql)?:/.test(STORE_URL) ? [{ name: 'PostgreSQL', command: 'postgres' }] : []),
  ...(REDIS_URL ? [{ name: 'Redis', command: 'redis-server' }] : []),
];

/**
 * CPU time so far of each process of those services on this machine, by pid: the work
 * newsgraph's own figure leaves out. The bench assumes nothing else uses them meanwhile.
 */
export function servicesCpu(): Map<number, number> {
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
export function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** Resident memory now and at its peak, in bytes. */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** newsgraph's /metrics, as a reader of one metric by name (without the `newsgraph_` prefix; NaN if absent). */
export async function scrape(server: Server): Promise<Scraped> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^newsgraph_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return Object.assign(metric, { gc: gcTotals(text) });
}

type Scraped = ((name: string) => number) & { gc: GcTotals };

/** Garbage collections by kind (major, minor, incremental, weakcb) since the process started: how many, their time, and how many took 10 ms or more. */
export type GcTotals = Map<string, { count: number; seconds: number; over10ms: number }>;

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

export function gcSince(before: GcTotals, after: GcTotals): GcTotals {
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
export async function memoryReport(server: Server, when: string): Promise<string> {
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

function tail(file: string): string {
  return readFileSync(file, 'utf8').slice(-2_000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function shutdown(): Promise<void> {
  await Promise.all([...children].map(stopChild));
  rmSync(tmp, { recursive: true, force: true });
  await dropRedisKeys();
}

/** For a process already exiting, which cannot wait: every child killed, the temporary files gone. */
export function killNow(): void {
  for (const child of children) child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
