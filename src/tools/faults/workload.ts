// The traffic the fault suite keeps up while it breaks things, and the checks it makes afterwards:
// steady readers and editors over HTTP, a ledger of every acknowledged write, stale answers,
// lost acknowledged writes, the longest wait, and the time each instance takes to recover.

/** Where requests go: one newsgraph instance. */
export interface Target {
  name: string;
  /** `http://127.0.0.1:PORT` */
  address: string;
}

/** An article the workload reads and edits, as the harness last knew it. */
export interface TrackedArticle {
  id: string;
  slug: string;
  title: string;
  version: number;
}

/** One request as the client saw it. Times are performance.now() in this process. */
export interface Outcome {
  kind: 'read' | 'write' | 'probe';
  operation: string;
  instance: string;
  start: number;
  end: number;
  /** 0 when no HTTP answer came (refused connection, reset, client timeout). */
  status: number;
  /** null for a full success; else `errors[0].extensions.code`, `HTTP_<status>`, or a transport failure. */
  code: string | null;
  /** The x-cache header. */
  cache: string | null;
  retryAfter: string | null;
  /** Set when the answer showed an article older than one already acknowledged before the request began. */
  stale?: { articleId: string; shown: string; acknowledged: string };
}

export interface Answer {
  status: number;
  code: string | null;
  cache: string | null;
  retryAfter: string | null;
  body: GraphQLBody | null;
  start: number;
  end: number;
}

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; extensions?: Record<string, unknown> }[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * POSTs one GraphQL request and classifies the answer; never throws. A
 * request the server does not answer within `timeoutMs` is given up on
 * (`CLIENT_TIMEOUT`), so no loop here can hang.
 */
export async function post(
  target: Target,
  query: string,
  variables: Record<string, unknown> = {},
  { token, timeoutMs = 20_000 }: { token?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  const start = performance.now();
  try {
    const response = await fetch(`${target.address}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
      // AbortSignal.timeout takes whole milliseconds only.
      signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
    });
    const text = await response.text();
    const end = performance.now();
    let body: GraphQLBody | null = null;
    try {
      body = JSON.parse(text) as GraphQLBody;
    } catch {
      body = null;
    }
    const errorCode = body?.errors?.[0]?.extensions?.code;
    const code =
      response.status === 200 && body?.data && !body.errors?.length
        ? null
        : typeof errorCode === 'string'
          ? errorCode
          : `HTTP_${response.status}`;
    return {
      status: response.status,
      code,
      cache: response.headers.get('x-cache'),
      retryAfter: response.headers.get('retry-after'),
      body,
      start,
      end,
    };
  } catch (error) {
    return { status: 0, code: transportFailure(error), cache: null, retryAfter: null, body: null, start, end: performance.now() };
  }
}

function transportFailure(error: unknown): string {
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'CLIENT_TIMEOUT';
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code === 'ECONNREFUSED' ? 'CONNECTION_REFUSED' : code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return 'NETWORK';
}

// The reads a portal page makes (the bench's ArticlePage), the reads around it, and reads that go
// past the response cache to the store (an editor's preview, the section tree with a token).
export const QUERIES = {
  articlePage: `query ArticlePage($slug: String!) { article(slug: $slug) { id title source { name } publishedAt section { name path { name } } body { __typename ... on Paragraph { text } ... on Image { caption url } } credits { role label name } tags { name } excerpt wordCount readingMinutes hot: related(kind: HOT, first: 6) { kind title summary url } } }`,
  articleById: `query ArticleById($id: ID) { article(id: $id) { id title version } }`,
  latest: `query Latest { articles(first: 20) { nodes { id title } } }`,
  sections: `query Sections { sections { id slug name } }`,
  preview: `query Preview($id: ID) { article(id: $id, preview: true) { id title version } }`,
  update: `mutation Save($id: ID!, $v: Int!, $input: UpdateArticleInput!) { updateArticle(id: $id, expectedVersion: $v, input: $input) { article { id title version } } }`,
  create: `mutation Create($input: CreateArticleInput!) { createArticle(input: $input) { article { id slug title version } } }`,
  publish: `mutation Publish($id: ID!, $v: Int!) { publishArticle(id: $id, expectedVersion: $v) { article { id slug title version } } }`,
  history: `query History($id: ID) { article(id: $id, preview: true) { id title version revisions { version title } } }`,
} as const;

export type ReadKind = 'articlePage' | 'articleById' | 'latest' | 'sections' | 'preview';
/** Reads that carry the editor token: they skip the response cache and reach the store every time. */
const READS_WITH_TOKEN: ReadonlySet<ReadKind> = new Set(['sections', 'preview']);

/** An acknowledged write: the mutation returned this version and title. */
export interface Acknowledged {
  articleId: string;
  version: number;
  title: string;
  /** When the answer arrived (performance.now()). */
  at: number;
  instance: string;
}

/**
 * What editors were told was saved, per article, and which version every
 * title they ever sent stands for (titles are unique, so a read's title
 * says which version it shows, acknowledged or not).
 */
export class Ledger {
  readonly acknowledged: Acknowledged[] = [];
  private readonly versionOfTitle = new Map<string, number>();
  private readonly latestByArticle = new Map<string, Acknowledged[]>();

  /** The state an article was in before the workload began. */
  known(article: TrackedArticle): void {
    this.versionOfTitle.set(article.title, article.version);
  }

  /** Called before a save is sent: its title will stand for `version` if it lands. */
  attempt(title: string, version: number): void {
    this.versionOfTitle.set(title, version);
  }

  acknowledge(ack: Acknowledged): void {
    this.acknowledged.push(ack);
    this.versionOfTitle.set(ack.title, ack.version);
    const list = this.latestByArticle.get(ack.articleId) ?? [];
    list.push(ack);
    this.latestByArticle.set(ack.articleId, list);
  }

  /** The newest acknowledgement for `articleId` that arrived before `time`. */
  acknowledgedBefore(articleId: string, time: number): Acknowledged | undefined {
    const list = this.latestByArticle.get(articleId);
    if (!list) return undefined;
    let best: Acknowledged | undefined;
    for (const ack of list) if (ack.at < time && (!best || ack.version > best.version)) best = ack;
    return best;
  }

  /**
   * Whether showing `title` for `articleId` in a read that began at `start`
   * is stale: older than what a mutation had already acknowledged. A title
   * nobody sent counts as older than any acknowledgement.
   */
  staleness(articleId: string, title: string, start: number): Outcome['stale'] {
    const ack = this.acknowledgedBefore(articleId, start);
    if (!ack) return undefined;
    const shown = this.versionOfTitle.get(title) ?? -1;
    return shown < ack.version ? { articleId, shown: `v${shown} "${title}"`, acknowledged: `v${ack.version} "${ack.title}"` } : undefined;
  }

  articles(): string[] {
    return [...this.latestByArticle.keys()];
  }
}

/** The (id, title) pairs an answer shows, wherever they sit in it. */
function shownArticles(data: unknown): { id: string; title: string }[] {
  const found: { id: string; title: string }[] = [];
  const visit = (value: unknown, depth: number) => {
    if (depth > 6 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const record = value as Record<string, unknown>;
    if (typeof record.id === 'string' && typeof record.title === 'string') found.push({ id: record.id, title: record.title });
    for (const [key, child] of Object.entries(record)) if (key !== 'hot') visit(child, depth + 1);
  };
  visit(data, 0);
  return found;
}

export interface EditorSpec {
  name: string;
  target: Target;
  article: TrackedArticle;
  /** Pause between saves; `Workload.setEditorPause` changes it for a burst. */
  pauseMs?: number;
}

export interface WorkloadOptions {
  targets: Target[];
  token: string;
  /** Published articles the readers read (by slug and by id); the editors' articles among them. */
  articles: TrackedArticle[];
  editors: EditorSpec[];
  readers?: number;
  readPauseMs?: number;
  reads?: ReadKind[];
  /** How long a client waits for any answer. */
  clientTimeoutMs?: number;
  /** A hard stop for every loop, whatever happens. */
  maxDurationMs?: number;
  ledger?: Ledger;
  /** Put in every title the editors send, so each run's titles are its own. */
  label?: string;
}

/**
 * Readers and editors running until `stop()`: `readers` loops, each taking
 * the next instance and the next kind of read in turn; one loop per editor,
 * saving a new unique title with `expectedVersion` each time and recording
 * each acknowledgement in the ledger. Every outcome is kept.
 */
export class Workload {
  readonly outcomes: Outcome[] = [];
  readonly ledger: Ledger;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly editorPause = new Map<string, number>();
  private deadline = 0;
  private turn = 0;
  private readonly withdrawn = new Set<string>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly options: WorkloadOptions) {
    this.ledger = options.ledger ?? new Ledger();
    for (const article of options.articles) this.ledger.known(article);
    for (const editor of options.editors) this.ledger.known(editor.article);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.deadline = performance.now() + (this.options.maxDurationMs ?? 180_000);
    const readers = this.options.readers ?? 4;
    for (let i = 0; i < readers; i++) this.loops.push(this.readLoop(i));
    for (const editor of this.options.editors) this.loops.push(this.editLoop(editor));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /**
   * Takes an instance out of rotation, as a load balancer does with one that
   * is stopping: readers no longer pick it, its editors stop. Resolves once
   * nothing is in flight to it any more.
   */
  async withdraw(name: string): Promise<void> {
    this.withdrawn.add(name);
    for (let waited = 0; this.inFlight.get(name) && waited < 200; waited++) await sleep(50);
  }

  /** Changes every editor's pause (0 for a burst of saves); `null` goes back to each one's own. */
  setEditorPause(ms: number | null): void {
    for (const editor of this.options.editors) {
      if (ms === null) this.editorPause.delete(editor.name);
      else this.editorPause.set(editor.name, ms);
    }
  }

  private async tracked(target: Target, request: () => Promise<Answer>): Promise<Answer> {
    this.inFlight.set(target.name, (this.inFlight.get(target.name) ?? 0) + 1);
    try {
      return await request();
    } finally {
      this.inFlight.set(target.name, (this.inFlight.get(target.name) ?? 1) - 1);
    }
  }

  private get going(): boolean {
    return this.running && performance.now() < this.deadline;
  }

  private async readLoop(index: number): Promise<void> {
    const { targets, articles, token } = this.options;
    const reads = this.options.reads ?? ['articlePage', 'articleById', 'latest', 'sections', 'preview'];
    let step = index;
    while (this.going) {
      const target = targets[this.turn++ % targets.length]!;
      if (this.withdrawn.has(target.name)) {
        if (targets.every((one) => this.withdrawn.has(one.name))) break;
        continue;
      }
      const kind = reads[step % reads.length]!;
      const article = articles[Math.floor(step / reads.length) % articles.length]!;
      step++;
      const variables =
        kind === 'articlePage' ? { slug: article.slug } : kind === 'articleById' || kind === 'preview' ? { id: article.id } : {};
      const answer = await this.tracked(target, () =>
        post(target, QUERIES[kind], variables, {
          token: READS_WITH_TOKEN.has(kind) ? token : undefined,
          timeoutMs: this.options.clientTimeoutMs,
        }),
      );
      const outcome = toOutcome('read', kind, target, answer);
      if (outcome.code === null) {
        for (const shown of shownArticles(answer.body?.data)) {
          const stale = this.ledger.staleness(shown.id, shown.title, answer.start);
          if (stale) {
            outcome.stale = stale;
            break;
          }
        }
      }
      this.outcomes.push(outcome);
      await sleep(this.options.readPauseMs ?? 15);
    }
  }

  private async editLoop(editor: EditorSpec): Promise<void> {
    const { token, label = 'fault' } = this.options;
    const article = { ...editor.article };
    let count = 0;
    while (this.going && !this.withdrawn.has(editor.target.name)) {
      const title = `${label} ${editor.name} #${++count} ${Date.now().toString(36)}`;
      this.ledger.attempt(title, article.version + 1);
      const answer = await this.tracked(editor.target, () =>
        post(
          editor.target,
          QUERIES.update,
          { id: article.id, v: article.version, input: { title } },
          { token, timeoutMs: this.options.clientTimeoutMs },
        ),
      );
      this.outcomes.push(toOutcome('write', 'updateArticle', editor.target, answer));
      const saved = savedArticle(answer);
      if (saved) {
        this.ledger.acknowledge({
          articleId: saved.id,
          version: saved.version,
          title: saved.title,
          at: answer.end,
          instance: editor.target.name,
        });
        article.version = saved.version;
      } else if (answer.code === 'CONFLICT') {
        // A save whose answer was lost may have landed after all: go on from where the article is.
        const current = answer.body?.errors?.[0]?.extensions?.currentVersion;
        if (typeof current === 'number') article.version = current;
      }
      await sleep(this.editorPause.get(editor.name) ?? editor.pauseMs ?? 100);
    }
  }
}

function toOutcome(kind: Outcome['kind'], operation: string, target: Target, answer: Answer): Outcome {
  return {
    kind,
    operation,
    instance: target.name,
    start: answer.start,
    end: answer.end,
    status: answer.status,
    code: answer.code,
    cache: answer.cache,
    retryAfter: answer.retryAfter,
  };
}

/** The article an acknowledged updateArticle returned, or null when the save was not acknowledged. */
export function savedArticle(answer: Answer): TrackedArticle | null {
  if (answer.code !== null) return null;
  const payload = answer.body?.data?.updateArticle as { article?: { id?: unknown; title?: unknown; version?: unknown } } | undefined;
  const article = payload?.article;
  if (typeof article?.id !== 'string' || typeof article.title !== 'string' || typeof article.version !== 'number') return null;
  return { id: article.id, slug: '', title: article.title, version: article.version };
}

// ---------------------------------------------------------------------------------------------
// Setting up articles

/**
 * Creates and publishes `count` articles through `target` with an editor
 * token, in the first section; returns them as published (version 2).
 */
export async function createArticles(target: Target, token: string, count: number, label: string): Promise<TrackedArticle[]> {
  const sections = await post(target, QUERIES.sections, {}, { token });
  const section = (sections.body?.data?.sections as { id: string }[] | undefined)?.[0];
  if (!section) throw new Error(`${target.name}: could not read the sections: ${JSON.stringify(sections.body)}`);
  const created: TrackedArticle[] = [];
  for (let i = 1; i <= count; i++) {
    const input = { title: `${label} article ${i}`, section: section.id, body: [{ paragraph: `${label} 第${i}篇的正文。` }] };
    const draft = await post(target, QUERIES.create, { input }, { token });
    const made = draft.body?.data?.createArticle as { article: TrackedArticle } | undefined;
    if (!made) throw new Error(`${target.name}: createArticle failed: ${JSON.stringify(draft.body)}`);
    const published = await post(target, QUERIES.publish, { id: made.article.id, v: made.article.version }, { token });
    const done = published.body?.data?.publishArticle as { article: TrackedArticle } | undefined;
    if (!done) throw new Error(`${target.name}: publishArticle failed: ${JSON.stringify(published.body)}`);
    created.push(done.article);
  }
  return created;
}

/** Reads every public read of `articles` once through every target, so the caches hold them. */
export async function warmUp(targets: Target[], articles: TrackedArticle[]): Promise<void> {
  for (const target of targets) {
    await post(target, QUERIES.latest);
    for (const article of articles) {
      await post(target, QUERIES.articlePage, { slug: article.slug });
      await post(target, QUERIES.articleById, { id: article.id });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checks

export interface LostWritesCheck {
  /** Acknowledged writes the store no longer has (nor any revision of that version with that title). */
  lost: Acknowledged[];
  checked: number;
  /** Set when the store could not be read to check; `lost` is then meaningless. */
  unverified: string | null;
}

/**
 * Reads every article in the ledger with an editor token (`preview: true`,
 * past every cache) through the first target that answers, and finds the
 * acknowledged writes that are missing: version v with title t must be the
 * current state or a revision. Retries for up to `timeoutMs`.
 */
export async function findLostWrites(
  targets: Target[],
  token: string,
  ledger: Ledger,
  { timeoutMs = 15_000 } = {},
): Promise<LostWritesCheck> {
  const lost: Acknowledged[] = [];
  let lastProblem: string | null = null;
  for (const articleId of ledger.articles()) {
    type History = { version: number; title: string; revisions: { version: number; title: string }[] };
    let history: History | null = null;
    for (const deadline = performance.now() + timeoutMs; history === null && performance.now() < deadline; ) {
      for (const target of targets) {
        const answer = await post(target, QUERIES.history, { id: articleId }, { token, timeoutMs: 5_000 });
        const article = answer.body?.data?.article as History | null | undefined;
        if (answer.code === null && article) {
          history = article;
          break;
        }
        lastProblem = `${target.name}: ${answer.code}`;
      }
      if (history === null) await sleep(200);
    }
    if (history === null) return { lost, checked: 0, unverified: `could not read article ${articleId} (${lastProblem})` };
    const states = new Map<number, string>(history.revisions.map((revision) => [revision.version, revision.title]));
    states.set(history.version, history.title);
    for (const ack of ledger.acknowledged) {
      if (ack.articleId === articleId && states.get(ack.version) !== ack.title) lost.push(ack);
    }
  }
  return { lost, checked: ledger.acknowledged.length, unverified: null };
}

export interface Recovery {
  /** Per instance: ms from the dependency's return to the end of its first successful read and write; null if it never managed. */
  perInstance: { instance: string; readMs: number | null; writeMs: number | null; ms: number | null; failures: Record<string, number> }[];
  /** The slowest instance's recovery; null when one did not recover within the time allowed. */
  ms: number | null;
}

/**
 * From `since` (the dependency's return), through each target: a read that
 * reaches the store (an editor's preview) and a save of that target's probe
 * article, every `intervalMs`, until both have succeeded once, for at most
 * `timeoutMs` (or until `gone()` says the instance has exited). Successful saves go into the ledger like any other.
 */
export async function measureRecovery(
  probes: { target: Target; article: TrackedArticle; gone?: () => boolean }[],
  token: string,
  ledger: Ledger,
  since: number,
  { timeoutMs = 15_000, intervalMs = 25, outcomes }: { timeoutMs?: number; intervalMs?: number; outcomes?: Outcome[] } = {},
): Promise<Recovery> {
  const perInstance = await Promise.all(
    probes.map(async ({ target, article, gone = () => false }) => {
      ledger.known(article);
      let readAt: number | null = null;
      let writeAt: number | null = null;
      let count = 0;
      const failures: Record<string, number> = {};
      const failed = (answer: Answer) => {
        if (answer.code !== null) failures[answer.code] = (failures[answer.code] ?? 0) + 1;
      };
      const deadline = since + timeoutMs;
      while ((readAt === null || writeAt === null) && performance.now() < deadline && !gone()) {
        const left = Math.max(500, deadline - performance.now());
        if (readAt === null) {
          const answer = await post(target, QUERIES.preview, { id: article.id }, { token, timeoutMs: left });
          outcomes?.push(toOutcome('probe', 'preview', target, answer));
          failed(answer);
          if (answer.code === null && answer.start >= since) readAt = answer.end;
        }
        if (writeAt === null) {
          const title = `probe ${target.name} #${++count} ${Date.now().toString(36)}`;
          ledger.attempt(title, article.version + 1);
          const answer = await post(
            target,
            QUERIES.update,
            { id: article.id, v: article.version, input: { title } },
            { token, timeoutMs: left },
          );
          outcomes?.push(toOutcome('probe', 'updateArticle', target, answer));
          failed(answer);
          const saved = savedArticle(answer);
          if (saved) {
            ledger.acknowledge({ articleId: saved.id, version: saved.version, title: saved.title, at: answer.end, instance: target.name });
            article.version = saved.version;
            if (answer.start >= since) writeAt = answer.end;
          } else if (answer.code === 'CONFLICT') {
            const current = answer.body?.errors?.[0]?.extensions?.currentVersion;
            if (typeof current === 'number') article.version = current;
          }
        }
        if (readAt === null || writeAt === null) await sleep(intervalMs);
      }
      const readMs = readAt === null ? null : readAt - since;
      const writeMs = writeAt === null ? null : writeAt - since;
      return {
        instance: target.name,
        readMs,
        writeMs,
        ms: readMs === null || writeMs === null ? null : Math.max(readMs, writeMs),
        failures,
      };
    }),
  );
  const ms = perInstance.some((one) => one.ms === null) ? null : Math.max(0, ...perInstance.map((one) => one.ms ?? 0));
  return { perInstance, ms };
}

/** Requests, errors by code, stale answers and the longest waits among `outcomes` (probes left out). */
export function summarize(outcomes: Outcome[]): {
  requests: number;
  reads: number;
  writes: number;
  acknowledgedWrites: number;
  errorsByCode: Record<string, number>;
  stale: Outcome[];
  longestReadMs: number;
  longestWriteMs: number;
} {
  const counted = outcomes.filter((outcome) => outcome.kind !== 'probe');
  const errorsByCode: Record<string, number> = {};
  for (const outcome of counted) if (outcome.code !== null) errorsByCode[outcome.code] = (errorsByCode[outcome.code] ?? 0) + 1;
  const longest = (kind: Outcome['kind']) =>
    Math.max(0, ...counted.filter((outcome) => outcome.kind === kind).map((outcome) => outcome.end - outcome.start));
  return {
    requests: counted.length,
    reads: counted.filter((outcome) => outcome.kind === 'read').length,
    writes: counted.filter((outcome) => outcome.kind === 'write').length,
    acknowledgedWrites: counted.filter((outcome) => outcome.kind === 'write' && outcome.code === null).length,
    errorsByCode,
    stale: counted.filter((outcome) => outcome.stale !== undefined),
    longestReadMs: longest('read'),
    longestWriteMs: longest('write'),
  };
}
