/**
 * The admission journal on local disk (docs/store.md, "The admission journal"), so what an instance admitted
 * outlives a restart of its process and is registered again after a Redis loss it was not running for. Two files:
 *
 * - a small SQLite file beside the coordinator's database: one row per journaled admission, whole, and the
 *   namespace's epoch as this instance last saw it. It is what every release reads, so a release rolled back onto
 *   the same disk reads it as it always did;
 * - the log (`<file>.log`, ./journal-log.ts): every change since the SQLite file was last brought up to date, one
 *   line each, one write per event-loop turn. A turn's changes used to be a SQLite transaction, which cost the
 *   gateway about a fifth of its CPU per submission (issue 30).
 *
 * The log is folded into the SQLite file when it has grown (the changed keys only: most admissions have ended
 * by then and touch nothing), at start and at a clean stop, which removes it. A fold names itself in the SQLite
 * file and on the log's first line; any other writer of the SQLite file (a release before the log, rolled back
 * onto the disk) clears that name by a trigger, so a log left by a killed instance is replayed only over the
 * SQLite file it was started on. Replayed in order, the log's lines give each key its last state, so a log that
 * outlived its fold (a kill between the two) replays to the same entries.
 *
 * Files of 0.6.0 to 0.13.0 keep what came after an admission (the binding, an unknown outcome) in a `bindings`
 * table beside the admissions' rows: read with them, and folded into the rows at start.
 */
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import type { JournalChange, JournalEntry } from './admission-journal.js'
import { JournalLog } from './journal-log.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admissions (key TEXT PRIMARY KEY, created_at_ms INTEGER NOT NULL, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (key TEXT PRIMARY KEY, later TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS admissions_insert_ends_log AFTER INSERT ON admissions BEGIN DELETE FROM meta WHERE name = 'log'; END;
CREATE TRIGGER IF NOT EXISTS admissions_update_ends_log AFTER UPDATE ON admissions BEGIN DELETE FROM meta WHERE name = 'log'; END;
CREATE TRIGGER IF NOT EXISTS admissions_delete_ends_log AFTER DELETE ON admissions BEGIN DELETE FROM meta WHERE name = 'log'; END;
CREATE TRIGGER IF NOT EXISTS bindings_insert_ends_log AFTER INSERT ON bindings BEGIN DELETE FROM meta WHERE name = 'log'; END;
`

/** The fields an entry gets after its admission: what a `bindings` row and a log's `l` line hold. */
const LATER_FIELDS = ['id', 'phase', 'response', 'unknownSinceMs'] as const

/** The log is folded once it holds this many bytes, or four times the live entries' bytes if that is more. */
const FOLD_AT_BYTES = 32 * 1024 * 1024

export interface JournalContents {
  /** Oldest first. */
  entries: Array<[string, JournalEntry]>
  epoch: string | null
  /** Rows of another namespace this file held (this instance moved namespaces): dropped. */
  dropped: number
}

export interface JournalFileOptions {
  /** The log's size (bytes) that starts a fold; tests make it small. */
  foldAtBytes?: number
}

export class JournalFile {
  private readonly db: Database.Database
  private readonly log: JournalLog
  private readonly upsert: Database.Statement
  private readonly remove: Database.Statement
  private readonly setMeta: Database.Statement
  private readonly minFoldBytes: number
  private foldAt: number
  /** Every entry as the log says it is now, and the keys the SQLite file holds: a fold writes the difference. */
  private readonly live = new Map<string, JournalEntry>()
  private readonly inFile = new Set<string>()
  /** The keys whose lines are in the log since the last fold. */
  private readonly touched = new Set<string>()

  constructor (readonly file: string, options: JournalFileOptions = {}) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.exec(SCHEMA)
    this.upsert = this.db.prepare('INSERT OR REPLACE INTO admissions (key, created_at_ms, entry) VALUES (?, ?, ?)')
    this.remove = this.db.prepare('DELETE FROM admissions WHERE key = ?')
    this.setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)')
    this.log = new JournalLog(`${file}.log`)
    this.minFoldBytes = options.foldAtBytes ?? FOLD_AT_BYTES
    this.foldAt = this.minFoldBytes
  }

  /** What the files hold for `namespace`; rows of another namespace are removed (they are no longer ours to register). */
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
    const rows = this.db.prepare('SELECT a.key, a.entry, b.later FROM admissions a LEFT JOIN bindings b ON b.key = a.key')
      .all() as Array<{ key: string, entry: string, later: string | null }>
    this.live.clear()
    this.inFile.clear()
    for (const row of rows) {
      this.inFile.add(row.key)
      const entry = parseEntry(row.entry, row.later)
      if (entry !== null) this.live.set(row.key, entry)
    }
    const logged = this.log.lines()
    if (logged.length > 0 && meta.has('log') && parseHeader(logged[0] ?? '') === meta.get('log')) this.replay(logged.slice(1))
    // Everything into the SQLite file now: a binding row of an older release becomes part of its admission's row.
    for (const key of this.live.keys()) this.touched.add(key)
    for (const key of this.inFile) this.touched.add(key)
    this.fold(true)
    const entries = [...this.live].sort(([ka, a], [kb, b]) => a.createdAtMs - b.createdAtMs || (ka < kb ? -1 : ka > kb ? 1 : 0))
    return { entries, epoch: meta.get('epoch') ?? null, dropped }
  }

  /** Writes one turn's changes (null removes the key) to the log, in one write; folds the log once it has grown. */
  write (changes: Map<string, JournalChange | null>): void {
    if (changes.size === 0) return
    let text = ''
    for (const [key, change] of changes) {
      if (change === null) text += JSON.stringify(['d', key]) + '\n'
      else if (change.admitted) text += JSON.stringify(['a', key, change.entry]) + '\n'
      else text += JSON.stringify(['l', key, laterOf(change.entry)]) + '\n'
    }
    this.log.append(text)
    for (const [key, change] of changes) {
      this.touched.add(key)
      if (change === null) this.live.delete(key)
      else this.live.set(key, change.entry)
    }
    if (this.log.bytes >= this.foldAt) {
      // A fold that fails leaves the log whole (it is what the next start reads): it is tried again when the log
      // has doubled, and the error goes to the journal's report.
      this.foldAt = this.log.bytes * 2
      this.fold(false)
    }
  }

  saveEpoch (epoch: string): void {
    this.setMeta.run('epoch', epoch)
  }

  /** Folds the log into the SQLite file (what every release reads) and removes it, then closes. */
  close (): void {
    if (!this.db.open) return
    let folded = false
    try {
      this.fold(false)
      folded = true
    } catch {
      // A disk that refuses the fold keeps the log: the next start of this release replays it.
    }
    this.log.close(folded)
    this.db.close()
  }

  /**
   * Brings the SQLite file up to the log: the touched keys' entries written whole (or removed), in one
   * transaction that names the new log, then the log started again under that name.
   */
  private fold (everything: boolean): void {
    const name = randomUUID()
    let liveBytes = 0
    this.db.transaction(() => {
      if (everything) this.db.exec('DELETE FROM bindings')
      for (const key of this.touched) {
        const entry = this.live.get(key)
        if (entry !== undefined) {
          const text = JSON.stringify(entry)
          liveBytes += text.length
          this.upsert.run(key, entry.createdAtMs, text)
          this.inFile.add(key)
        } else if (this.inFile.delete(key)) {
          this.remove.run(key)
        }
      }
      this.setMeta.run('log', name)
    })()
    this.touched.clear()
    this.log.restart(JSON.stringify(['log', name]) + '\n')
    this.foldAt = Math.max(this.minFoldBytes, 4 * liveBytes)
  }

  /** Applies the log's lines in order (a line that does not parse is skipped: each line is a key's whole state). */
  private replay (lines: string[]): void {
    for (const line of lines) {
      const change = parseLine(line)
      if (change === null) continue
      const [kind, key, value] = change
      if (kind === 'd') this.live.delete(key)
      else if (kind === 'a') this.live.set(key, value)
      else {
        const entry = this.live.get(key)
        if (entry !== undefined) withLater(entry, value)
      }
    }
  }
}

type LogLine = ['d', string, null] | ['a', string, JournalEntry] | ['l', string, Partial<JournalEntry>]

function parseLine (line: string): LogLine | null {
  try {
    const v = JSON.parse(line) as unknown
    if (!Array.isArray(v) || typeof v[1] !== 'string') return null
    if (v[0] === 'd') return ['d', v[1], null]
    if (v[0] === 'a' && isEntry(v[2])) return ['a', v[1], v[2]]
    if (v[0] === 'l' && isObject(v[2])) return ['l', v[1], v[2] as Partial<JournalEntry>]
    return null
  } catch {
    return null
  }
}

/** The name on a log's first line (`["log","<name>"]`), or null. */
function parseHeader (line: string): string | null {
  try {
    const v = JSON.parse(line) as unknown
    return Array.isArray(v) && v[0] === 'log' && typeof v[1] === 'string' ? v[1] : null
  } catch {
    return null
  }
}

/** An entry's fields after its admission (absent ones are left out). */
function laterOf (entry: JournalEntry): Partial<JournalEntry> {
  return { id: entry.id, phase: entry.phase, response: entry.response, unknownSinceMs: entry.unknownSinceMs }
}

/** Gives `entry` the fields after its admission that `later` holds, and drops those it does not. */
function withLater (entry: JournalEntry, later: Partial<JournalEntry>): void {
  for (const field of LATER_FIELDS) {
    if (later[field] === undefined) delete entry[field]
    else (entry as unknown as Record<string, unknown>)[field] = later[field]
  }
}

function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function isEntry (v: unknown): v is JournalEntry {
  return isObject(v) && typeof v.json === 'string' && typeof v.upstream === 'string' && typeof v.createdAtMs === 'number'
}

/** An admission's row with its `bindings` row, when there is one (it holds every field after the admission). */
function parseEntry (text: string, later: string | null): JournalEntry | null {
  try {
    const e = JSON.parse(text) as unknown
    if (!isEntry(e)) return null
    const l = later === null ? null : parseLater(later)
    if (l !== null) withLater(e, l)
    return e
  } catch {
    return null
  }
}

/** A `bindings` row that cannot be read leaves its admission as admitted (registered again, it stays in progress). */
function parseLater (text: string): Partial<JournalEntry> | null {
  try {
    const l = JSON.parse(text) as unknown
    return isObject(l) ? l as Partial<JournalEntry> : null
  } catch {
    return null
  }
}
