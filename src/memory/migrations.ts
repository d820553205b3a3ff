import type { Migration } from '../lib/sqlite.js';
import { identifierParts } from './terms.js';

export const memoryMigrations: Migration[] = [
  {
    version: 4,
    name: 'memory',
    up: `
      CREATE TABLE memories (
        id TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL,
        text TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        tags TEXT NOT NULL,
        source TEXT,
        run_id TEXT,
        tokens INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        embedder TEXT NOT NULL,
        vector BLOB NOT NULL,
        UNIQUE (scope, text_hash)
      );
      -- Words (porter-stemmed) for BM25, and character trigrams for partial words.
      CREATE VIRTUAL TABLE memories_fts USING fts5(text, content='memories', content_rowid='rowid', tokenize='porter unicode61');
      CREATE VIRTUAL TABLE memories_tri USING fts5(text, content='memories', content_rowid='rowid', tokenize='trigram');
      CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
        INSERT INTO memories_fts(rowid, text) VALUES (new.rowid, new.text);
        INSERT INTO memories_tri(rowid, text) VALUES (new.rowid, new.text);
      END;
      CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
        INSERT INTO memories_fts(memories_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
        INSERT INTO memories_tri(memories_tri, rowid, text) VALUES ('delete', old.rowid, old.text);
      END;
    `,
  },
  {
    version: 5,
    name: 'memory vector sequence',
    // vec_seq grows each time a row gets a vector (stored, or re-embedded by a new embedder),
    // so a worker's in-memory vector index catches up by reading only rows past its last seq.
    up: `
      ALTER TABLE memories ADD COLUMN vec_seq INTEGER NOT NULL DEFAULT 0;
      UPDATE memories SET vec_seq = rowid;
      CREATE INDEX memories_vec_seq ON memories(vec_seq);
      CREATE INDEX memories_embedder ON memories(embedder);
    `,
  },
  {
    version: 6,
    name: 'memory counters',
    // memory_stats is a cheap call answered on the daemon's thread: counts kept by triggers,
    // not a GROUP BY over every memory.
    up: `
      CREATE TABLE memory_scope_counts (scope TEXT PRIMARY KEY, count INTEGER NOT NULL, tokens INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE memory_embedder_counts (embedder TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO memory_scope_counts SELECT scope, COUNT(*), SUM(tokens) FROM memories GROUP BY scope;
      INSERT INTO memory_embedder_counts SELECT embedder, COUNT(*) FROM memories GROUP BY embedder;
      CREATE TRIGGER memories_count_ai AFTER INSERT ON memories BEGIN
        INSERT INTO memory_scope_counts VALUES (new.scope, 1, new.tokens)
          ON CONFLICT (scope) DO UPDATE SET count = count + 1, tokens = tokens + new.tokens;
        INSERT INTO memory_embedder_counts VALUES (new.embedder, 1)
          ON CONFLICT (embedder) DO UPDATE SET count = count + 1;
      END;
      CREATE TRIGGER memories_count_ad AFTER DELETE ON memories BEGIN
        UPDATE memory_scope_counts SET count = count - 1, tokens = tokens - old.tokens WHERE scope = old.scope;
        DELETE FROM memory_scope_counts WHERE scope = old.scope AND count = 0;
        UPDATE memory_embedder_counts SET count = count - 1 WHERE embedder = old.embedder;
        DELETE FROM memory_embedder_counts WHERE embedder = old.embedder AND count = 0;
      END;
      CREATE TRIGGER memories_count_au AFTER UPDATE OF embedder ON memories WHEN old.embedder != new.embedder BEGIN
        UPDATE memory_embedder_counts SET count = count - 1 WHERE embedder = old.embedder;
        DELETE FROM memory_embedder_counts WHERE embedder = old.embedder AND count = 0;
        INSERT INTO memory_embedder_counts VALUES (new.embedder, 1)
          ON CONFLICT (embedder) DO UPDATE SET count = count + 1;
      END;
    `,
  },
  {
    version: 9,
    name: 'memory keywords and fielded full-text index',
    // Recall ranks with BM25 over fields of their own weight: the text, the keywords the
    // agent gave, the tags, and the parts of camelCase identifiers in the text (which the
    // tokenizer would see as one word). fts5vocab gives each term's document frequency.
    up: (db) => {
      db.exec(`
        ALTER TABLE memories ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
        ALTER TABLE memories ADD COLUMN terms TEXT NOT NULL DEFAULT '';
        DROP TRIGGER memories_ai;
        DROP TRIGGER memories_ad;
        DROP TABLE memories_fts;
      `);
      const setTerms = db.prepare('UPDATE memories SET terms = ? WHERE rowid = ?');
      for (const r of db.prepare('SELECT rowid, text FROM memories').all() as { rowid: number; text: string }[]) {
        const parts = identifierParts(r.text);
        if (parts.length) setTerms.run(parts.join(' '), r.rowid);
      }
      db.exec(`
        CREATE VIRTUAL TABLE memories_fts USING fts5(text, keywords, tags, terms, content='memories', content_rowid='rowid', tokenize='porter unicode61');
        INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');
        CREATE VIRTUAL TABLE memories_vocab USING fts5vocab('memories_fts', 'row');
        CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
          INSERT INTO memories_fts(rowid, text, keywords, tags, terms) VALUES (new.rowid, new.text, new.keywords, new.tags, new.terms);
          INSERT INTO memories_tri(rowid, text) VALUES (new.rowid, new.text);
        END;
        CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
          INSERT INTO memories_fts(memories_fts, rowid, text, keywords, tags, terms) VALUES ('delete', old.rowid, old.text, old.keywords, old.tags, old.terms);
          INSERT INTO memories_tri(memories_tri, rowid, text) VALUES ('delete', old.rowid, old.text);
        END;
        CREATE TRIGGER memories_au AFTER UPDATE OF tags, keywords ON memories BEGIN
          INSERT INTO memories_fts(memories_fts, rowid, text, keywords, tags, terms) VALUES ('delete', old.rowid, old.text, old.keywords, old.tags, old.terms);
          INSERT INTO memories_fts(rowid, text, keywords, tags, terms) VALUES (new.rowid, new.text, new.keywords, new.tags, new.terms);
        END;
      `);
    },
  },
];
