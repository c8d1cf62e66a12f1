// The faults issue 15 names, each run against infrastructure of its own with readers and editors
// going, measured the same way: requests, errors by code, stale answers, lost acknowledged writes,
// the longest waits, the time to recover after the dependency returns, and process exits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  type CutMode,
  type Instance,
  mountTmpfs,
  type PostgresCluster,
  PRODUCTION_LIKE_ENV,
  type RedisServer,
  startInstance,
  startPostgresCluster,
  startRedis,
  TcpRelay,
  writeEditorToken,
} from './infra.js';
import {
  createArticles,
  findLostWrites,
  Ledger,
  type LostWritesCheck,
  measureRecovery,
  type Outcome,
  post,
  QUERIES,
  type ReadKind,
  type Recovery,
  summarize,
  type Target,
  type TrackedArticle,
  Workload,
  warmUp,
} from './workload.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const REQUEST_TIMEOUT_MS = Number(PRODUCTION_LIKE_ENV.REQUEST_TIMEOUT_MS);
export const SHUTDOWN_TIMEOUT_MS = Number(PRODUCTION_LIKE_ENV.SHUTDOWN_TIMEOUT_MS);
/** How long the client waits for any answer before it gives up on a request. */
const CLIENT_TIMEOUT_MS = REQUEST_TIMEOUT_MS + 5_000;
/** Traffic before the fault, so every cache holds the pages and the baseline is seen. */
const BEFORE_MS = 2_000;
/** Traffic after recovery, so late failures show too. */
const AFTER_MS = 2_000;

/** What one fault did to the service, as the table prints it. */
export interface FaultResult {
  name: string;
  description: string;
  summary: ReturnType<typeof summarize>;
  lost: LostWritesCheck | null;
  /** 'n/a' where no dependency goes away and comes back. */
  recovery: Recovery | 'n/a' | null;
  /** Exits nobody asked for: "A: code 1 after 3.2 s". */
  exits: string[];
  /** Per-fault findings beyond the columns. */
  notes: string[];
  /** Targets of this fault beyond the common ones (name → met, with detail). */
  extraTargets: { name: string; met: boolean; detail: string }[];
  /** Set when the harness could not run the fault to the end. */
  harnessError: string | null;
}

/** Async clean-ups run last-in first-out, each once, whatever failed before. */
export class Teardown {
  private readonly steps: { what: string; step: () => Promise<unknown> }[] = [];
  readonly problems: string[] = [];

  add(what: string, step: () => Promise<unknown> | unknown): void {
    this.steps.push({ what, step: async () => step() });
  }

  async run(): Promise<void> {
    for (let next = this.steps.pop(); next; next = this.steps.pop()) {
      await next.step().catch((error: unknown) => this.problems.push(`${next?.what}: ${(error as Error).message.split('\n')[0]}`));
    }
  }
}

export interface ScenarioContext {
  teardown: Teardown;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  run(context: ScenarioContext): Promise<FaultResult>;
}

const targetOf = (instance: Instance): Target => ({ name: instance.name, address: instance.address });

/** Watches instances for exits nobody asked for. */
class ExitWatch {
  readonly exits: string[] = [];
  private readonly expected = new Set<string>();
  private closed = false;

  constructor(
    instances: Instance[],
    private readonly since: number,
  ) {
    for (const instance of instances) this.watch(instance);
  }

  watch(instance: Instance): void {
    void instance.exited.then(({ code, signal, at }) => {
      if (this.closed || this.expected.has(instance.name)) return;
      this.exits.push(
        `${instance.name}: ${signal ?? `code ${code}`} at +${((at - this.since) / 1000).toFixed(1)} s (${lastWords(instance.output())})`,
      );
    });
  }

  /** The fault is over: exits from here on are the harness's own teardown. */
  close(): string[] {
    this.closed = true;
    return [...this.exits];
  }

  /** The harness itself stops `instance` from here on. */
  expect(instance: Instance): void {
    this.expected.add(instance.name);
  }
}

/** What a process said last before it exited: the last error line it printed, else its last line, shortened. */
function lastWords(output: string): string {
  const lines = output
    .split('\n')
    .slice(-80)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^Node\.js v\d/.test(line));
  const error = lines.filter((line) => !line.startsWith('{') && /^[\w.]*(error|exception)\b[^:]*:/i.test(line)).pop();
  return (error ?? lines.pop() ?? 'no output').slice(0, 300);
}

