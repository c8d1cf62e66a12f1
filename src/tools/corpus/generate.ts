import { readFileSync } from 'node:fs';

/**
 * Synthetic news pages in the scraped page-text format (see ingest/parse-page.ts),
 * for load tests and search experiments that need far more articles than the seed.
 * Everything comes from the word and sentence bank in data/corpus/bank.json.
 *
 * Page i depends only on (seed, i): each page has its own PRNG, so a corpus can be
 * generated in slices by several workers and still come out identical.
 */
export interface GeneratedPage {
  /** The whole page, as parsePage reads it. */
  text: string;
  /** The breadcrumb without 正文, e.g. ['首页', '科技', '手机']. */
  sectionPath: string[];
}

export interface GenerateOptions {
  /** How many pages to yield. */
  count: number;
  /** Any safe integer; the same seed always gives the same corpus. */
  seed: number;
  /** Index of the first page (default 0). */
  start?: number;
}

export function* generatePages(options: GenerateOptions): Generator<GeneratedPage> {
  const { count, seed, start = 0 } = options;
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`start must be a non-negative integer, got ${start}`);
  const corpus = loadCorpus();
  for (let i = start; i < start + count; i++) yield makePage(corpus, pageSeed(seed, i));
}

// ---------------------------------------------------------------------------
// The shape of data/corpus/bank.json

interface BankSection {
  name: string;
  weight: number;
  outlets?: string[];
  vocab?: Record<string, string[]>;
  headlines: string[];
  sentences: string[];
  tags: string[];
  style?: Partial<Style>;
  children?: BankSection[];
}

interface Bank {
  root: string;
  sections: BankSection[];
  common: { vocab: Record<string, string[]>; leads: string[]; sentences: string[]; closers: string[] };
  outlets: { name: string; weight: number }[];
  penNames: string[];
  people: { surnames: string[]; givenNames: string[] };
  imageCaptions: string[];
  teasers: { openings: string[]; continuations: string[] };
}

/** How a section's pages read; the colloquial 原创 pages differ from wire copy. */
interface Style {
  /** Weights for 1, 2, 3… sentences per paragraph. */
  sentencesPerParagraph: number[];
  /** Share of pages that put spaces around Latin words and numbers (`在 2023 年的 AI 热潮中`). */
  spacedLatin: number;
  /** Share of pages that use ASCII `,:?!` instead of full-width punctuation. */
  asciiPunctuation: number;
}

const DEFAULT_STYLE: Style = { sentencesPerParagraph: [30, 35, 22, 13], spacedLatin: 0.15, asciiPunctuation: 0.2 };

// ---------------------------------------------------------------------------
// Page shape. Body lengths follow a log-normal (median ≈ 1,150 characters, long
// right tail), clamped so that a whole paragraph always still fits under the cap.

const BODY_MIN = 300;
const BODY_MAX = 5_000;
const BODY_TARGET_MAX = 4_500;
const BODY_MEDIAN = 1_150;
const BODY_SIGMA = 0.55;
const TITLE_MIN = 8;
const TITLE_MAX = 40;
const HOT_MODULE_SHARE = 1 / 50;
/** How often a repeated slot reuses the page's first choice, so an article keeps to one company or person. */
const STICKINESS = 0.55;
const FIRST_DAY = Date.UTC(2015, 0, 1) / 86_400_000;
const LAST_DAY = Date.UTC(2026, 9, 31) / 86_400_000;
/** Publication hours, Beijing time: quiet at night, busiest mid-morning and afternoon. */
const HOUR_WEIGHTS = [1, 1, 0.5, 0.3, 0.3, 0.5, 2, 4, 6, 7, 7, 6, 5, 5, 6, 6, 6, 5, 4, 4, 4, 3, 2, 1.5];
const TAG_COUNT_WEIGHTS = [15, 10, 20, 25, 18, 12];
const ASCII_PUNCTUATION: Record<string, string> = { '，': ',', '：': ':', '？': '?', '！': '!' };

