import { stemmer } from 'stemmer';

/**
 * How recall reads text: words, identifiers split into their parts, stop words out, and
 * Porter stems (the algorithm of FTS5's `porter` tokenizer, so a stem here is a term there).
 */

/** Words that carry no topic, including the question words cues are phrased with. */
export const STOPWORDS = new Set(
  (
    'a about after all also am an and any are as at be been before being but by can could did do does doing done for from get gets getting got had has have having he her here him his how i if in into is it its itself just me more most my no nor not of off on once only or other our ours out over own same she should so some such than that the their them then there these they this those through to too under until up us very was we were what when where which while who whom why will with would you your ' +
    "can't don't doesn't isn't won't i'm i've we're it's let's"
  ).split(' '),
);

/** camelCase and PascalCase boundaries (`checkoutSpec` → `checkout Spec`, `HTTPServer` → `HTTP Server`). */
const splitCamel = (s: string): string => s.replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2').replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2');

/** Lowercased words as FTS5's unicode61 tokenizer sees them (letters and digits; `_`, `.`, `/` separate). */
export const rawWords = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/**
 * The parts of identifiers in a text that the index would not see as words of their own:
 * camelCase pieces (snake_case, kebab-case and paths are already split by the tokenizer).
 */
export function identifierParts(text: string): string[] {
  const out = new Set<string>();
  for (const token of text.match(/[\p{L}\p{N}]+/gu) ?? []) {
    const parts = splitCamel(token).split(' ');
    if (parts.length > 1) for (const p of parts) if (p.length > 1) out.add(p.toLowerCase());
  }
  return [...out];
}

export const stem = (word: string): string => stemmer(word);

/** A cue's distinct topical words (identifier parts included), in order of appearance. */
export function queryWords(text: string, splitIdentifiers = true): string[] {
  const words = rawWords(splitIdentifiers ? `${text} ${identifierParts(text).join(' ')}` : text);
  return [...new Set(words.filter((w) => !STOPWORDS.has(w) && (w.length > 1 || /\d/.test(w))))];
}

/** Distinct stems of a text's topical words (for explanations and feedback terms). */
export function stemsOf(text: string): Set<string> {
  return new Set(queryWords(text).map(stem));
}