/** Stops an instance at teardown: draining again first, so a stalled one can exit. */
function stopAtTeardown(teardown: Teardown, watch: ExitWatch | null, instance: Instance): void {
  teardown.add(`stop ${instance.name}`, async () => {
    watch?.expect(instance);
    instance.resumeDraining();
    await instance.stop({ timeoutMs: SHUTDOWN_TIMEOUT_MS + 5_000 });
  });
}

/** Two instances over a fresh PostgreSQL cluster and a fresh Redis, with four articles: two to edit, two to probe. */
interface TwoInstanceStack {
  pg: PostgresCluster;
  redis: RedisServer;
  /** Between instance A and Redis, when asked for. */
  relay: TcpRelay | null;
  a: Instance;
  b: Instance;
  token: string;
  edited: [TrackedArticle, TrackedArticle];
  probes: [TrackedArticle, TrackedArticle];
  env: Record<string, string>;
}

async function twoInstanceStack(
  name: string,
  { teardown, log }: ScenarioContext,
  { relayA = false, env = {} }: { relayA?: boolean; env?: Record<string, string> } = {},
): Promise<TwoInstanceStack> {
  log('starting a PostgreSQL cluster and redis-server');
  const [pgCluster, redis] = await Promise.all([startPostgresCluster(), startRedis()]);
  teardown.add('stop PostgreSQL', () => pgCluster.stop());
  teardown.add('stop Redis', () => redis.stop());
  const relay = relayA ? await TcpRelay.start({ port: redis.port }) : null;
  if (relay) teardown.add('close the relay', () => relay.close());
  const dir = mkdtempSync(join(tmpdir(), 'newsgraph-faults-'));
  teardown.add('remove the tokens folder', () => rmSync(dir, { recursive: true, force: true }));
  const tokensFile = join(dir, 'tokens.json');
  const token = await writeEditorToken(tokensFile);
  const common = { DATABASE_URL: pgCluster.url, NEWSGRAPH_TOKENS_FILE: tokensFile, REDIS_PREFIX: 'newsgraph:', ...env };
  log('starting instances A and B');
  const [a, b] = await Promise.all([
    startInstance({ ...common, REDIS_URL: relay ? relay.url('redis') : redis.url }, { name: 'A' }),
    startInstance({ ...common, REDIS_URL: redis.url }, { name: 'B' }),
  ]);
  stopAtTeardown(teardown, null, a);
  stopAtTeardown(teardown, null, b);
  const [e1, e2, p1, p2] = await createArticles(targetOf(a), token, 4, name);
  return { pg: pgCluster, redis, relay, a, b, token, edited: [e1!, e2!], probes: [p1!, p2!], env: { ...common, REDIS_URL: redis.url } };
}

/** A finding for the notes; a function when it must wait for requests still in flight to finish. */
type Note = string | (() => string);
const written = (notes: Note[]): string[] => notes.map((note) => (typeof note === 'string' ? note : note()));

interface FaultWindow {
  /** The dependency's return (performance.now()), or null where nothing comes back. */
  returnedAt: number | null;
  notes?: Note[];
  extraTargets?: FaultResult['extraTargets'];
}

/**
 * The common shape of a two-instance fault: readers through both instances,
 * an editor saving through each, `inject` breaks something and resolves at
 * the dependency's return; then recovery, a little more traffic, the check
 * for lost writes.
 */
async function twoInstanceFault(
  scenario: { name: string; description: string },
  context: ScenarioContext,
  options: { relayA?: boolean; env?: Record<string, string>; reads?: ReadKind[] },
  inject: (stack: TwoInstanceStack, workload: Workload, watch: ExitWatch) => Promise<FaultWindow>,
): Promise<FaultResult> {
  const stack = await twoInstanceStack(scenario.name, context, options);
  const targets = [targetOf(stack.a), targetOf(stack.b)];
  await warmUp(targets, stack.edited);
  const ledger = new Ledger();
  const workload = new Workload({
    targets,
    token: stack.token,
    articles: stack.edited,
    editors: [
      { name: 'A-desk', target: targets[0]!, article: stack.edited[0] },
      { name: 'B-desk', target: targets[1]!, article: stack.edited[1] },
    ],
    reads: options.reads,
    clientTimeoutMs: CLIENT_TIMEOUT_MS,
    ledger,
    label: scenario.name,
  });
  const watch = new ExitWatch([stack.a, stack.b], performance.now());
  const probeOutcomes: Outcome[] = [];
  workload.start();
  let window: FaultWindow;
  let recovery: FaultResult['recovery'];
  try {
    await sleep(BEFORE_MS);
    context.log('injecting the fault');
    window = await inject(stack, workload, watch);
    if (window.returnedAt === null) recovery = 'n/a';
    else {
      context.log('measuring recovery');
      recovery = await measureRecovery(
        [
          { target: targets[0]!, article: stack.probes[0], gone: () => stack.a.exit() !== null },
          { target: targets[1]!, article: stack.probes[1], gone: () => stack.b.exit() !== null },
        ],
        stack.token,
        ledger,
        window.returnedAt,
        { outcomes: probeOutcomes },
      );
    }
    await sleep(AFTER_MS);
  } finally {
    await workload.stop();
  }
  const lost = await checkLostWrites([stack.a, stack.b], stack.env, stack.token, ledger, context);
  return {
    ...scenario,
    summary: summarize(workload.outcomes),
    lost,
    recovery,
    exits: watch.close(),
    notes: [...written(window.notes ?? []), ...recoveryNotes(recovery)],
    extraTargets: window.extraTargets ?? [],
    harnessError: null,
  };
}

