/**
 * A block of an article's body as text work needs it: a paragraph's text or
 * an image's caption. The data module's content blocks fit it as they are.
 */
export type TextBlock = { type: 'paragraph'; text: string } | { type: 'image'; caption: string | null };

// Han ideographs plus the Japanese syllabaries: each character is read as one word.
const CJK = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}`;
const WORD = new RegExp(String.raw`(?<cjk>[${CJK}])|(?:(?![${CJK}])[\p{L}\p{N}])+`, 'gu');

export interface TextMeasure {
  cjkCharacters: number;
  latinWords: number;
}

export function measureText(text: string): TextMeasure {
  let cjkCharacters = 0;
  let latinWords = 0;
  for (const match of text.matchAll(WORD)) {
    if (match.groups?.cjk) cjkCharacters++;
    else latinWords++;
  }
  return { cjkCharacters, latinWords };
}

/** Chinese readers count characters: each CJK character is a word, each run of other letters or digits is one. */
export function countWords(text: string): number {
  const { cjkCharacters, latinWords } = measureText(text);
  return cjkCharacters + latinWords;
}

// Silent reading of modern Chinese runs at roughly 300–500 characters a
// minute; 400 is the usual planning figure. Latin words inside Chinese text
// (product names, acronyms) read slower than in English prose, hence 200.
// Images get Medium's 12 seconds each.
const CJK_PER_MINUTE = 400;
const LATIN_WORDS_PER_MINUTE = 200;
const SECONDS_PER_IMAGE = 12;

export interface BodyMeasure {
  wordCount: number;
  readingMinutes: number;
}

export function measureBody(body: readonly TextBlock[]): BodyMeasure {
  let cjk = 0;
  let latin = 0;
  let images = 0;
  for (const block of body) {
    if (block.type === 'image') {
      images++;
      continue;
    }
    const m = measureText(block.text);
    cjk += m.cjkCharacters;
    latin += m.latinWords;
  }
  const minutes = cjk / CJK_PER_MINUTE + latin / LATIN_WORDS_PER_MINUTE + (images * SECONDS_PER_IMAGE) / 60;
  return { wordCount: cjk + latin, readingMinutes: Math.max(1, Math.ceil(minutes)) };
}

/** The searchable text of a body: paragraphs and image captions, one per line. */
export function bodyText(body: readonly TextBlock[]): string {
  return body.map((b) => (b.type === 'paragraph' ? b.text : (b.caption ?? ''))).join('\n');
}
