/**
 * The audit log: every state change an operator causes, through any door, as one structured log line (`audit`
 * object, message `audit: <action>`) and one row of the coordinator's SQLite (`GET /admin/audit` reads them,
 * newest first). Who: the admin token's id (`token:<first 8 hex of its SHA-256>`, never the token) or `redis`
 * for a key changed by hand; via: `admin`, `cli`, `status` (the status page) or `redis`; from: the caller's
 * address.
 */
import type Database from 'better-sqlite3'
import type { Logger } from '../log.js'

/** The doors a change comes through, with what the audit API says of each (empty: the name says it). */
export const AUDIT_VIAS = {
  admin: '',
  cli: '',
  status: 'the status page',
  demo: '',
  redis: 'a key changed by hand, noticed by the gateway'
} as const
export type AuditVia = keyof typeof AUDIT_VIAS
export const isAuditVia = (value: unknown): value is AuditVia => typeof value === 'string' && Object.hasOwn(AUDIT_VIAS, value)

/** What a door reports; the log adds the time. */
export interface AuditInput {
  actor: string
  via: AuditVia
  /** The caller's address (null for a Redis key). */
  origin: string | null
  /** `drain.start`, `drain.stop`, `upstreams.swap`, `upgrade.start`, `upgrade.abort`, `versions.policy`... */
  action: string
  detail: Record<string, unknown>
  reason?: string
}

/** One row as `GET /admin/audit` answers it. */
export interface AuditEntry extends Omit<AuditInput, 'reason'> {
  /** RFC 3339. */
  at: string
  reason?: string
}

export interface AuditLog {
  record (input: AuditInput): void
  /** Newest first. */
  recent (limit: number): AuditEntry[]
}

interface Row { at_ms: number, actor: string, via: AuditVia, origin: string | null, action: string, detail: string, reason: string | null }

/**
 * `ensureTable` runs the audit table's DDL (the audit_log migration's +up) when it is not there yet: the
 * migration may be held behind one that waits for a drain.
 */
export function createAuditLog (db: Database.Database, logger: Logger, ensureTable: () => void): AuditLog {
  ensureTable()
  const insert = db.prepare('INSERT INTO audit_log (at_ms, actor, via, origin, action, detail, reason) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const select = db.prepare('SELECT at_ms, actor, via, origin, action, detail, reason FROM audit_log ORDER BY id DESC LIMIT ?')
  // The trail is written at info even when the log level is warn (only `silent` silences it): it is the record
  // an operator reads after the fact, not chatter.
  const log = logger.child({ component: 'audit' }, { level: logger.level === 'silent' || logger.levels.values[logger.level] === undefined || (logger.levels.values[logger.level] as number) <= 30 ? logger.level : 'info' })
  return {
    record (input) {
      const atMs = Date.now()
      log.info({ audit: { ...input, at: new Date(atMs).toISOString() } }, `audit: ${input.action}`)
      try {
        insert.run(atMs, input.actor, input.via, input.origin, input.action, JSON.stringify(input.detail), input.reason ?? null)
      } catch (err) {
        // The change itself happened: losing its row must not turn it into an error for the caller.
        log.error({ err, action: input.action }, 'audit: cannot write the audit row (the log line above stands)')
      }
    },
    recent (limit) {
      return (select.all(limit) as Row[]).map((r) => ({
        at: new Date(r.at_ms).toISOString(),
        actor: r.actor,
        via: r.via,
        origin: r.origin,
        action: r.action,
        detail: JSON.parse(r.detail) as Record<string, unknown>,
        ...(r.reason !== null ? { reason: r.reason } : {})
      }))
    }
  }
}