function recoveryNotes(recovery: FaultResult['recovery']): string[] {
  if (recovery === 'n/a' || recovery === null) return [];
  const ms = (value: number | null) => (value === null ? 'never' : `${Math.round(value)} ms`);
  const failures = (codes: Record<string, number>) => {
    const entries = Object.entries(codes);
    return entries.length ? ` after ${entries.map(([code, n]) => `${n} ${code}`).join(', ')}` : '';
  };
  return [
    `recovery per instance: ${recovery.perInstance.map((one) => `${one.instance} read ${ms(one.readMs)}, write ${ms(one.writeMs)}${failures(one.failures)}`).join('; ')}`,
  ];
}

/** Checks the ledger through the instances still running, or a fresh one when none is. */
async function checkLostWrites(
  instances: Instance[],
  env: Record<string, string>,
  token: string,
  ledger: Ledger,
  { teardown, log }: ScenarioContext,
): Promise<LostWritesCheck> {
  log('checking the acknowledged writes');
  const running = instances.filter((instance) => instance.exit() === null).map(targetOf);
  if (running.length > 0) return findLostWrites(running, token, ledger);
  try {
    const checker = await startInstance(env, { name: 'checker' });
    stopAtTeardown(teardown, null, checker);
    return await findLostWrites([targetOf(checker)], token, ledger);
  } catch (error) {
    return { lost: [], checked: 0, unverified: `no instance could be started to check: ${(error as Error).message.split('\n')[0]}` };
  }
}

/** The outcomes of one operation in flight at any time between two instants. */
function inWindow(outcomes: Outcome[], operation: string, from: number, to: number): Outcome[] {
  return outcomes.filter((outcome) => outcome.operation === operation && outcome.start <= to && outcome.end >= from);
}

/** What those outcomes were, for a note. */
function describeWindow(what: string, during: Outcome[]): string {
  const ok = during.filter((outcome) => outcome.code === null).length;
  const codes = new Map<string, number>();
  for (const outcome of during) if (outcome.code !== null) codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
  const longest = Math.max(0, ...during.map((outcome) => outcome.end - outcome.start));
  return `${what}: ${during.length} requests, ${ok} answered${[...codes].map(([code, n]) => `, ${n} ${code}`).join('')}; longest ${Math.round(longest)} ms`;
}

// ---------------------------------------------------------------------------------------------

const pgRestart: Scenario = {
  name: 'pg-restart',
  description: 'PostgreSQL: pg_ctl restart -m fast',
  run: (context) =>
    twoInstanceFault(pgRestart, context, {}, async ({ pg: cluster }) => {
      const began = performance.now();
      await cluster.restart();
      const returnedAt = performance.now();
      return { returnedAt, notes: [`the restart took ${Math.round(returnedAt - began)} ms`] };
    }),
};

const pgKill9: Scenario = {
  name: 'pg-kill9',
  description: 'PostgreSQL: kill -9 of the postmaster, started again 3 s later',
  run: (context) =>
    twoInstanceFault(pgKill9, context, {}, async ({ pg: cluster }) => {
      await cluster.kill9();
      await sleep(3_000);
      const began = performance.now();
      await cluster.start();
      const returnedAt = performance.now();
      return { returnedAt, notes: [`the start (with crash recovery) took ${Math.round(returnedAt - began)} ms`] };
    }),
};

