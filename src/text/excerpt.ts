import type { TextBlock } from './measure.js';

export const EXCERPT_MAX_CHARACTERS = 200;

const SENTENCE_END = /[。！？!?…]/u;

/**
 * The start of the body's text in at most `max` characters (code points, so
 * no character is ever split). It ends at the last sentence end that fits
 * when that keeps at least half of `max`; otherwise one long sentence would
 * shrink the excerpt to a stub, so the text is cut and ends in an ellipsis,
 * which counts toward `max`.
 */
export function makeExcerpt(body: readonly TextBlock[], max = EXCERPT_MAX_CHARACTERS): string {
  const paragraphs = body.flatMap((b) => (b.type === 'paragraph' && b.text.trim() ? [b.text.trim()] : []));
  const chars = Array.from(paragraphs.join(' '));
  if (chars.length <= max) return chars.join('');
  const window = chars.slice(0, max);
  for (let i = window.length - 1; i >= max / 2; i--) {
    if (SENTENCE_END.test(window[i]!)) return window.slice(0, i + 1).join('');
  }
  return `${window
    .slice(0, max - 1)
    .join('')
    .trimEnd()}…`;
}
