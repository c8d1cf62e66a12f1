// npm run soak: a server in production mode, in its own process, under 50 concurrent abusive
// requests for SOAK_SECONDS (default 60); meanwhile one client keeps asking the normal ArticlePage
// query. Prints the normal query's latency alone and under attack, how fast each kind of abuse was
// refused, and the server's memory. Traffic goes to 127.0.0.1 only, and stops by itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, serverCommand } from './server-command.js';
import { formatBytes, formatMs, percentiles } from './stats.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const BASELINE_SECONDS = Math.min(15, SECONDS);
const ATTACKERS = 50;

const ARTICLE_PAGE = `query ArticlePage($slug: String!) { article(slug: $slug) { title source { name } publishedAt
  section { name path { name } } body { __typename ... on Paragraph { text } ... on Image { caption url } }
  credits { role label name } tags { name } excerpt wordCount readingMinutes hot: related(kind: HOT, first: 6) { kind title summary url } } }`;

const nested = `{ section(slug: "yuanchuang") { ${'articles(first: 100) { nodes { section { '.repeat(10)}name${' } } }'.repeat(10)} } }`;
// Built once: the load generator shares this machine's two cores with the server, so it must not
// spend them rebuilding megabyte bodies.
const ABUSE: Record<string, RequestInit & { url?: string }> = {
  'depth 31': post({ query: nested }),
  '200 aliases': post({ query: `{ ${Array.from({ length: 200 }, (_, i) => `a${i}: articles(first: 100) { totalCount }`).join(' ')} }` }),
  '10k tokens': post({ query: `{ sections { ${'slug '.repeat(10_000)} } }` }),
  'cost bomb': post({
    query:
      '{ articles(first: 100) { nodes { related(kind: RELATED, first: 50) { article { related(kind: LATEST, first: 50) { title } } } } } }',
  }),
  '1 MB body': post({ query: '{ sections { slug } }', variables: { pad: 'x'.repeat(1_000_000) } }),
  'batch of 100': {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(Array.from({ length: 100 }, () => ({ query: nested }))),
  },
  unparsable: post({ query: '{'.repeat(5_000) }),
  '9 KB URL': { method: 'GET', headers: { 'apollo-require-preflight': '1' }, url: `?query=${'x'.repeat(9_000)}` },
};