const redisFreeze: Scenario = {
  name: 'redis-freeze',
  description: 'Redis: SIGSTOP for 6 s, then SIGCONT',
  run: (context) =>
    twoInstanceFault(redisFreeze, context, {}, async ({ redis }, workload) => {
      const from = performance.now();
      redis.freeze();
      await sleep(6_000);
      redis.thaw();
      const returnedAt = performance.now();
      return {
        returnedAt,
        notes: [() => describeWindow('ArticlePage reads while frozen', inWindow(workload.outcomes, 'articlePage', from, returnedAt))],
      };
    }),
};

function redisCut(mode: CutMode): Scenario {
  const scenario: Scenario = {
    name: mode === 'blackhole' ? 'redis-cut-a' : 'redis-refuse-a',
    description:
      mode === 'blackhole'
        ? "Redis: instance A's link cut for 3 s (a partition: open but silent), editors saving through A"
        : "Redis: instance A's link refused for 3 s (connections closed and refused), editors saving through A",
    run: (context) =>
      twoInstanceFault(scenario, context, { relayA: true }, async ({ relay }, workload) => {
        if (!relay) throw new Error('no relay');
        const from = performance.now();
        await relay.cut(mode);
        await sleep(3_000);
        await relay.restore();
        const returnedAt = performance.now();
        const saves = () => inWindow(workload.outcomes, 'updateArticle', from, returnedAt).filter((outcome) => outcome.instance === 'A');
        return { returnedAt, notes: [() => describeWindow('saves through A while its link was cut', saves())] };
      }),
  };
  return scenario;
}

const redisKill: Scenario = {
  name: 'redis-kill',
  description: 'Redis: killed (SIGKILL) for 3 s during a burst of saves, started again empty',
  run: (context) =>
    twoInstanceFault(redisKill, context, {}, async ({ redis }, workload) => {
      workload.setEditorPause(0);
      await sleep(300);
      await redis.kill();
      await sleep(3_000);
      await redis.start();
      const returnedAt = performance.now();
      setTimeout(() => workload.setEditorPause(null), 1_000).unref();
      return { returnedAt };
    }),
};

const pgLock: Scenario = {
  name: 'pg-lock',
  description: 'PostgreSQL: ACCESS EXCLUSIVE lock on articles held 5 s by another connection; readers include sections',
  run: (context) =>
    twoInstanceFault(pgLock, context, {}, async ({ pg: cluster, a, b, token }, workload) => {
      const client = new pg.Client({ connectionString: cluster.url });
      await client.connect();
      let from = performance.now();
      let returnedAt: number;
      // A query that does not touch articles, asked every 200 ms through both instances while the lock is held.
      const sections: Outcome[] = [];
      let locked = false;
      const askSections = async () => {
        while (locked) {
          const answers = await Promise.all(
            [a, b].map((instance) => post(targetOf(instance), QUERIES.sections, {}, { token, timeoutMs: CLIENT_TIMEOUT_MS })),
          );
          for (const [i, answer] of answers.entries())
            sections.push({ ...answer, kind: 'read', operation: 'sections', instance: i === 0 ? 'A' : 'B' });
          await sleep(200);
        }
      };
      let asking: Promise<void> = Promise.resolve();
      try {
        await client.query(`SET lock_timeout = '10s'`);
        await client.query('BEGIN');
        // The instances use the database's default schema (public).
        await client.query('LOCK TABLE articles IN ACCESS EXCLUSIVE MODE');
        from = performance.now();
        locked = true;
        asking = askSections();
        await sleep(5_000);
        await client.query('COMMIT');
        returnedAt = performance.now();
      } finally {
        locked = false;
        await client.end().catch(() => undefined);
        await asking;
      }
      const held = Math.max(0, ...sections.map((outcome) => outcome.end - outcome.start));
      const failed = sections.filter((outcome) => outcome.code !== null).length;
      return {
        returnedAt,
        notes: [
          describeWindow('sections (asked beside the workload) while articles was locked', sections),
          () => describeWindow('previews while articles was locked', inWindow(workload.outcomes, 'preview', from, returnedAt)),
          () => describeWindow('ArticlePage reads while articles was locked', inWindow(workload.outcomes, 'articlePage', from, returnedAt)),
        ],
        extraTargets: [
          {
            name: 'sections (which reads no articles) answered within 1 s while articles is locked',
            met: sections.length > 0 && failed === 0 && held <= 1_000,
            detail: `${sections.length} requests, ${failed} failed, longest ${Math.round(held)} ms`,
          },
        ],
      };
    }),
};

