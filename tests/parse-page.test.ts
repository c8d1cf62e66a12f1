import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ParsedPage } from '../src/data/page.js';
import { PageParseError, parsePage } from '../src/ingest/parse-page.js';

const SEED_PATH = new URL('../data/pages/000_7c4c67a24975574d.txt', import.meta.url);
const SEED_TEXT = readFileSync(SEED_PATH, 'utf8');
const SEED_SOURCE = 'data/pages/000_7c4c67a24975574d.txt';

const BREADCRUMB = '首页 > 原创 > 正文';
const TITLE = '去年股价跌去四分之三的meta 元宇宙的故事才刚刚开始';
const SOURCE_LINE = '来源:凤凰网 2023-04-23 09:40:36';

interface PageParts {
  breadcrumb?: string;
  title?: string;
  source?: string;
  body?: string[];
  /** Lines after the body: credits, 标签:, 编辑:, teaser modules. */
  footer?: string[];
}

/** A small page in the portal's format, one line per part, blank lines omitted. */
function page({ breadcrumb = BREADCRUMB, title = '标题', source = SOURCE_LINE, body = ['第一段。'], footer = [] }: PageParts = {}): string {
  return [breadcrumb, title, source, ...body, ...footer].join('\n');
}

/** Runs the parser and returns the PageParseError it throws, failing the test when it throws nothing or something else. */
function parseError(text: string, source = 'pages[7]'): PageParseError {
  try {
    parsePage(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(PageParseError);
    return error as PageParseError;
  }
  throw new Error(`expected parsePage to throw a PageParseError for:\n${text}`);
}

function expectErrorAt(text: string, line: number, reason: RegExp): PageParseError {
  const source = 'pages[7]';
  const error = parseError(text, source);
  expect(error.line).toBe(line);
  expect(error.source).toBe(source);
  expect(error.message.startsWith(`${source}:${line}: `), error.message).toBe(true);
  expect(error.reason).toMatch(reason);
  expect(error.message).toBe(`${source}:${line}: ${error.reason}`);
  return error;
}

function paragraphs(parsed: ParsedPage): string[] {
  return parsed.body.flatMap((b) => (b.type === 'paragraph' ? [b.text] : []));
}

describe('parsePage on the seed page', () => {
  const seed = parsePage(SEED_TEXT, SEED_SOURCE);

  it('reads the breadcrumb, dropping the 正文 crumb', () => {
    expect(seed.sectionPath).toEqual(['首页', '原创']);
  });

  it('reads the headline exactly', () => {
    expect(seed.title).toBe(TITLE);
  });

  it('reads the outlet from the source line', () => {
    expect(seed.sourceName).toBe('凤凰网');
  });

  it('reads the publication time as Beijing time', () => {
    expect(seed.publishedAt).toBe(Date.parse('2023-04-23T09:40:36+08:00'));
  });

  it('has 70 body blocks, 69 of them paragraphs', () => {
    expect(seed.body).toHaveLength(70);
    expect(paragraphs(seed)).toHaveLength(69);
  });

  it('turns (资料图) into an image placeholder at index 3', () => {
    expect(seed.body[3]).toEqual({ type: 'image', caption: '资料图', url: null });
    expect(seed.body.filter((b) => b.type === 'image')).toHaveLength(1);
  });

  it('keeps the first and last paragraphs exactly', () => {
    const texts = paragraphs(seed);
    expect(texts[0]).toBe('在各种 AI 新闻满天飞的 2023 年,大家还记得大明湖畔的元宇宙吗?');
    expect(texts.at(-1)).toBe('元宇宙这个不久前还那么缥缈的概念,在 AI 的助力下,好像也没那么的玄了。');
  });

  it('keeps every body line of the file, in order, as a block', () => {
    // Computed from the raw file, independently of the parser: the trimmed
    // non-empty lines strictly between the 来源 line and the credits line.
    const rawLines = SEED_TEXT.split('\n').map((l) => l.trim());
    const from = rawLines.findIndex((l) => l.startsWith('来源:'));
    const to = rawLines.findIndex((l) => l.startsWith('撰文:'));
    expect(from).toBeGreaterThan(0);
    expect(to).toBeGreaterThan(from);
    const expected = rawLines.slice(from + 1, to).filter((l) => l !== '');
    expect(expected).toHaveLength(70);

    expect(seed.body).toHaveLength(expected.length);
    seed.body.forEach((block, i) => {
      if (block.type === 'paragraph') expect(block.text, `block ${i}`).toBe(expected[i]);
      else expect(expected[i], `block ${i}`).toBe('(资料图)');
    });
  });

  it('reads the three credits from the credits line', () => {
    expect(seed.credits).toEqual([
      { role: 'WRITER', label: '撰文', name: '晚上吃早饭' },
      { role: 'EDITOR', label: '编辑', name: '江江' },
      { role: 'COVER', label: '封面', name: '萱萱' },
    ]);
  });

  it('has no tags when the 标签: line is empty', () => {
    expect(seed.tags).toEqual([]);
  });

  it('reads the six 热点 teasers in page order without their 详细>> links', () => {
    expect(seed.teasers).toEqual([
      {
        kind: 'HOT',
        text: '2023年4月8日(上海)——黑马原力在上海徐汇滨江进行了品牌全球首发。品牌首款MPS产品G60小黑在发布会现场以自动驾驶的方式闪亮登场,点燃',
      },
      {
        kind: 'HOT',
        text: 'CB-FH52是爱普生推出的3LCD商务投影机。作为新一代的商务投影机,CB-FH52具有高达4000流明的色彩亮度,投屏画面明亮清晰、色彩鲜艳,一经推',
      },
      {
        kind: 'HOT',
        text: '2023年2月16日,由流媒体网、易目唯文化主办,黑龙江龙网视传媒有限公司协办的第七届金屏奖暨2022年度中国智能视听与科技创新产业盛典在哈',
      },
      {
        kind: 'HOT',
        text: '2月14日,首届华彩杯算力基础设施应用创新大赛(以下简称大赛)在京正式启动。中国工程院邬贺铨院士、张宏科院士,工信部信息通信发展司一级巡',
      },
      {
        kind: 'HOT',
        text: '2023年1月13日,2022(第六届)中国行业数字化年度风云榜(以下简称2022风云榜)评选结果正式发布。本届风云榜由信息化观察网组织发起,以5',
      },
      {
        kind: 'HOT',
        text: '每年过年,必不可少的项目之一,就是发红包。一封封烫金封口、漂亮厚实的红包,带着一句句恭喜发财的欢乐祝福,浓浓的年味瞬间扑面而来。在',
      },
    ]);
    expect(seed.teasers.some((t) => t.text.includes('详细'))).toBe(false);
  });

  it('has no 最近更新 teasers when that module is empty', () => {
    expect(seed.teasers.filter((t) => t.kind === 'LATEST')).toEqual([]);
  });

  it('gets a slug of the Beijing date and a 12-digit hex digest', () => {
    expect(seed.slug).toMatch(/^20230423-[0-9a-f]{12}$/);
  });

  it('gets the same slug when the same page is parsed again', () => {
    expect(parsePage(SEED_TEXT, 'elsewhere.txt').slug).toBe(seed.slug);
  });

  it('gets a different slug when the title differs', () => {
    const retitled = parsePage(SEED_TEXT.replace(TITLE, `${TITLE}(更新)`), SEED_SOURCE);
    expect(retitled.title).toBe(`${TITLE}(更新)`);
    expect(retitled.slug).toMatch(/^20230423-[0-9a-f]{12}$/);
    expect(retitled.slug).not.toBe(seed.slug);
  });
});

describe('parsePage line endings', () => {
  const seed = parsePage(SEED_TEXT, SEED_SOURCE);

  it('parses a page with a byte-order mark like the page without one', () => {
    expect(parsePage(`\uFEFF${SEED_TEXT}`, SEED_SOURCE)).toEqual(seed);
  });

  it('parses CRLF line endings like LF', () => {
    const crlf = SEED_TEXT.replaceAll('\n', '\r\n');
    expect(crlf).not.toBe(SEED_TEXT);
    expect(parsePage(crlf, SEED_SOURCE)).toEqual(seed);
  });

  it('parses lone CR line endings like LF', () => {
    expect(parsePage(SEED_TEXT.replaceAll('\n', '\r'), SEED_SOURCE)).toEqual(seed);
  });

  it('parses a BOM with CRLF like the plain page', () => {
    expect(parsePage(`\uFEFF${SEED_TEXT.replaceAll('\n', '\r\n')}`, SEED_SOURCE)).toEqual(seed);
  });

  it('counts CRLF lines one each in error line numbers', () => {
    const text = ['首页 > 原创 > 正文', '', '标题', '', '来源:凤凰网 2023-02-30 09:40:36', '', '正文。'].join('\r\n');
    expectErrorAt(text, 5, /impossible date/);
  });
});

describe('parsePage rejects malformed pages', () => {
  it('rejects empty text at line 1', () => {
    expectErrorAt('', 1, /empty page/);
  });

  it('rejects text made only of blank lines at line 1', () => {
    expectErrorAt('\n  \n\n', 1, /empty page/);
  });

  it('rejects a first line without a breadcrumb separator', () => {
    expectErrorAt(page({ breadcrumb: '首页 原创 正文' }), 1, /no breadcrumb header/);
  });

  it('reports the breadcrumb error on the first non-blank line', () => {
    expectErrorAt(`\n\n${page({ breadcrumb: '这是一行普通文字' })}`, 3, /no breadcrumb header/);
  });

  it('rejects a breadcrumb with an empty crumb', () => {
    expectErrorAt(page({ breadcrumb: '首页 > > 正文' }), 1, /no breadcrumb header/);
  });

  it('rejects a breadcrumb followed directly by the 来源 line as missing its title', () => {
    const text = [BREADCRUMB, SOURCE_LINE, '第一段。'].join('\n');
    expectErrorAt(text, 2, /missing title/);
  });

  it('accepts a headline that begins with the word 来源', () => {
    const parsed = parsePage(page({ title: '来源不明的包裹引发虚惊' }), 'pages[7]');
    expect(parsed.title).toBe('来源不明的包裹引发虚惊');
    expect(parsed.sourceName).toBe('凤凰网');
  });

  it('rejects a page that is only a breadcrumb as missing its title', () => {
    expectErrorAt(BREADCRUMB, 1, /missing title/);
  });

  it('rejects a title followed by body text as missing its source line', () => {
    const text = [BREADCRUMB, '标题', '第一段。', '第二段。'].join('\n');
    expectErrorAt(text, 3, /missing source line/);
  });

  it('rejects a source line without a time as missing its source line', () => {
    expectErrorAt(page({ source: '来源:凤凰网' }), 3, /missing source line/);
  });

  it('rejects a page that ends after the title as missing its source line', () => {
    expectErrorAt([BREADCRUMB, '标题'].join('\n'), 2, /missing source line/);
  });

  it.each([
    ['February 30th', '2023-02-30 09:40:36'],
    ['hour 25', '2023-04-23 25:00:00'],
    ['month 13', '2023-13-01 00:00:00'],
    ['minute 60', '2023-04-23 09:60:00'],
    ['February 29th of a common year', '2023-02-29 12:00:00'],
  ])('rejects an impossible date (%s) on the source line', (_, when) => {
    const error = expectErrorAt(page({ source: `来源:凤凰网 ${when}` }), 3, /impossible date/);
    expect(error.reason).toContain(when);
  });

  it('accepts February 29th of a leap year', () => {
    const parsed = parsePage(page({ source: '来源:凤凰网 2024-02-29 23:59:59' }), 'pages[7]');
    expect(parsed.publishedAt).toBe(Date.parse('2024-02-29T23:59:59+08:00'));
  });

  it('rejects a page with no body after the source line', () => {
    expectErrorAt(page({ body: [], footer: ['标签:', '编辑:', '热点', '一条热点', '详细>>'] }), 3, /no body/);
  });

  it('rejects a page that ends at the source line', () => {
    expectErrorAt(page({ body: [] }), 3, /no body/);
  });

  it('rejects a page whose only line after the source is a credits line', () => {
    expectErrorAt(page({ body: ['撰文:甲编辑:乙'] }), 3, /no body/);
  });

  it('rejects an unexpected line between 标签: and 最近更新', () => {
    const text = page({ body: ['第一段。'], footer: ['标签:', '随便写的一行字', '最近更新', '一条新闻', '详细>>'] });
    const error = expectErrorAt(text, 6, /unexpected line/);
    expect(error.reason).toContain('随便写的一行字');
  });

  it('rejects a 详细>> that closes no teaser text', () => {
    const text = page({ footer: ['标签:', '热点', '详细>>'] });
    expectErrorAt(text, 7, /no text/);
  });

  it('rejects a second 详细>> in a row', () => {
    const text = page({ footer: ['热点', '一条热点', '详细>>', '详细>>'] });
    expectErrorAt(text, 8, /no text/);
  });

  it('rejects a title longer than 200 characters', () => {
    expectErrorAt(page({ title: '长'.repeat(201) }), 2, /title is longer than 200/);
  });

  it('counts title length in code points, so 200 astral characters are allowed', () => {
    const title = '𠮷'.repeat(200);
    expect(parsePage(page({ title }), 'pages[7]').title).toBe(title);
    expectErrorAt(page({ title: '𠮷'.repeat(201) }), 2, /title is longer than 200/);
  });

  it('accepts a title of exactly 200 characters', () => {
    const title = '长'.repeat(200);
    expect(parsePage(page({ title }), 'pages[7]').title).toBe(title);
  });

  it('names the source it was given in the message', () => {
    const error = parseError('', 'data/pages/broken.txt');
    expect(error.name).toBe('PageParseError');
    expect(error.message).toMatch(/^data\/pages\/broken\.txt:1: empty page/);
  });
});

describe('parsePage footers, credits and teasers', () => {
  it('splits tags on spaces and 、', () => {
    const parsed = parsePage(page({ footer: ['标签: 元宇宙 Meta、AI'] }), 'pages[7]');
    expect(parsed.tags).toEqual(['元宇宙', 'Meta', 'AI']);
  });

  it('drops repeated tags', () => {
    const parsed = parsePage(page({ footer: ['标签:AI, AI，元宇宙'] }), 'pages[7]');
    expect(parsed.tags).toEqual(['AI', '元宇宙']);
  });

  it('adds the footer 编辑: as an EDITOR credit', () => {
    const parsed = parsePage(page({ footer: ['撰文:甲', '标签:', '编辑: 小王'] }), 'pages[7]');
    expect(parsed.credits).toEqual([
      { role: 'WRITER', label: '撰文', name: '甲' },
      { role: 'EDITOR', label: '编辑', name: '小王' },
    ]);
  });

  it('does not repeat an editor already credited under the same name', () => {
    const parsed = parsePage(page({ footer: ['撰文:甲编辑:小王', '标签:', '编辑: 小王'] }), 'pages[7]');
    expect(parsed.credits).toEqual([
      { role: 'WRITER', label: '撰文', name: '甲' },
      { role: 'EDITOR', label: '编辑', name: '小王' },
    ]);
  });

  it('does not repeat an editor already credited when the page has no 标签: line', () => {
    const parsed = parsePage(page({ footer: ['撰文:甲编辑:小王', '编辑: 小王', '热点', '一条热点', '详细>>'] }), 'pages[7]');
    expect(parsed.credits).toEqual([
      { role: 'WRITER', label: '撰文', name: '甲' },
      { role: 'EDITOR', label: '编辑', name: '小王' },
    ]);
    expect(parsed.body).toEqual([{ type: 'paragraph', text: '第一段。' }]);
  });

  it('reads several names after one credit label', () => {
    const parsed = parsePage(page({ footer: ['编辑:甲、乙'] }), 'pages[7]');
    expect(parsed.credits).toEqual([
      { role: 'EDITOR', label: '编辑', name: '甲' },
      { role: 'EDITOR', label: '编辑', name: '乙' },
    ]);
  });

  it('reads 责任编辑: as an EDITOR credit keeping its label', () => {
    const parsed = parsePage(page({ footer: ['撰文:张三责任编辑:李四'] }), 'pages[7]');
    expect(parsed.credits).toEqual([
      { role: 'WRITER', label: '撰文', name: '张三' },
      { role: 'EDITOR', label: '责任编辑', name: '李四' },
    ]);
  });

  it('reads credits written with full-width colons', () => {
    const parsed = parsePage(page({ footer: ['撰文：甲编辑：乙封面：丙', '标签：AI'] }), 'pages[7]');
    expect(parsed.credits).toEqual([
      { role: 'WRITER', label: '撰文', name: '甲' },
      { role: 'EDITOR', label: '编辑', name: '乙' },
      { role: 'COVER', label: '封面', name: '丙' },
    ]);
    expect(parsed.tags).toEqual(['AI']);
  });

  it('reads credits spread over several lines, in page order', () => {
    const parsed = parsePage(page({ footer: ['记者:甲', '责编:乙'] }), 'pages[7]');
    expect(parsed.credits).toEqual([
      { role: 'WRITER', label: '记者', name: '甲' },
      { role: 'EDITOR', label: '责编', name: '乙' },
    ]);
    expect(parsed.body).toEqual([{ type: 'paragraph', text: '第一段。' }]);
  });

  it('turns a full-width-parenthesised caption into an image placeholder', () => {
    const parsed = parsePage(page({ body: ['第一段。', '（图片来源：网络）', '第二段。'] }), 'pages[7]');
    expect(parsed.body).toEqual([
      { type: 'paragraph', text: '第一段。' },
      { type: 'image', caption: '图片来源：网络', url: null },
      { type: 'paragraph', text: '第二段。' },
    ]);
  });

  it('keeps a parenthesised line that does not mention 图 as a paragraph', () => {
    const parsed = parsePage(page({ body: ['(不构成投资建议)'] }), 'pages[7]');
    expect(parsed.body).toEqual([{ type: 'paragraph', text: '(不构成投资建议)' }]);
  });

  it('reads teasers under 最近更新 as LATEST and under 热点 as HOT', () => {
    const parsed = parsePage(page({ footer: ['标签:', '最近更新', '一条最新消息', '详细>>', '热点', '一条热点', '详细>>'] }), 'pages[7]');
    expect(parsed.teasers).toEqual([
      { kind: 'LATEST', text: '一条最新消息' },
      { kind: 'HOT', text: '一条热点' },
    ]);
  });

  it('keeps the last teaser when its 详细>> link is missing', () => {
    const parsed = parsePage(page({ footer: ['热点', '第一条', '详细>>', '第二条没有链接'] }), 'pages[7]');
    expect(parsed.teasers).toEqual([
      { kind: 'HOT', text: '第一条' },
      { kind: 'HOT', text: '第二条没有链接' },
    ]);
  });

  it('joins a teaser spread over several lines with newlines', () => {
    const parsed = parsePage(page({ footer: ['热点', '上半句', '下半句', '详细>>'] }), 'pages[7]');
    expect(parsed.teasers).toEqual([{ kind: 'HOT', text: '上半句\n下半句' }]);
  });

  it('keeps every crumb as a section when the breadcrumb does not end in 正文', () => {
    const parsed = parsePage(page({ breadcrumb: '首页 > 科技 > 人工智能' }), 'pages[7]');
    expect(parsed.sectionPath).toEqual(['首页', '科技', '人工智能']);
  });

  it('accepts a full-width ＞ as a breadcrumb separator', () => {
    const parsed = parsePage(page({ breadcrumb: '首页＞原创＞正文' }), 'pages[7]');
    expect(parsed.sectionPath).toEqual(['首页', '原创']);
  });

  it('leaves sourceName null when the source line names no outlet', () => {
    const parsed = parsePage(page({ source: '来源: 2023-04-23 09:40:36' }), 'pages[7]');
    expect(parsed.sourceName).toBeNull();
    expect(parsed.publishedAt).toBe(Date.parse('2023-04-23T09:40:36+08:00'));
  });

  it('reads a source time without seconds as :00', () => {
    const parsed = parsePage(page({ source: '来源：凤凰网 2023-04-23 09:40' }), 'pages[7]');
    expect(parsed.sourceName).toBe('凤凰网');
    expect(parsed.publishedAt).toBe(Date.parse('2023-04-23T09:40:00+08:00'));
  });

  it('dates the slug in Beijing time even when the UTC date is the day before', () => {
    const parsed = parsePage(page({ source: '来源:凤凰网 2023-04-23 02:00:00' }), 'pages[7]');
    expect(parsed.slug).toMatch(/^20230423-[0-9a-f]{12}$/);
  });
});
