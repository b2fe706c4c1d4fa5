/**
 * The admission journal on local disk (docs/store.md, "The admission journal"): a small SQLite file beside the
 * coordinator's database, so what an instance admitted outlives a restart of its process and is registered again
 * after a Redis loss it was not running for. One row per journaled admission, and the namespace's epoch as this
 * instance last saw it (a different one at the next start means Redis lost its data meanwhile).
 *
 * WAL with `synchronous = NORMAL`: a commit is in the operating system's hands when it returns, so a killed
 * process (SIGKILL, an OOM kill, a crash) loses nothing committed; a crash of the machine itself can lose the
 * last commits. A commit with fsync costs about 2.5 ms here, and better-sqlite3 runs on the event loop: every
 * submission would wait for it. The journal's rows are written in one transaction per event-loop turn.
 *
 * What came after an admission (the binding and its answer, an unknown outcome) goes to a table of its own,
 * `bindings`, a small row beside the admission's: rewriting the admission's row (the record's bytes, about a
 * kilobyte) at every bind cost the journal about 40% of its CPU per intent (issue 30). A file written before
 * that table existed reads the same: its rows carry their bindings in `entry`. The other way round, 0.5.0 reads
 * `entry` alone; so that a release rolled back onto the same disk finds every binding, `close()` folds the
 * `bindings` rows into their admissions' rows (once per stop, not per intent).
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { JournalChange, JournalEntry } from './admission-journal.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admissions (key TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (key TEXT PRIMARY KEY, later TEXT NOT NULL);
`

/** The fields an entry gets after its admission: what a `bindings` row holds. */
const LATER_FIELDS = ['id', 'phase', 'response', 'unknownSinceMs'] as const

export interface JournalContents {
  /** Oldest first. */
  entries: Array<[string, JournalEntry]>
  epoch: string | null
  /** Rows of another namespace this file held (this instance moved namespaces): dropped. */
  dropped: number
}

export class JournalFile {
  private readonly db: Database.Database
  private readonly upsert: Database.Statement
  private readonly remove: Database.Statement
  private readonly upsertLater: Database.Statement
  private readonly removeLater: Database.Statement
  private readonly setMeta: Database.Statement
  private readonly commit: (changes: Map<string, JournalChange | null>) => void

  constructor (readonly file: string) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(SCHEMA)
    this.upsert = this.db.prepare('INSERT OR REPLACE INTO admissions (key, created_at_ms, entry) VALUES (?, ?, ?)')
    this.remove = this.db.prepare('DELETE FROM admissions WHERE key = ?')
    this.upsertLater = this.db.prepare('INSERT OR REPLACE INTO bindings (key, later) VALUES (?, ?)')
    this.removeLater = this.db.prepare('DELETE FROM bindings WHERE key = ?')
    this.setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)')
    this.commit = this.db.transaction((changes: Map<string, JournalChange | null>) => {
      for (const [key, change] of changes) {
        if (change === null) {
          this.remove.run(key)
          this.removeLater.run(key)
        } else if (change.admitted) {
          // Whole, with whatever came after it in the same turn; a binding of an earlier admission of the key goes.
          this.upsert.run(key, change.entry.createdAtMs, JSON.stringify(change.entry))
          this.removeLater.run(key)
        } else {
          this.upsertLater.run(key, laterOf(change.entry))
        }
      }
    })
  }

  /** What the file holds for `namespace`; rows of another namespace are removed (they are no longer ours to register). */
  load (namespace: string): JournalContents {
    const meta = new Map((this.db.prepare('SELECT name, value FROM meta').all() as Array<{ name: string, value: string }>).map((r) => [r.name, r.value]))
    let dropped = 0
    if (meta.has('namespace') && meta.get('namespace') !== namespace) {
      dropped = Number(this.db.prepare('SELECT count(*) AS n FROM admissions').pluck().get())
      this.db.transaction(() => {
        this.db.exec('DELETE FROM admissions; DELETE FROM bindings; DELETE FROM meta')
      })()
      meta.clear()
    }
    this.setMeta.run('namespace', namespace)
    const rows = this.db.prepare('SELECT a.key, a.entry, b.later FROM admissions a LEFT JOIN bindings b ON b.key = a.key ORDER BY a.created_at_ms, a.key')
      .all() as Array<{ key: string, entry: string, later: string | null }>
    const entries: Array<[string, JournalEntry]> = []
    for (const row of rows) {
      const entry = parseEntry(row.entry, row.later)
      if (entry !== null) entries.push([row.key, entry])
    }
    return { entries, epoch: meta.get('epoch') ?? null, dropped }
  }

  /** Writes one turn's changes (null removes the key) in one transaction. */
  write (changes: Map<string, JournalChange | null>): void {
    if (changes.size > 0) this.commit(changes)
  }

  saveEpoch (epoch: string): void {
    this.setMeta.run('epoch', epoch)
  }

  /** Folds the bindings into their admissions' rows (what a release before the `bindings` table reads), then closes. */
  close (): void {
    if (!this.db.open) return
    try {
      this.foldBindings()
    } catch {
      // A disk that refuses the fold still holds a file this release reads whole; only an older one would miss bindings.
    }
    this.db.close()
  }

  private foldBindings (): void {
    const rows = this.db.prepare('SELECT a.key, a.created_at_ms, a.entry, b.later FROM admissions a JOIN bindings b ON b.key = a.key')
      .all() as Array<{ key: string, created_at_ms: number, entry: string, later: string }>
    this.db.transaction(() => {
      for (const row of rows) {
        const entry = parseEntry(row.entry, row.later)
        if (entry !== null) this.upsert.run(row.key, row.created_at_ms, JSON.stringify(entry))
      }
      this.db.exec('DELETE FROM bindings')
    })()
  }
}

/** The `bindings` row of an entry: its fields after the admission (absent ones are left out). */
function laterOf (entry: JournalEntry): string {
  return JSON.stringify({ id: entry.id, phase: entry.phase, response: entry.response, unknownSinceMs: entry.unknownSinceMs })
}

/** An admission's row with its `bindings` row, when there is one (it holds every field after the admission). */
function parseEntry (text: string, later: string | null): JournalEntry | null {
  try {
    const e = JSON.parse(text) as Partial<JournalEntry> | null
    if (e === null || typeof e.json !== 'string' || typeof e.upstream !== 'string' || typeof e.createdAtMs !== 'number') return null
    const l = later === null ? null : parseLater(later)
    if (l !== null) {
      for (const field of LATER_FIELDS) {
        if (l[field] === undefined) delete e[field]
        else (e as Record<string, unknown>)[field] = l[field]
      }
    }
    return e as JournalEntry
  } catch {
    return null
  }
}

/** A `bindings` row that cannot be read leaves its admission as admitted (registered again, it stays in progress). */
function parseLater (text: string): Partial<JournalEntry> | null {
  try {
    const l = JSON.parse(text) as unknown
    return l !== null && typeof l === 'object' && !Array.isArray(l) ? l as Partial<JournalEntry> : null
  } catch {
    return null
  }
}