const stdoutStall: Scenario = {
  name: 'stdout-stall',
  description: "stdout: instance A's standard output stops draining (every request logged), then SIGTERM",
  run: (context) =>
    twoInstanceFault(stdoutStall, context, { env: { LOG_REQUESTS: '1' } }, async ({ a }, workload, watch) => {
      a.stopDraining();
      const from = performance.now();
      await sleep(4_000);
      const during = workload.outcomes.filter((outcome) => outcome.instance === 'A' && outcome.end >= from);
      // A load balancer takes a stopping instance out of rotation: from here on only B gets traffic.
      await workload.withdraw('A');
      watch.expect(a);
      context.log('SIGTERM to A with its stdout still stalled');
      const stopped = await a.stop({ signal: 'SIGTERM', timeoutMs: SHUTDOWN_TIMEOUT_MS + 5_000 });
      a.resumeDraining();
      const exitedIn = stopped.killed
        ? `did not exit within ${SHUTDOWN_TIMEOUT_MS + 5_000} ms (killed)`
        : `exited in ${Math.round(stopped.ms)} ms (${stopped.signal ?? `code ${stopped.code}`})`;
      return {
        returnedAt: null,
        notes: [
          describeWindow('requests to A while its stdout was stalled', during),
          `A after SIGTERM: ${exitedIn}; SHUTDOWN_TIMEOUT_MS is ${SHUTDOWN_TIMEOUT_MS}`,
        ],
        extraTargets: [
          {
            name: `exits within SHUTDOWN_TIMEOUT_MS (+100 ms) of SIGTERM with stdout stalled`,
            met: !stopped.killed && stopped.ms <= SHUTDOWN_TIMEOUT_MS + 100,
            detail: exitedIn,
          },
        ],
      };
    }),
};

function sqliteResult(scenario: { name: string; description: string }, outcomes: Outcome[], rest: Partial<FaultResult>): FaultResult {
  return {
    ...scenario,
    summary: summarize(outcomes),
    lost: null,
    recovery: 'n/a',
    exits: [],
    notes: [],
    extraTargets: [],
    harnessError: null,
    ...rest,
  };
}

/** A tokens file in a folder of its own (removed at teardown), holding one editor token. */
async function editorTokens(teardown: Teardown): Promise<{ tokensFile: string; token: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'newsgraph-faults-'));
  teardown.add('remove the tokens folder', () => rmSync(dir, { recursive: true, force: true }));
  const tokensFile = join(dir, 'tokens.json');
  return { tokensFile, token: await writeEditorToken(tokensFile) };
}

/** Watches a single instance for exits, and stops it at teardown. */
function watched(instance: Instance, teardown: Teardown): ExitWatch {
  const watch = new ExitWatch([instance], performance.now());
  stopAtTeardown(teardown, watch, instance);
  return watch;
}

/** Readers and one editor on `edited` through a single instance, started. */
async function oneInstanceWorkload(instance: Instance, token: string, edited: TrackedArticle, label: string) {
  const target = targetOf(instance);
  await warmUp([target], [edited]);
  const ledger = new Ledger();
  const workload = new Workload({
    targets: [target],
    token,
    articles: [edited],
    editors: [{ name: 'desk', target, article: edited }],
    clientTimeoutMs: CLIENT_TIMEOUT_MS,
    ledger,
    label,
  });
  const probeOutcomes: Outcome[] = [];
  workload.start();
  return { target, ledger, workload, probeOutcomes };
}

