import { isCjkTerm } from './segment.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

interface Hit {
  start: number;
  end: number;
  term: string;
}

const LATIN_WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Where the terms occur in `text` (indices into `chars`). Latin terms match
 * whole words, ignoring case (meta does not light up inside metadata); CJK
 * terms match anywhere, as Chinese has no word boundaries to respect.
 */
function findHits(chars: readonly string[], folded: readonly string[], terms: readonly string[]): Hit[] {
  const sorted = [...terms].sort((a, b) => [...b].length - [...a].length);
  const hits: Hit[] = [];
  for (let i = 0; i < chars.length; ) {
    let hit: Hit | null = null;
    for (const term of sorted) {
      const t = [...term];
      if (!t.every((c, k) => folded[i + k] === c)) continue;
      const end = i + t.length;
      if (!isCjkTerm(term)) {
        const before = chars[i - 1];
        const after = chars[end];
        if ((before && LATIN_WORD_CHAR.test(before) && !isCjkTerm(before)) || (after && LATIN_WORD_CHAR.test(after) && !isCjkTerm(after))) {
          continue;
        }
      }
      hit = { start: i, end, term };
      break;
    }
    if (hit) {
      hits.push(hit);
      i = hit.end;
    } else {
      i++;
    }
  }
  return hits;
}

/**
 * The passage of `text` of at most `max` characters that holds the most
 * distinct query terms, as safe HTML with the terms in <mark>. It starts a
 * little before its first match, and an ellipsis marks text left out. With
 * no match it is the start of the text.
 */
export function makeSnippet(text: string, terms: readonly string[], max = 120): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  // Case folding per character keeps indices aligned with the original text.
  const folded = chars.map((c) => {
    const lower = c.toLowerCase();
    return Array.from(lower).length === 1 ? lower : c;
  });
  const hits = findHits(
    chars,
    folded,
    terms.map((t) => t.toLowerCase()),
  );
  if (chars.length <= max && hits.length === 0) return escapeHtml(chars.join(''));

  let bestStart = 0;
  if (hits.length > 0 && chars.length > max) {
    // For each hit, the window starting there; keep the one holding the most distinct terms, then the most hits.
    let best = { distinct: -1, count: -1, index: 0 };
    for (let a = 0; a < hits.length; a++) {
      const inWindow = hits.filter((h) => h.start >= hits[a]!.start && h.end <= hits[a]!.start + max);
      const distinct = new Set(inWindow.map((h) => h.term)).size;
      if (distinct > best.distinct || (distinct === best.distinct && inWindow.length > best.count)) {
        best = { distinct, count: inWindow.length, index: a };
      }
    }
    const first = hits[best.index]!.start;
    // Some context before the first match, preferably from the start of its sentence.
    const lead = Math.min(20, Math.floor(max / 5));
    bestStart = Math.max(0, first - lead);
    for (let i = first - 1; i >= bestStart; i--) {
      if (/[。！？!?；;]/u.test(chars[i]!)) {
        bestStart = i + 1;
        break;
      }
    }
  }
  while (chars[bestStart] === ' ') bestStart++;
  const end = Math.min(chars.length, bestStart + max);
  // Adjacent hits (深度学习 + 框架) read as one highlighted phrase.
  const marks: { start: number; end: number }[] = [];
  for (const hit of hits) {
    if (hit.start < bestStart || hit.end > end) continue;
    const last = marks.at(-1);
    if (last && last.end === hit.start) last.end = hit.end;
    else marks.push({ start: hit.start, end: hit.end });
  }
  let html = bestStart > 0 ? '…' : '';
  let at = bestStart;
  for (const mark of marks) {
    html += escapeHtml(chars.slice(at, mark.start).join(''));
    html += `<mark>${escapeHtml(chars.slice(mark.start, mark.end).join(''))}</mark>`;
    at = mark.end;
  }
  html += escapeHtml(chars.slice(at, end).join('')).trimEnd();
  if (end < chars.length) html += '…';
  return html;
}
