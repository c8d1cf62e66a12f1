// The bench's report: the tables on standard output, the notes on what went wrong, and whether the
// performance targets are met.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { DatabaseConfig } from '../../../config.js';
import type { Mismatch, Workload } from '../load.js';
import { formatMs, formatPercent } from '../stats.js';
import { failures, LOGGING, type Logging, type LoggingRun, type Row } from './measure.js';
import { SERVICES, type Server } from './processes.js';
import { CONNECTIONS, LOGGING_ROUNDS, PACED_CONNECTIONS, REDIS_URL, SECONDS, WARMUP_SECONDS } from './settings.js';
import { describeDifference, type Fixtures } from './workloads.js';

const number = (value: number) => Math.round(value).toLocaleString('en');
const table = (header: string[], body: string[][]) =>
  [header, header.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
/** The CPU model and core count, as each report's heading gives them. */
const machine = () =>
  `${/^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU'}, ${availableParallelism()} cores`;

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

export function printReport({ store, fixtures, uncachedCount, startups, rows, atRate, peak, notes }: Report): void {
  const share = (row: Row) => {
    const ceiling = rows.find((other) => other.scenario === row.scenario && other.server === 'ceiling');
    return row.server === 'newsgraph' && ceiling ? row.rps / ceiling.rps : undefined;
  };
  const mib = (bytes: number) => (bytes / (1 << 20)).toFixed(0);
  const measured = (row: Row) => [
    formatMs(row.run.latency.p50),
    formatMs(row.run.latency.p99),
    formatMs(row.cpuMsPerRequest),
    `${mib(row.rss)} (${mib(row.peak)})`,
    String(failures(row.run)),
  ];

  console.log(
    `\nnewsgraph over HTTP: ${fixtures.total.toLocaleString('en')} articles in ${store}${REDIS_URL ? `; caches in Redis (${REDIS_URL})` : ''}`,
  );
  console.log(`${machine()}; node ${process.version}; the load generator runs in the bench process`);
  console.log(
    `${CONNECTIONS} connections (even-paced runs: up to ${PACED_CONNECTIONS}, opened as needed), pipelining 1, ${SECONDS} s runs after ${WARMUP_SECONDS} s warm-ups; start-up (spawn to /ready 200): ${startups.map((ms) => `${number(ms)} ms`).join(', restart ')}`,
  );
  console.log(
    `requests: cached over ${fixtures.cached.length.toLocaleString('en')} articles; uncached over ${number(uncachedCount)} recorded ones, none sent twice; ` +
      `mix over ${fixtures.mix.length.toLocaleString('en')} articles, ${fixtures.sections.length} sections, ${fixtures.terms.length} search words (${fixtures.terms.slice(0, 4).join(' ')} …) and unique queries\n`,
  );
  console.log(
    table(
      ['scenario', 'server', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'RSS MiB (peak)', 'failures', '% of ceiling'],
      rows.map((row) => {
        const ratio = share(row);
        return [row.scenario, row.server, number(row.rps), ...measured(row), ratio === undefined ? '—' : formatPercent(ratio)];
      }),
    ),
  );
  console.log(
    '\nnewsgraph at a fixed 80% of its max req/s, and lower where the even p99 was over 20 ms (autocannon: its per-connection quota each second; even: open loop, latency from when each request was due):\n',
  );
  console.log(
    table(
      [
        'scenario',
        'server',
        'pacing',
        'share of max',
        'target req/s',
        'req/s',
        'p50 ms',
        'p99 ms',
        'CPU ms/req',
        'RSS MiB (peak)',
        'failures',
      ],
      atRate.map((row) => [
        row.scenario,
        row.server,
        row.target?.pacing ?? '',
        formatPercent(row.target?.share ?? 0),
        number(row.target?.rate ?? 0),
        number(row.rps),
        ...measured(row),
      ]),
    ),
  );

  // With the load generator on the same machine, a ceiling that is not using its core was held
  // back by the client or the kernel: its req/s is this machine's limit, not the server's.
  const services = SERVICES.length ? ` / ${SERVICES.map((service) => service.name).join(' and ')}` : '';
  console.log(`\nCPU during each run, share of one core (server / load generator${services}; ${availableParallelism()} cores in all):`);
  for (const row of [...rows, ...atRate]) {
    const name = `${row.scenario}${row.target ? ` at ${formatPercent(row.target.share)} (${row.target.pacing})` : ''}, ${row.server}`;
    const used = row.servicesCpu === undefined ? '' : ` / ${formatPercent(row.servicesCpu)}`;
    console.log(`  ${name.padEnd(52)} ${formatPercent(row.serverCpu).padStart(6)} / ${formatPercent(row.clientCpu)}${used}`);
  }

  // Little's law: the connections an even-paced run needed are its rate times its latency, peaks included.
  const paced = atRate.filter((row) => row.run.opened !== undefined);
  if (paced.length) {
    console.log(`\nconnections each even-paced run opened (of up to ${PACED_CONNECTIONS}), the most requests in flight at once:`);
    for (const row of paced)
      console.log(
        `  ${`${row.scenario} at ${formatPercent(row.target!.share)}, ${row.server}`.padEnd(52)} ${String(row.run.opened).padStart(6)}`,
      );
  }

  // A stalled event loop delays every request in flight: the server's, or the load generator's own.
  console.log(
    '\nevent-loop delay during each newsgraph run, max / p99 ms (server; load generator), sampled every 10 ms, so 10 ms is on time:',
  );
  for (const row of [...rows, ...atRate].filter((row) => row.server === 'newsgraph')) {
    const name = `${row.scenario}${row.target ? ` at ${formatPercent(row.target.share)} (${row.target.pacing})` : ''}`;
    const { server, client } = row.loopDelay;
    const pair = (delay?: { max: number; p99: number }) => (delay ? `${formatMs(delay.max)} / ${formatMs(delay.p99)}` : '—');
    console.log(`  ${name.padEnd(52)} ${pair(server).padStart(15)};  ${pair(client)}`);
  }

  // V8 collects on the main thread too: a long collection stalls the loop like any synchronous work.
  console.log('\ngarbage collection in newsgraph during each run, by kind: count, total ms, how many took 10 ms or more:');
  for (const row of [...rows, ...atRate].filter((row) => row.gc)) {
    const name = `${row.scenario}${row.target ? ` at ${formatPercent(row.target.share)} (${row.target.pacing})` : ''}`;
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
    const name = `${row.scenario}${row.target ? ` at ${formatPercent(row.target.share)} (${row.target.pacing})` : ''}, ${row.server}`;
    notes.push(`${name}: ${kinds.join(', ')}${run.firstMismatch ? `; first: ${describeMismatch(run.firstMismatch)}` : ''}`);
  }
  for (const row of atRate) {
    const lag = row.run.sendLag;
    // Timers fire at best every millisecond, so up to a millisecond late is the pacer's own grain.
    if (row.run.opened !== undefined && row.run.opened >= PACED_CONNECTIONS) {
      notes.push(
        `${row.scenario} at ${formatPercent(row.target!.share)} (even), ${row.server}: all ${PACED_CONNECTIONS} connections were in use at some point, so requests also waited for one`,
      );
    }
    if (lag && lag.p99 > 2)
      notes.push(
        `${row.scenario} at ${formatPercent(row.target!.share)} (even), ${row.server}: requests left the bench up to ${formatMs(lag.p99)} ms late (p99), counted in their latency: the load generator was short of CPU`,
      );
  }
  if (notes.length) console.log(`\nnotes:\n${notes.map((note) => `- ${note}`).join('\n')}`);

  const ratio = (scenario: string) => share(rows.find((row) => row.scenario === scenario && row.server === 'newsgraph')!) ?? 0;
  const check = (met: boolean, text: string) => console.log(`- ${met ? 'met    ' : 'NOT MET'}  ${text}`);
  console.log('\ntargets:');
  check(ratio('cached ArticlePage') >= 0.8, `cached ArticlePage ≥ 80% of ceiling: ${formatPercent(ratio('cached ArticlePage'))}`);
  check(ratio('uncached ArticlePage') >= 0.4, `uncached ArticlePage ≥ 40% of ceiling: ${formatPercent(ratio('uncached ArticlePage'))}`);
  const even = (server: Server['kind']) => atRate.filter((row) => row.server === server && row.target?.pacing === 'even');
  for (const row of even('newsgraph').filter((row) => row.target!.share === 0.8)) {
    check(
      row.run.latency.p99 <= 20 && !failures(row.run),
      `${row.scenario} p99 ≤ 20 ms at 80% of max (even pacing): ${formatMs(row.run.latency.p99)} ms`,
    );
    const lower = even('newsgraph').filter((other) => other.scenario === row.scenario && other.target!.share < 0.8);
    const holds = lower.find((other) => other.run.latency.p99 <= 20 && !failures(other.run));
    if (lower.length) {
      console.log(
        `           ${holds ? `it holds at ${formatPercent(holds.target!.share)} of max (${formatMs(holds.run.latency.p99)} ms)` : `not even at ${formatPercent(lower.at(-1)!.target!.share)} of max (${formatMs(lower.at(-1)!.run.latency.p99)} ms)`}`,
      );
    }
    const ceilings = even('ceiling').filter((other) => other.scenario === row.scenario);
    if (ceilings.length) {
      const p99s = ceilings.map((other) => `${formatMs(other.run.latency.p99)} ms at ${formatPercent(other.target!.share)}`).join(', ');
      console.log(`           the ceiling, paced the same with the same requests: p99 ${p99s}`);
    }
  }
  check(peak <= 300e6, `newsgraph peak RSS ≤ 300 MB: ${(peak / 1e6).toFixed(0)} MB (${mib(peak)} MiB)`);
  for (const [i, ms] of startups.entries()) check(ms <= 1500, `start-up ≤ 1.5 s${i ? ' (restart)' : ''}: ${number(ms)} ms`);
}

export function printLogging(store: string, fixtures: Fixtures, uncached: Workload, runs: LoggingRun[], notes: string[]): void {
  const signed = (value: number) => `${value < 0 ? '−' : '+'}${number(Math.abs(value))}`;
  const microseconds = (row: Row) => row.cpuMsPerRequest * 1000;

  console.log(
    `\nwhat logging costs: uncached ArticlePage on newsgraph in production mode, ${fixtures.total.toLocaleString('en')} articles in ${store}`,
  );
  console.log(`${machine()}; node ${process.version}; the load generator runs in the bench process`);
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
    return (
      (1000 * rows.reduce((sum, row) => sum + row.cpuMsPerRequest * row.run.responses, 0)) /
      Math.max(
        1,
        rows.reduce((sum, row) => sum + row.run.responses, 0),
      )
    );
  };
  const byRound = (more: Logging, less: Logging) =>
    Array.from({ length: LOGGING_ROUNDS }, (_, i) => {
      const of = (logging: Logging) => microseconds(runs.find((run) => run.logging === logging && run.round === i + 1)!.row);
      return signed(of(more) - of(less));
    }).join(', ');
  const cost = (more: Logging, less: Logging) => `${signed(total(more) - total(less))} µs (rounds: ${byRound(more, less)})`;
  const [usual, every, silent] = [LOGGING[0].name, LOGGING[1].name, LOGGING[2].name];
  console.log(`\nserver CPU per request over all rounds: ${LOGGING.map(({ name }) => `${name} ${number(total(name))} µs`).join('; ')}`);
  console.log(
    `logging every request costs ${cost(every, usual)} of server CPU per request over the default, ${cost(every, silent)} over LOG_LEVEL=silent`,
  );
  console.log(`the default's 1% costs ${cost(usual, silent)} over LOG_LEVEL=silent`);
  // The same setting measured twice shows how small a difference these rounds can tell from noise.
  const spreads = LOGGING.map(({ name }) => {
    const values = runs.filter((run) => run.logging === name).map((run) => microseconds(run.row));
    return { name, spread: Math.max(...values) - Math.min(...values) };
  }).sort((a, b) => b.spread - a.spread);
  if (LOGGING_ROUNDS > 1) {
    console.log(
      `noise: one setting's runs differ by up to ${number(spreads[0]!.spread)} µs per request (${spreads[0]!.name}); a difference smaller than that is not resolved here`,
    );
  }
  const dropped = runs.reduce((sum, run) => sum + run.dropped, 0);
  console.log(`log lines the servers dropped for want of a reader (newsgraph_log_lines_dropped_total): ${number(dropped)}`);

  for (const { logging, round, row } of runs) {
    if (failures(row.run))
      notes.push(
        `${logging}, round ${round}: ${failures(row.run)} failures${row.run.firstMismatch ? `; first: ${describeMismatch(row.run.firstMismatch)}` : ''}`,
      );
  }
  if (notes.length) console.log(`\nnotes:\n${notes.map((note) => `- ${note}`).join('\n')}`);
}

/** The store as the report names it: a SQLite path, or a PostgreSQL URL without its password. */
export function describeStore(database: DatabaseConfig): string {
  if (database.kind === 'sqlite') return database.path;
  const url = new URL(database.url);
  if (url.password) url.password = '***';
  return `PostgreSQL ${url.href}`;
}

function describeMismatch({ request, expected, status, contentType, body }: Mismatch): string {
  const parts = [request.label];
  if (!expected) return `${request.label}: no answer recorded`;
  if (status !== expected.status) parts.push(`status ${status}, expected ${expected.status}`);
  if (contentType !== expected.contentType) parts.push(`content-type "${contentType}", expected "${expected.contentType}"`);
  if (!body.equals(expected.body)) parts.push(describeDifference(expected.body, body));
  return parts.join('; ');
}