// ---------------------------------------------------------------------------
// Randomness

type Rng = () => number;

/** mulberry32: small, fast, and good enough for text. */
function mulberry32(state: number): Rng {
  let a = state | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** splitmix32's finaliser, used to spread (seed, index) over the PRNG's state space. */
function mix32(value: number): number {
  let x = (value + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function pageSeed(seed: number, index: number): number {
  const high = (n: number) => Math.floor(n / 4_294_967_296) >>> 0;
  let h = mix32(seed >>> 0);
  h = mix32(h ^ high(seed));
  h = mix32(h ^ (index >>> 0));
  return mix32(h ^ high(index));
}

function int(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

function between(rng: Rng, min: number, max: number): number {
  return min + int(rng, max - min + 1);
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[int(rng, items.length)]!;
}

class Weighted<T> {
  private readonly cumulative: number[] = [];
  private readonly total: number;
  constructor(
    readonly items: readonly T[],
    weights: readonly number[],
  ) {
    let sum = 0;
    for (const w of weights) this.cumulative.push((sum += w));
    this.total = sum;
  }
  index(rng: Rng): number {
    const r = rng() * this.total;
    let i = 0;
    while (this.cumulative[i]! <= r && i < this.cumulative.length - 1) i++;
    return i;
  }
  pick(rng: Rng): T {
    return this.items[this.index(rng)]!;
  }
}

const HOURS = new Weighted(
  HOUR_WEIGHTS.map((_, h) => h),
  HOUR_WEIGHTS,
);

const TAG_COUNT = new Weighted(
  TAG_COUNT_WEIGHTS.map((_, n) => n),
  TAG_COUNT_WEIGHTS,
);

function standardNormal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

// ---------------------------------------------------------------------------
// Templates: "{company}发布{product}" compiled once into literal and slot parts.

interface PageState {
  rng: Rng;
  spaced: boolean;
  /** Per slot name, the index of the page's first choice from that slot's list. */
  sticky: Map<string, number>;
  /** Templates already on the page; a sentence said twice reads as a generator. */
  used: Set<Template>;
  /** The page's outlet, for datelines such as 新华网北京4月5日电. */
  source: string;
  /** Publication date, as days since 1970-01-01 (Beijing calendar). */
  day: number;
  year: number;
  month: number;
}

type Part = string | ((state: PageState) => string);

interface Template {
  full: Part[];
  ascii: Part[];
}

interface Corpus {
  sections: Weighted<CompiledSection>;
  outlets: Weighted<string>;
  penNames: string[];
  people: Bank['people'];
}

interface CompiledSection {
  path: string[];
  style: Style;
  sentencesPerParagraph: Weighted<number>;
  headlines: Template[];
  parentHeadlines: Template[];
  sentences: Template[];
  parentSentences: Template[];
  commonSentences: Template[];
  leads: Template[];
  closers: Template[];
  images: Template[];
  teaserOpenings: Template[];
  teaserContinuations: Template[];
  tags: string[];
  outlets: string[];
  /** All sections, for teasers, which point anywhere on the portal. */
  all: CompiledSection[];
}

let cached: Corpus | undefined;

function loadCorpus(): Corpus {
  if (!cached) {
    const raw = readFileSync(new URL('../../../data/corpus/bank.json', import.meta.url), 'utf8');
    // Body lengths are budgeted in UTF-16 units, which equal characters only without astral code points.
    if (/[\uD800-\uDFFF]/u.test(raw)) throw new Error('data/corpus/bank.json: characters outside the BMP are not supported');
    cached = compileBank(JSON.parse(raw) as Bank);
  }
  return cached;
}

function compileBank(bank: Bank): Corpus {
  const outlets = new Weighted(
    bank.outlets.map((o) => o.name),
    bank.outlets.map((o) => o.weight),
  );
  const codeSlots = codeSlotMakers(outlets);
  const all: CompiledSection[] = [];
  const weights: number[] = [];

  const compileSection = (section: BankSection, parent: BankSection | null, weight: number) => {
    const chain = [section.vocab ?? {}, parent?.vocab ?? {}, bank.common.vocab];
    const where = [bank.root, parent?.name, section.name].filter(Boolean).join(' > ');
    const compile = (list: readonly string[]) => list.map((t) => compileTemplate(t, chain, codeSlots, bank.people, where));
    const style = { ...DEFAULT_STYLE, ...parent?.style, ...section.style };
    all.push({
      path: [bank.root, ...(parent ? [parent.name] : []), section.name],
      style,
      sentencesPerParagraph: new Weighted(
        style.sentencesPerParagraph.map((_, i) => i + 1),
        style.sentencesPerParagraph,
      ),
      headlines: compile(section.headlines),
      parentHeadlines: compile(parent?.headlines ?? []),
      sentences: compile(section.sentences),
      parentSentences: compile(parent?.sentences ?? []),
      commonSentences: compile(bank.common.sentences),
      leads: compile(bank.common.leads),
      closers: compile(bank.common.closers),
      images: compile(bank.imageCaptions),
      teaserOpenings: compile(bank.teasers.openings),
      teaserContinuations: compile(bank.teasers.continuations),
      tags: [...new Set([...section.tags, ...(parent?.tags ?? [])])],
      outlets: section.outlets ?? parent?.outlets ?? [],
      all,
    });
    weights.push(weight);
  };

  for (const section of bank.sections) {
    const children = section.children ?? [];
    if (children.length === 0) {
      compileSection(section, null, section.weight);
      continue;
    }
    // A parent section keeps some articles of its own; the rest go to its children.
    compileSection(section, null, section.weight * 0.3);
    const childTotal = children.reduce((n, c) => n + c.weight, 0);
    for (const child of children) compileSection(child, section, (section.weight * 0.7 * child.weight) / childTotal);
  }
  return { sections: new Weighted(all, weights), outlets, penNames: bank.penNames, people: bank.people };
}

function compileTemplate(
  template: string,
  chain: readonly Record<string, string[]>[],
  codeSlots: Record<string, (state: PageState) => string>,
  people: Bank['people'],
  where: string,
): Template {
  const pieces = template.split(/\{(\w+)\}/u);
  const full: Part[] = [];
  for (let index = 0; index < pieces.length; index++) {
    const piece = pieces[index]!;
    if (index % 2 === 0) {
      if (piece) full.push(piece);
      continue;
    }
    // {company2} is another company than the page's main one; {company} usually is the main one.
    const [, base = piece, suffix] = /^(.*?)(\d*)$/u.exec(piece) ?? [];
    const list = chain.find((vocab) => vocab[base])?.[base];
    const code = codeSlots[base];
    if (list) {
      const spaced = list.map(spaceLatin);
      full.push(listSlot(base, list.length, (i, s) => (s ? spaced[i]! : list[i]!), suffix !== ''));
    } else if (base === 'person') {
      full.push(listSlot(base, people.surnames.length * people.givenNames.length, personAt(people), suffix !== ''));
    } else if (code) {
      // Digits written next to a number slot ({number}00元, 6.{small}英寸) belong to the number,
      // so a spaced page prints " 5600 元", not " 56 00元".
      const previous = full.at(-1);
      const before = typeof previous === 'string' ? (/[0-9.]+$/u.exec(previous)?.[0] ?? '') : '';
      const after = /^[0-9A-Za-z.%]+/u.exec(pieces[index + 1] ?? '')?.[0] ?? '';
      if (before) full[full.length - 1] = (previous as string).slice(0, -before.length);
      if (after) pieces[index + 1] = pieces[index + 1]!.slice(after.length);
      full.push(spacedSlot(before || after ? (state) => before + code(state) + after : code));
    } else {
      throw new Error(`data/corpus/bank.json: unknown slot {${piece}} in "${template}" (${where})`);
    }
  }
  const parts = full.filter((p) => p !== '');
  const ascii = parts.map((p) => (typeof p === 'string' ? p.replace(/[，：？！]/gu, (c) => ASCII_PUNCTUATION[c] ?? c) : p));
  return { full: parts, ascii };
}

/** Puts spaces around runs of Latin letters and digits, as some portals print them. */
function spaceLatin(text: string): string {
  return text.replace(/[0-9A-Za-z][0-9A-Za-z.%+\-' ]*[0-9A-Za-z%+]|[0-9A-Za-z]/gu, ' $& ');
}

/**
 * A slot drawn from a list of `size` values. Repeats on a page usually return the
 * page's first choice, so an article keeps to one company or one person.
 */
function listSlot(name: string, size: number, valueAt: (i: number, spaced: boolean) => string, distinct: boolean): Part {
  return (state) => valueAt(chooseSticky(state, name, size, distinct), state.spaced);
}

function chooseSticky(state: PageState, name: string, size: number, distinct: boolean): number {
  const main = state.sticky.get(name);
  if (main === undefined) {
    const i = int(state.rng, size);
    if (!distinct) state.sticky.set(name, i);
    return i;
  }
  if (!distinct && state.rng() < STICKINESS) return main;
  const i = int(state.rng, size);
  return distinct && i === main && size > 1 ? (i + 1) % size : i;
}

/** Person i of surnames × given names; Chinese names never need spacing. */
function personAt(people: Bank['people']): (i: number) => string {
  const given = people.givenNames.length;
  return (i) => people.surnames[Math.floor(i / given)]! + people.givenNames[i % given]!;
}

function spacedSlot(make: (state: PageState) => string): Part {
  return (state) => (state.spaced ? spaceLatin(make(state)) : make(state));
}

/** Slots whose values are made rather than listed: numbers, dates, names. */
function codeSlotMakers(outlets: Weighted<string>): Record<string, (state: PageState) => string> {
  // Log-uniform, so small amounts are as common as large ones per order of magnitude, as in real copy.
  const decimal = (rng: Rng, min: number, max: number) => {
    const value = min * (max / min) ** rng();
    return value >= 100 || rng() < 0.5 ? String(Math.round(value)) : oneDecimal(value);
  };
  const calendar = (day: number) => {
    const d = new Date(day * 86_400_000);
    return { month: d.getUTCMonth() + 1, date: d.getUTCDate() };
  };
  const prices = [
    999, 1299, 1499, 1999, 2299, 2499, 2699, 2999, 3299, 3499, 3999, 4299, 4499, 4999, 5499, 5999, 6499, 6999, 7999, 8999, 9999, 12999,
  ];
  return {
    number: ({ rng }) => String(rng() < 0.6 ? between(rng, 10, 99) : between(rng, 100, 999)),
    small: ({ rng }) => String(between(rng, 2, 12)),
    percent: ({ rng }) => {
      const value = 0.5 + 60 * rng() ** 1.6;
      return `${rng() < 0.5 ? Math.round(value) : oneDecimal(value)}%`;
    },
    money: ({ rng }) => {
      const r = rng();
      if (r < 0.6) return `${decimal(rng, 1, 999)}亿元`;
      if (r < 0.8) return `${decimal(rng, 100, 9_999)}万元`;
      return `${decimal(rng, 1, 300)}亿美元`;
    },
    count: ({ rng }) => {
      const r = rng();
      if (r < 0.55) return `${decimal(rng, 2, 9_999)}万`;
      if (r < 0.75) return `${decimal(rng, 1, 12)}亿`;
      return String(between(rng, 1_000, 99_999));
    },
    date: (state) => {
      const { month, date } = calendar(state.day - int(state.rng, 12));
      return `${month}月${date}日`;
    },
    month: (state) => `${((state.month - 1 - int(state.rng, 3) + 12) % 12) + 1}月`,
    year: (state) => String(state.year + [-1, 0, 0, 0, 1][int(state.rng, 5)]!),
    founded: ({ rng }) => String(between(rng, 1984, 2016)),
    price: ({ rng }) => String(pick(rng, prices)),
    carprice: ({ rng }) => `${(6 + rng() * rng() * 60).toFixed(2)}万元`,
    rating: ({ rng }) => (5 + rng() * 4.6).toFixed(1),
    units: ({ rng }) => (rng() < 0.5 ? String(between(rng, 1_000, 9_999)) : `${oneDecimal(1 + rng() * 29)}万`),
    outlet: ({ rng }) => outlets.pick(rng),
    source: ({ source }) => source,
  };
}

/** 12.3, or 12 rather than 12.0. */
function oneDecimal(value: number): string {
  const text = value.toFixed(1);
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

function render(template: Template, state: PageState, ascii: boolean): string {
  let out = '';
  for (const part of ascii ? template.ascii : template.full) out += typeof part === 'string' ? part : part(state);
  return out;
}

// ---------------------------------------------------------------------------
// One page

function makePage(corpus: Corpus, seed: number): GeneratedPage {
  const rng = mulberry32(seed);
  const section = corpus.sections.pick(rng);
  const day = FIRST_DAY + int(rng, LAST_DAY - FIRST_DAY + 1);
  const published = new Date(day * 86_400_000);
  const state: PageState = {
    rng,
    spaced: false,
    sticky: new Map(),
    used: new Set(),
    source: '',
    day,
    year: published.getUTCFullYear(),
    month: published.getUTCMonth() + 1,
  };
  const hour = HOURS.index(rng);
  const time = `${published.toISOString().slice(0, 10)} ${pad2(hour)}:${pad2(int(rng, 60))}:${pad2(int(rng, 60))}`;
  const outlet = section.outlets.length > 0 && rng() < 0.4 ? pick(rng, section.outlets) : corpus.outlets.pick(rng);
  state.source = outlet;

  const title = headline(section, state);
  const ascii = rng() < section.style.asciiPunctuation;
  state.spaced = rng() < section.style.spacedLatin;
  const body = bodyBlocks(section, state, ascii);

  const lines = [[...section.path, '正文'].join(' > '), title, `来源:${outlet} ${time}`, ...body, credits(corpus, state)];
  lines.push(`标签:${chooseTags(section, rng).join(' ')}`);
  if (rng() < HOT_MODULE_SHARE) {
    lines.push('编辑:', '最近更新', '热点');
    const teasers = between(rng, 3, 6);
    for (let i = 0; i < teasers; i++) lines.push(teaser(section, state, ascii), '详细>>');
  } else if (rng() < 0.3) {
    lines.push('编辑:');
  }
  return { text: `${lines.join('\n\n')}\n`, sectionPath: [...section.path] };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function headline(section: CompiledSection, state: PageState): string {
  const { rng } = state;
  let title = '';
  for (let attempt = 0; attempt < 12; attempt++) {
    const pool = section.parentHeadlines.length > 0 && rng() < 0.3 ? section.parentHeadlines : section.headlines;
    title = render(pick(rng, pool), state, false);
    if (title.length >= TITLE_MIN && title.length <= TITLE_MAX) return title;
  }
  // Twelve misses in a row do not happen with the shipped bank; stay within limits anyway.
  return title.length > TITLE_MAX ? title.slice(0, TITLE_MAX) : title.padEnd(TITLE_MIN, '！');
}

function bodyBlocks(section: CompiledSection, state: PageState, ascii: boolean): string[] {
  const { rng } = state;
  const target = Math.min(BODY_TARGET_MAX, Math.max(BODY_MIN, Math.round(BODY_MEDIAN * Math.exp(BODY_SIGMA * standardNormal(rng)))));
  const paragraphs: string[] = [];
  let total = 0;
  while (total < target) {
    let text = paragraphs.length === 0 && rng() < 0.45 ? render(pick(rng, section.leads), state, ascii) : '';
    const sentences = section.sentencesPerParagraph.pick(rng);
    for (let i = 0; i < sentences; i++) text += render(sentence(section, state), state, ascii);
    text = tidy(text, state.spaced);
    // Only reachable near the cap: the target leaves room for any single paragraph.
    if (total + text.length > BODY_MAX) break;
    paragraphs.push(text);
    total += text.length;
  }
  if (rng() < 0.2) {
    const closer = render(pick(rng, section.closers), state, ascii);
    if (total + closer.length <= BODY_MAX) paragraphs.push(closer);
  }
  if (rng() < 0.3) {
    // Captions keep the page's companies and people but are never spaced out.
    const caption = { ...state, spaced: false };
    const images = rng() < 0.3 ? 2 : 1;
    for (let i = 0; i < images; i++) {
      paragraphs.splice(between(rng, 1, paragraphs.length), 0, render(pick(rng, section.images), caption, false));
    }
  }
  return paragraphs;
}

/** A sentence for the body: mostly the section's own, some from its parent and the common stock. */
function sentence(section: CompiledSection, state: PageState): Template {
  const r = state.rng();
  const pool =
    r < 0.2 ? section.commonSentences : r < 0.4 && section.parentSentences.length > 0 ? section.parentSentences : section.sentences;
  // Long articles exhaust one pool; the others still have sentences the page has not used.
  return (
    unused(state, pool) ??
    unused(state, section.sentences) ??
    unused(state, section.parentSentences) ??
    unused(state, section.commonSentences) ??
    pick(state.rng, pool)
  );
}

/** A template not yet on the page, if a few draws find one. */
function unused(state: PageState, pool: readonly Template[]): Template | undefined {
  if (pool.length === 0) return undefined;
  for (let attempt = 0; attempt < 6; attempt++) {
    const template = pick(state.rng, pool);
    if (!state.used.has(template)) {
      state.used.add(template);
      return template;
    }
  }
  return undefined;
}

/** Spaced pages get runs of spaces where two slots meet; the parser trims lines. */
function tidy(text: string, spaced: boolean): string {
  return spaced ? text.replace(/ {2,}/gu, ' ').trim() : text;
}

function credits(corpus: Corpus, state: PageState): string {
  const { rng } = state;
  const person = () => pick(rng, corpus.people.surnames) + pick(rng, corpus.people.givenNames);
  const writerLabel = pick(rng, ['撰文', '撰文', '撰文', '撰文', '作者', '作者', '记者']);
  const writerName = () => (writerLabel === '记者' ? person() : pick(rng, corpus.penNames));
  const writers = rng() < 0.1 ? `${writerName()}、${writerName()}` : writerName();
  const editorLabel = pick(rng, ['编辑', '编辑', '编辑', '编辑', '编辑', '责任编辑', '责编']);
  const editor = editorLabel === '责任编辑' ? person() : pick(rng, corpus.penNames);
  const parts: [string, string][] = [
    [writerLabel, writers],
    [editorLabel, editor],
  ];
  if (rng() < 0.65) parts.push(['封面', pick(rng, corpus.penNames)]);
  return rng() < 0.8
    ? parts.map(([label, name]) => `${label}:${name}`).join('')
    : parts.map(([label, name]) => `${label}：${name}`).join(' ');
}

function chooseTags(section: CompiledSection, rng: Rng): string[] {
  const wanted = Math.min(TAG_COUNT.pick(rng), section.tags.length);
  const tags: string[] = [];
  while (tags.length < wanted) {
    const tag = pick(rng, section.tags);
    if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/** A 热点 teaser: the opening of some other story on the portal, cut off mid-sentence as scraped. */
function teaser(section: CompiledSection, state: PageState, ascii: boolean): string {
  const { rng } = state;
  const other = pick(rng, section.all);
  // Another story: its own companies and people, not this page's.
  const story = { ...state, sticky: new Map<string, number>(), spaced: false };
  const text = render(pick(rng, other.teaserOpenings), story, ascii) + render(pick(rng, other.teaserContinuations), story, ascii);
  return text.slice(0, between(rng, 52, 64));
}
