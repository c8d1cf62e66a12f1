// npm run faults: breaks newsgraph's dependencies one at a time, on infrastructure of its own,
// while readers and editors keep going, and prints what each fault did and which targets held.
// FAULTS=name1,name2 runs only those. Needs root (PostgreSQL runs as the postgres user; tmpfs).
import { isRoot, onPath, postgresBinDir } from './infra.js';
import { type FaultResult, REQUEST_TIMEOUT_MS, SCENARIOS, type Scenario, Teardown } from './scenarios.js';
import { summarize } from './workload.js';

/** Every read answered or refused within the request deadline plus this. */
const READ_MARGIN_MS = 100;
/** Each instance serves reads and writes again within this of the dependency's return. */
const RECOVERY_TARGET_MS = 1_000;
const SCENARIO_LIMIT_MS = 150_000;
const RUN_LIMIT_MS = 12 * 60_000;

const started = performance.now();
const stamp = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s`;
const say = (message: string) => process.stderr.write(`${stamp()}  ${message}\n`);

// Ctrl-C and a stuck run leave through process.exit, so infra.ts's exit handlers stop what was started.
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
setTimeout(() => {
  say(`the run took longer than ${RUN_LIMIT_MS / 60_000} minutes; stopping everything it started`);
  process.exit(2);
}, RUN_LIMIT_MS).unref();

function chooseScenarios(): Scenario[] {
  const wanted = (process.env.FAULTS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (wanted.length === 0) return SCENARIOS;
  const unknown = wanted.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length) {
    console.error(`unknown fault(s) in FAULTS: ${unknown.join(', ')}; known: ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`);
    process.exit(2);
  }
  return SCENARIOS.filter((scenario) => wanted.includes(scenario.name));
}

async function runOne(scenario: Scenario): Promise<FaultResult> {
  const teardown = new Teardown();
  const log = (message: string) => say(`[${scenario.name}] ${message}`);
  log(scenario.description);
  let limit: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      scenario.run({ teardown, log }),
      new Promise<never>((_, reject) => {
        limit = setTimeout(() => reject(new Error(`did not finish within ${SCENARIO_LIMIT_MS / 1000} s`)), SCENARIO_LIMIT_MS);
      }),
    ]);
  } catch (error) {
    log(`harness error: ${(error as Error).stack ?? error}`);
    return {
      name: scenario.name,
      description: scenario.description,
      summary: summarize([]),
      lost: null,
      recovery: null,
      exits: [],
      notes: [],
      extraTargets: [],
      harnessError: (error as Error).message.split('\n')[0] ?? String(error),
    };
  } finally {
    clearTimeout(limit);
    log('tearing down');
    await teardown.run();
    for (const problem of teardown.problems) log(`teardown: ${problem}`);
  }
}

interface Verdict {
  name: string;
  met: boolean | null;
  detail: string;
}

/** The issue's targets for one fault; `met: null` where a target does not apply or could not be checked. */
function verdicts(result: FaultResult): Verdict[] {
  if (result.harnessError) return [{ name: 'the fault ran to the end', met: false, detail: result.harnessError }];
  const { summary, lost, recovery } = result;
  const list: Verdict[] = [
    {
      name: 'zero lost acknowledged writes',
      met: lost === null || lost.unverified ? null : lost.lost.length === 0,
      detail:
        lost === null
          ? 'not checked'
          : (lost.unverified ??
            `${lost.lost.length} of ${lost.checked} lost${
              lost.lost.length
                ? `: ${lost.lost
                    .slice(0, 3)
                    .map((ack) => `article ${ack.articleId} v${ack.version} via ${ack.instance}`)
                    .join(', ')}`
                : ''
            }`),
    },
    {
      name: 'zero stale answers after a successful mutation',
      met: summary.stale.length === 0,
      detail:
        summary.stale.length === 0
          ? '0'
          : `${summary.stale.length}, e.g. ${summary.stale
              .slice(0, 2)
              .map(
                (outcome) =>
                  `${outcome.operation} via ${outcome.instance} (x-cache ${outcome.cache ?? '-'}) showed ${outcome.stale?.shown} after ${outcome.stale?.acknowledged} was acknowledged`,
              )
              .join('; ')}`,
    },
    { name: 'zero process exits', met: result.exits.length === 0, detail: result.exits.length === 0 ? '0' : result.exits.join('; ') },
    {
      name: `every read answered or refused within ${REQUEST_TIMEOUT_MS} + ${READ_MARGIN_MS} ms`,
      met: summary.reads === 0 ? null : summary.longestReadMs <= REQUEST_TIMEOUT_MS + READ_MARGIN_MS,
      detail: `longest ${Math.round(summary.longestReadMs)} ms`,
    },
    {
      name: `recovery within ${RECOVERY_TARGET_MS} ms of the dependency's return`,
      met: recovery === 'n/a' ? null : recovery !== null && recovery.ms !== null && recovery.ms <= RECOVERY_TARGET_MS,
      detail:
        recovery === 'n/a'
          ? 'no dependency returns'
          : recovery === null || recovery.ms === null
            ? 'not recovered'
            : `${Math.round(recovery.ms)} ms`,
    },
    ...result.extraTargets,
  ];
  return list;
}

