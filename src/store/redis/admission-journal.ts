/**
 * What this instance admitted and has not seen end: enough to register each record again when Redis comes back
 * without its data (docs/specification.md section 4), and to register a record again at bind when a failover
 * lost it. Read from memory; with a file (./journal-file.ts, beside the coordinator's database) every change is
 * also written there, one transaction per event-loop turn, so it outlives a restart of the process too. Bounded:
 * beyond `max` entries the oldest are forgotten (and counted), so a long run cannot grow it without limit.
 *
 * An entry leaves when this instance sees its record end (release, or complete by id). An intent ended by
 * another instance stays here until it is forgotten; registered again after a loss, the reconciler's next poll
 * sees its terminal status and ends it once more, so nothing is lost and nothing stays.
 */

export interface JournalEntry {
  /** The record as stored (header line and payload). */
  json: string
  upstream: string
  createdAtMs: number
  fingerprint?: string
  /** Once bound: the intent id, its phase, and the answer kept for replays (encoded). */
  id?: string
  phase?: string
  response?: string
  /** Marked unknown (phase `unknown:<ms>`). */
  unknownSinceMs?: number
}

/**
 * One key's change for the file: the entry as it is now, and whether the file must take it whole (`admitted`:
 * the record's bytes with it) or only what came after the admission (bound, unknown), which is far smaller.
 */
export interface JournalChange {
  entry: JournalEntry
  admitted: boolean
}

/** Where the journal's changes are kept beyond the process (./journal-file.ts); null changes remove the key. */
export interface JournalPersistence {
  write (changes: Map<string, JournalChange | null>): void
  saveEpoch (epoch: string): void
}

export class AdmissionJournal {
  private readonly entries = new Map<string, JournalEntry>()
  private readonly byId = new Map<string, string>()
  /** Changes not written to the file yet, and the turn's write that will take them. */
  private dirty = new Map<string, JournalChange | null>()
  private flushing: Promise<void> | null = null
  /** Entries forgotten because the journal was full (reported with a data loss). */
  forgotten = 0

  constructor (
    private readonly max: number,
    private readonly file: JournalPersistence | null = null,
    loaded: Array<[string, JournalEntry]> = [],
    private readonly onWriteError: (err: unknown) => void = () => {}
  ) {
    for (const [key, entry] of loaded) {
      this.entries.set(key, entry)
      if (entry.id !== undefined) this.byId.set(entry.id, key)
    }
  }

  get size (): number {
    return this.entries.size
  }

  /** Resolves once every change made so far is in the file (at once without one): awaited before a 202. */
  async written (): Promise<void> {
    await this.flushing
  }

  /** The namespace epoch this instance saw, kept with the entries (compared at the next start). */
  saveEpoch (epoch: string): void {
    this.file?.saveEpoch(epoch)
  }

  admitted (key: string, entry: JournalEntry): void {
    this.entries.delete(key) // a key admitted again goes to the end: the oldest is what is forgotten first
    this.entries.set(key, entry)
    this.changed(key, entry, true)
    if (this.entries.size > this.max) {
      const [oldest, dropped] = this.entries.entries().next().value as [string, JournalEntry]
      this.entries.delete(oldest)
      if (dropped.id !== undefined) this.byId.delete(dropped.id)
      this.changed(oldest, null, false)
      this.forgotten++
    }
  }

  /** Drops the entries for which `keep` says false (records the store no longer holds); how many went. */
  prune (keep: (key: string) => boolean): number {
    let pruned = 0
    for (const [key, entry] of [...this.entries]) {
      if (keep(key)) continue
      this.entries.delete(key)
      if (entry.id !== undefined) this.byId.delete(entry.id)
      this.changed(key, null, false)
      pruned++
    }
    return pruned
  }

  get (key: string): JournalEntry | undefined {
    return this.entries.get(key)
  }

  bound (key: string, id: string, phase: string, response: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    entry.id = id
    entry.phase = phase
    entry.response = response
    delete entry.unknownSinceMs
    this.byId.set(id, key)
    this.changed(key, entry, false)
  }

  unknown (key: string, atMs: number): void {
    const entry = this.entries.get(key)
    if (entry !== undefined && entry.id === undefined && entry.unknownSinceMs === undefined) {
      entry.unknownSinceMs = atMs
      this.changed(key, entry, false)
    }
  }

  released (key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    if (entry.id !== undefined) this.byId.delete(entry.id)
    this.entries.delete(key)
    this.changed(key, null, false)
  }

  completed (id: string): void {
    const key = this.byId.get(id)
    if (key === undefined) return
    this.byId.delete(id)
    this.entries.delete(key)
    this.changed(key, null, false)
  }

  /** Every entry, oldest first, for registering them again. */
  all (): Array<[string, JournalEntry]> {
    return [...this.entries]
  }

  /**
   * Queues a change for the file: the changes of one event-loop turn (the admissions and binds of one group
   * commit) share one transaction, written in the turn's check phase, before any Redis reply can arrive.
   */
  private changed (key: string, entry: JournalEntry | null, admitted: boolean): void {
    if (this.file === null) return
    // The entry itself, not a copy: the file takes its state at the write, which holds every change made by then.
    // An admission not written yet stays a whole write when its binding follows in the same turn.
    this.dirty.set(key, entry === null ? null : { entry, admitted: admitted || this.dirty.get(key)?.admitted === true })
    this.flushing ??= new Promise<void>((resolve) => {
      setImmediate(() => {
        const changes = this.dirty
        this.dirty = new Map()
        this.flushing = null
        try {
          this.file?.write(changes)
        } catch (err) {
          // A file that cannot be written (a full disk) must not refuse submissions Redis took: the changes wait
          // for the next turn's write, and the store reports it (only a Redis loss as well would need them).
          for (const [k, e] of changes) {
            const later = this.dirty.get(k)
            if (later === undefined) this.dirty.set(k, e)
            // A later binding of an admission that was not written must still write the admission whole.
            else if (later !== null && e?.admitted === true) later.admitted = true
          }
          this.onWriteError(err)
        } finally {
          resolve()
        }
      })
    })
  }
}