function post(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

// The server trusts X-Forwarded-For from loopback, as it would from its load balancer: each attacker
// and the reader arrive from their own address.
const READER = { 'x-forwarded-for': '198.51.100.7' };
// SOAK_ADDRESSES=rotate gives every abusive request an address of its own, as a botnet would: then
// per-client limits cannot help, and what is left is the raw cost of each refusal.
const ROTATE = process.env.SOAK_ADDRESSES === 'rotate';
const attackerAddress = (n: number, i: number) => (ROTATE ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `203.0.113.${n + 1}`);

/** `soak.ts --attack URL SECONDS`: the attackers' process; prints what happened to each kind of abuse as JSON. */
async function attack(url: string, seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  const refusals: Record<string, { statuses: Record<string, number>; ms: number[] }> = {};
  const kinds = Object.keys(ABUSE);
  const attacker = async (n: number) => {
    for (let i = n; Date.now() < until; i += ATTACKERS) {
      const kind = kinds[i % kinds.length]!;
      const { url: suffix, headers, ...init } = ABUSE[kind]!;
      const started = performance.now();
      const status = await fetch(suffix ? `${url}${suffix}` : url, {
        ...init,
        headers: { ...(headers as Record<string, string>), 'x-forwarded-for': attackerAddress(n, i) },
      }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        () => 0,
      );
      const entry = (refusals[kind] ??= { statuses: {}, ms: [] });
      entry.statuses[status] = (entry.statuses[status] ?? 0) + 1;
      entry.ms.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: ATTACKERS }, (_, n) => attacker(n)));
  process.stdout.write(JSON.stringify(refusals));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'newsgraph-soak-'));
  const port = await freePort();
  const server = serverCommand();
  const child = spawn(server.command, server.args, {
    env: {
      ...process.env,
      TRUST_PROXY: 'loopback',
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: `sqlite:${join(dir, 'soak.db')}`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let crashed = false;
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') crashed = true;
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    // A production server logging at warn says nothing when it listens: poll /ready.
    for (let i = 0; (await fetch(`${base}/ready`).catch(() => null))?.status !== 200; i++) {
      if (i > 200 || child.exitCode !== null) throw new Error('the server did not become ready');
      await sleep(50);
    }
    const url = `${base}/graphql`;
    const slug = (
      (await (await fetch(url, post({ query: '{ articles(first: 1) { nodes { slug } } }' }))).json()) as {
        data: { articles: { nodes: { slug: string }[] } };
      }
    ).data.articles.nodes[0]!.slug;
    const rss = async () =>
      Number(/newsgraph_process_resident_memory_bytes (\d+)/.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);

    // With the response cache on (the default), the normal query is answered from it, as a
    // portal's article page would be; RESPONSE_CACHE_MB=0 makes every one run through GraphQL.
    let fromCache = 0;
    const normal = async (until: number) => {
      const samples: number[] = [];
      while (Date.now() < until) {
        const started = performance.now();
        const response = await fetch(url, post({ query: ARTICLE_PAGE, variables: { slug } }, READER));
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`the normal query got ${response.status}`);
        if (response.headers.get('x-cache') === 'HIT') fromCache++;
        samples.push(performance.now() - started);
      }
      return samples;
    };

    const rssBefore = await rss();
    console.log(
      `server ${base} (production), ${ATTACKERS} attackers ${ROTATE ? 'each request from a new address' : 'from 50 addresses'}, ${SECONDS} s under attack after ${BASELINE_SECONDS} s alone`,
    );
    const alone = percentiles(await normal(Date.now() + BASELINE_SECONDS * 1000));

    // The attackers run in their own process: timing the normal query from a process that is busy
    // sending 50 streams of abuse would measure the load generator's own event loop, not the server.
    const attack = spawn(process.execPath, ['--import', 'tsx', 'src/tools/bench/soak.ts', '--attack', url, String(SECONDS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const report = new Promise<string>((resolve, reject) => {
      let out = '';
      attack.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      attack.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`the attackers exited with ${code}`))));
    });
    // Memory through the attack, to see whether it levels off rather than only where it ended.
    const rssSeries: number[] = [];
    const sampler = setInterval(
      () =>
        void rss().then(
          (bytes) => rssSeries.push(bytes),
          () => undefined,
        ),
      5000,
    );
    const [underAttackSamples, refusalText] = await Promise.all([normal(Date.now() + SECONDS * 1000), report]).finally(() =>
      clearInterval(sampler),
    );
    const refusals = JSON.parse(refusalText) as Record<string, { statuses: Record<string, number>; ms: number[] }>;
    const underAttack = percentiles(underAttackSamples);
    const rssAfter = await rss();

    console.log(`\nnormal ArticlePage query (ms)   runs     p50     p99`);
    console.log(
      `  alone                        ${String(alone.count).padStart(6)} ${formatMs(alone.p50).padStart(7)} ${formatMs(alone.p99).padStart(7)}`,
    );
    console.log(
      `  under attack                 ${String(underAttack.count).padStart(6)} ${formatMs(underAttack.p50).padStart(7)} ${formatMs(underAttack.p99).padStart(7)}`,
    );
    console.log(`  p99 under attack / alone: ${(underAttack.p99 / alone.p99).toFixed(2)}× (target ≤ 2×)`);
    console.log(`  answered from the response cache: ${fromCache} of ${alone.count + underAttack.count}`);
    console.log(`\nabusive requests (client-side ms, including the 50-way queueing)   count  statuses          p50     p99`);
    for (const [kind, { statuses, ms }] of Object.entries(refusals)) {
      const p = percentiles(ms);
      const codes = Object.entries(statuses)
        .map(([s, c]) => `${s}×${c}`)
        .join(' ');
      console.log(
        `  ${kind.padEnd(14)} ${String(ms.length).padStart(6)}  ${codes.padEnd(16)} ${formatMs(p.p50).padStart(7)} ${formatMs(p.p99).padStart(7)}`,
      );
    }
    console.log(
      `\nserver RSS ${formatBytes(rssBefore)} before, ${formatBytes(rssAfter)} after; crashed: ${crashed || child.exitCode !== null ? 'yes' : 'no'}`,
    );
    console.log(`  every 5 s under attack (MiB): ${rssSeries.map((bytes) => (bytes / (1 << 20)).toFixed(0)).join(' ')}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

(process.argv[2] === '--attack' ? attack(process.argv[3]!, Number(process.argv[4])) : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
