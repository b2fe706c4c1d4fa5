/**
 * What this instance admitted and has not seen end, kept in the process (it must outlive Redis, not the
 * gateway): enough to register each record again when Redis comes back without its data (docs/specification.md section 4),
 * and to register a record again at bind when a failover lost it. Bounded: beyond `max` entries the oldest are
 * forgotten (and counted), so a long run cannot grow it without limit.
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

export class AdmissionJournal {
  private readonly entries = new Map<string, JournalEntry>()
  private readonly byId = new Map<string, string>()
  /** Entries forgotten because the journal was full (reported with a data loss). */
  forgotten = 0

  constructor (private readonly max: number) {}

  get size (): number {
    return this.entries.size
  }

  admitted (key: string, entry: JournalEntry): void {
    this.entries.set(key, entry)
    if (this.entries.size > this.max) {
      const [oldest, dropped] = this.entries.entries().next().value as [string, JournalEntry]
      this.entries.delete(oldest)
      if (dropped.id !== undefined) this.byId.delete(dropped.id)
      this.forgotten++
    }
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
  }

  unknown (key: string, atMs: number): void {
    const entry = this.entries.get(key)
    if (entry !== undefined && entry.id === undefined) entry.unknownSinceMs ??= atMs
  }

  released (key: string): void {
    const entry = this.entries.get(key)
    if (entry?.id !== undefined) this.byId.delete(entry.id)
    this.entries.delete(key)
  }

  completed (id: string): void {
    const key = this.byId.get(id)
    if (key === undefined) return
    this.byId.delete(id)
    this.entries.delete(key)
  }

  /** Every entry, oldest first, for registering them again. */
  all (): Array<[string, JournalEntry]> {
    return [...this.entries]
  }
}