function errorsText(errors: Record<string, number>): string {
  const entries = Object.entries(errors).sort((x, y) => y[1] - x[1]);
  return entries.length === 0 ? '-' : entries.map(([code, count]) => `${code}×${count}`).join(' ');
}

function table(results: FaultResult[]): string {
  const header = ['fault', 'requests', 'stale', 'lost', 'longest read', 'longest write', 'recovery', 'exits', 'errors by code'];
  const rows = results.map((result) => {
    const { summary, lost, recovery } = result;
    if (result.harnessError) return [result.name, '-', '-', '-', '-', '-', '-', '-', `HARNESS ERROR: ${result.harnessError}`];
    return [
      result.name,
      `${summary.requests} (${summary.reads}r ${summary.writes}w, ${summary.acknowledgedWrites} acked)`,
      String(summary.stale.length),
      lost === null ? '-' : lost.unverified ? '?' : String(lost.lost.length),
      `${Math.round(summary.longestReadMs)} ms`,
      `${Math.round(summary.longestWriteMs)} ms`,
      recovery === 'n/a' ? 'n/a' : recovery === null || recovery.ms === null ? 'never' : `${Math.round(recovery.ms)} ms`,
      String(result.exits.length),
      errorsText(summary.errorsByCode),
    ];
  });
  const widths = header.map((_, column) =>
    Math.max(header[column]!.length, ...rows.map((row) => (column === header.length - 1 ? 0 : row[column]!.length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const problems = [
    !isRoot() && 'run it as root (PostgreSQL runs as the postgres user; tmpfs needs mount)',
    !postgresBinDir() && 'the PostgreSQL server binaries are missing (install postgresql)',
    !onPath('redis-server') && 'redis-server is missing (install redis-server)',
  ].filter(Boolean);
  if (problems.length) {
    console.error(`npm run faults cannot run here: ${problems.join('; ')}`);
    process.exit(2);
  }
  const scenarios = chooseScenarios();
  const results: FaultResult[] = [];
  for (const scenario of scenarios) results.push(await runOne(scenario));

  console.log(
    `\nnewsgraph under faults (REQUEST_TIMEOUT_MS=${REQUEST_TIMEOUT_MS}; ${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
  );
  console.log(table(results));
  console.log('');
  for (const result of results) {
    console.log(`${result.name}: ${result.description}`);
    for (const note of result.notes) console.log(`    ${note}`);
  }
  console.log('\nTargets');
  let met = 0;
  let missed = 0;
  for (const result of results) {
    console.log(`  ${result.name}`);
    for (const verdict of verdicts(result)) {
      if (verdict.met === true) met++;
      if (verdict.met === false) missed++;
      const mark = verdict.met === null ? '  -  ' : verdict.met ? ' met ' : ' NOT ';
      console.log(`   ${mark} ${verdict.name}: ${verdict.detail}`);
    }
  }
  console.log(`\n${met} targets met, ${missed} not met.`);
  // Keep-alive sockets and the like must not hold the run open once it has reported.
  process.exit(missed > 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
