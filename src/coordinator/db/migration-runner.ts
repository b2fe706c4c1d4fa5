/**
 * Applies `migrations/` to the coordinator's SQLite database: each pending file in its own transaction, recorded
 * with its SHA-256 in `schema_migrations`. Refuses a file changed after it was applied (naming it), and a
 * `requires_drain` migration while the system is not drained. Rolls back with the files' `down` sections.
 */
import { MigrationChecksumError, MigrationFailedError, MigrationIrreversibleError, MigrationRequiresDrainError } from '../errors.js'
import type { MigrationFile } from './migration-files.js'
import type { SqliteDb } from './open.js'

export interface AppliedMigration {
  version: number
  name: string
  checksum: string
  applied_at_ms: number
}

export interface MigrationStatus {
  /** The highest applied version (0 when none). */
  current: number
  applied: Array<AppliedMigration & { file: string | null, changed: boolean }>
  pending: Array<{ version: number, file: string, requires_drain: boolean, reversible: boolean }>
}

/** Whether the system is drained right now (the gateway's store); `why` explains a "no". */
export type DrainProbe = () => Promise<{ drained: boolean, why: string }>

export interface MigrateOptions {
  /**
   * How to meet a `requires_drain` migration: `check` asks `probe` (refusing when not drained), `stop` applies
   * only what comes before it (the coordinator at start-up), `drained` means the caller holds the drain (an upgrade).
   */
  drain: { mode: 'check', probe: DrainProbe } | { mode: 'stop' } | { mode: 'drained' }
  /** Apply up to and including this version only. */
  to?: number
}

export class MigrationRunner {
  constructor (private readonly db: SqliteDb, private readonly files: readonly MigrationFile[]) {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  }

  applied (): AppliedMigration[] {
    return this.db.prepare('SELECT version, name, checksum, applied_at AS applied_at_ms FROM schema_migrations ORDER BY version')
      .all() as AppliedMigration[]
  }

  current (): number {
    const row = this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }
    return row.v ?? 0
  }

  status (): MigrationStatus {
    const applied = this.applied()
    const byVersion = new Map(this.files.map((f) => [f.version, f]))
    const done = new Set(applied.map((a) => a.version))
    return {
      current: this.current(),
      applied: applied.map((a) => {
        const file = byVersion.get(a.version)
        return { ...a, file: file?.file ?? null, changed: file !== undefined && file.checksum !== a.checksum }
      }),
      pending: this.pending(done).map((f) => ({
        version: f.version,
        file: f.file,
        requires_drain: f.requiresDrain,
        reversible: f.down !== null
      }))
    }
  }

  /** Throws MigrationChecksumError for the first applied file whose content changed since. */
  verify (): void {
    const byVersion = new Map(this.files.map((f) => [f.version, f]))
    for (const a of this.applied()) {
      const file = byVersion.get(a.version)
      if (file !== undefined && file.checksum !== a.checksum) throw new MigrationChecksumError(file.file, a.checksum, file.checksum)
    }
  }

  /** Applies what is pending; returns the files applied, in order. */
  async migrate (options: MigrateOptions): Promise<MigrationFile[]> {
    this.verify()
    const pending = this.pending(new Set(this.applied().map((a) => a.version)))
      .filter((f) => options.to === undefined || f.version <= options.to)
    const done: MigrationFile[] = []
    for (const file of pending) {
      if (file.requiresDrain) {
        if (options.drain.mode === 'stop') break
        if (options.drain.mode === 'check') {
          const probe = await options.drain.probe()
          if (!probe.drained) throw new MigrationRequiresDrainError(file.file, probe.why)
        }
      }
      this.apply(file)
      done.push(file)
    }
    return done
  }

  /** Reverts every applied migration above `to`, newest first; refuses before touching anything if one has no `down`. */
  rollback (to: number): MigrationFile[] {
    if (!Number.isInteger(to) || to < 0) throw new MigrationIrreversibleError(`--to must be a migration number (0 or more), not ${String(to)}`)
    this.verify()
    const byVersion = new Map(this.files.map((f) => [f.version, f]))
    const toRevert = this.applied().filter((a) => a.version > to).reverse()
    const files = toRevert.map((a) => {
      const file = byVersion.get(a.version)
      if (file === undefined) throw new MigrationIrreversibleError(`migration ${a.version}_${a.name} is applied but its file is gone; cannot roll it back`)
      if (file.down === null) throw new MigrationIrreversibleError(`migration ${file.file} has no '-- +down' section; cannot roll back below ${file.version}`)
      return file
    })
    for (const file of files) {
      this.db.transaction(() => {
        try {
          this.db.exec(file.down as string)
        } catch (err) {
          throw new MigrationFailedError(`rolling back ${file.file} failed: ${(err as Error).message}`, { cause: err })
        }
        this.db.prepare('DELETE FROM schema_migrations WHERE version = ?').run(file.version)
      })()
    }
    return files
  }

  private pending (done: Set<number>): MigrationFile[] {
    return this.files.filter((f) => !done.has(f.version))
  }

  private apply (file: MigrationFile): void {
    this.db.transaction(() => {
      try {
        this.db.exec(file.up)
      } catch (err) {
        throw new MigrationFailedError(`applying ${file.file} failed: ${(err as Error).message}`, { cause: err })
      }
      this.db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)')
        .run(file.version, file.name, file.checksum, Date.now())
    })()
  }
}