const sqliteFull: Scenario = {
  name: 'sqlite-full',
  description: 'SQLite on a full tmpfs: one instance, editor saving; space freed after 3 s',
  async run(context) {
    const { teardown, log } = context;
    const disk = await mountTmpfs(32);
    teardown.add('unmount the tmpfs', () => disk.unmount());
    const { tokensFile, token } = await editorTokens(teardown);
    const env = { DATABASE_URL: `sqlite:${join(disk.path, 'newsgraph.db')}`, NEWSGRAPH_TOKENS_FILE: tokensFile };
    log('starting one instance on the tmpfs');
    const instance = await startInstance(env, { name: 'A' });
    const watch = watched(instance, teardown);
    const [edited, probe] = (await createArticles(targetOf(instance), token, 2, 'sqlite-full')) as [TrackedArticle, TrackedArticle];
    const { target, ledger, workload, probeOutcomes } = await oneInstanceWorkload(instance, token, edited, 'sqlite-full');
    let recovery: Recovery;
    const notes: Note[] = [];
    try {
      await sleep(BEFORE_MS);
      log('filling the disk');
      const from = performance.now();
      const filled = await disk.fill();
      await sleep(3_000);
      disk.free();
      const returnedAt = performance.now();
      notes.push(`filled ${(filled / 2 ** 20).toFixed(1)} MiB`, () =>
        describeWindow('saves while the disk was full', inWindow(workload.outcomes, 'updateArticle', from, returnedAt)),
      );
      log('space freed; measuring recovery');
      recovery = await measureRecovery([{ target, article: probe, gone: () => instance.exit() !== null }], token, ledger, returnedAt, {
        outcomes: probeOutcomes,
      });
      await sleep(AFTER_MS);
    } finally {
      disk.free();
      await workload.stop();
    }
    const lost = await checkLostWrites([instance], env, token, ledger, context);
    return sqliteResult(sqliteFull, workload.outcomes, {
      lost,
      recovery,
      exits: watch.close(),
      notes: [...written(notes), ...recoveryNotes(recovery)],
    });
  },
};

const sqliteReadOnly: Scenario = {
  name: 'sqlite-readonly',
  description: 'SQLite on a read-only mount: an instance starts on it, reads and saves for 4 s; then the mount turns writable',
  async run(context) {
    const { teardown, log } = context;
    const disk = await mountTmpfs(32);
    teardown.add('unmount the tmpfs', async () => {
      await disk.remount('rw').catch(() => undefined);
      await disk.unmount();
    });
    const { tokensFile, token } = await editorTokens(teardown);
    const env = { DATABASE_URL: `sqlite:${join(disk.path, 'newsgraph.db')}`, NEWSGRAPH_TOKENS_FILE: tokensFile };
    log('preparing the store with a first instance');
    const first = await startInstance(env, { name: 'setup' });
    let articles: TrackedArticle[];
    try {
      articles = await createArticles(targetOf(first), token, 2, 'sqlite-readonly');
    } finally {
      await first.stop({ timeoutMs: SHUTDOWN_TIMEOUT_MS + 5_000 });
    }
    const [edited, probe] = articles as [TrackedArticle, TrackedArticle];
    await disk.remount('ro');
    log('starting an instance on the read-only mount');
    const began = performance.now();
    let instance: Instance;
    try {
      instance = await startInstance(env, { name: 'A' });
    } catch (error) {
      return sqliteResult(sqliteReadOnly, [], {
        lost: { lost: [], checked: 0, unverified: 'the instance did not start' },
        recovery: null,
        exits: [`A: did not start on the read-only store: ${(error as Error).message.split('\n').slice(0, 3).join(' | ').slice(0, 400)}`],
        notes: [`it gave up ${Math.round(performance.now() - began)} ms after it was started`],
      });
    }
    const watch = watched(instance, teardown);
    const { target, ledger, workload, probeOutcomes } = await oneInstanceWorkload(instance, token, edited, 'sqlite-readonly');
    let recovery: Recovery;
    const notes: Note[] = [];
    try {
      const from = performance.now();
      await sleep(4_000);
      const to = performance.now();
      notes.push(
        () => describeWindow('saves on the read-only store', inWindow(workload.outcomes, 'updateArticle', from, to)),
        () => describeWindow('ArticlePage reads on the read-only store', inWindow(workload.outcomes, 'articlePage', from, to)),
      );
      log('remounting writable; measuring recovery');
      await disk.remount('rw');
      const returnedAt = performance.now();
      recovery = await measureRecovery([{ target, article: probe, gone: () => instance.exit() !== null }], token, ledger, returnedAt, {
        outcomes: probeOutcomes,
      });
      await sleep(AFTER_MS);
    } finally {
      await workload.stop();
    }
    const lost = await checkLostWrites([instance], env, token, ledger, context);
    return sqliteResult(sqliteReadOnly, workload.outcomes, {
      lost,
      recovery,
      exits: watch.close(),
      notes: [...written(notes), ...recoveryNotes(recovery)],
    });
  },
};

/** Every fault, in the order `npm run faults` runs them. */
export const SCENARIOS: Scenario[] = [
  pgRestart,
  pgKill9,
  redisFreeze,
  redisCut('blackhole'),
  redisCut('refuse'),
  redisKill,
  pgLock,
  sqliteFull,
  sqliteReadOnly,
  stdoutStall,
];
