import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import type { DocFrequencies } from './doc-frequencies.js';
import { queryWords, stem } from './terms.js';

/** Memories read per cue word: the newest that hold it. */
const SAMPLE = 100;

/**
 * Query expansion from co-occurrence statistics learned from the memories themselves: for
 * each cue word, the words that appear in the memories holding it far more often than in
 * the store as a whole (pointwise mutual information over a sample of those memories,
 * counted only when at least two of them share the word). "cron" in a store where cron
 * memories mention "nightly" brings in "nightly". Measured by the quality bench and off by
 * default (`weights.cooccurrence`), see the README.
 */
export class Cooccurrence {
  private readonly holding: Statement;

  constructor(
    db: Db,
    private readonly df: DocFrequencies,
  ) {
    this.holding = db.prepare(`SELECT text, keywords FROM memories WHERE rowid IN
      (SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? ORDER BY rowid DESC LIMIT ${SAMPLE})`);
  }

  /**
   * Up to `perWord` associated words for each cue word held by 2 to `maxDf` memories
   * (commoner words associate with everything), none of them a cue word or a repeat.
   */
  expand(words: string[], cueStems: Set<string>, total: number, perWord: number, maxDf: number): string[] {
    const known = new Set(cueStems);
    const out: string[] = [];
    for (const word of words) {
      const df = this.df.of(word);
      if (df < 2 || df > maxDf) continue;
      const counts = new Map<string, { word: string; docs: number }>();
      const rows = this.holding.all(`"${word.replace(/"/g, '')}"`) as { text: string; keywords: string }[];
      for (const { text, keywords } of rows) {
        const seen = new Set<string>();
        for (const w of queryWords(`${text} ${keywords}`)) {
          const s = stem(w);
          if (known.has(s) || seen.has(s)) continue;
          seen.add(s);
          const c = counts.get(s) ?? { word: w, docs: 0 };
          c.docs++;
          counts.set(s, c);
        }
      }
      const sampled = rows.length;
      const ranked = [...counts.values()]
        .filter((c) => c.docs >= 2)
        .map((c) => ({ word: c.word, docs: c.docs, pmi: Math.log(c.docs / sampled / (Math.max(1, this.df.of(c.word)) / total)) }))
        .filter((c) => c.pmi > 0)
        // PMI alone favours words seen twice in the whole store; weighing it by how many of
        // the sampled memories share the word prefers steady companions.
        .sort((a, b) => b.docs * b.pmi - a.docs * a.pmi)
        .slice(0, perWord);
      for (const c of ranked) {
        out.push(c.word);
        known.add(stem(c.word));
      }
    }
    return out;
  }
}
