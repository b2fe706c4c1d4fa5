/** What the composition root hands a store besides its configuration. */
import { CONFIG_DEFAULTS } from '../config/schema.js'
import type { KeyLayouts } from '../release.js'

/** The slice of a pino logger the store uses. */
export interface StoreLogger {
  info (obj: object, msg: string): void
  warn (obj: object, msg: string): void
  error (obj: object, msg: string): void
}

export interface StoreOptions {
  logger?: StoreLogger
  /** Names this instance in Redis connection names and admission markers; random when absent. */
  instanceId?: string
  /** How long an ended intent's owner and versions are kept for status reads (`proxy.idempotency_ttl_secs`). */
  endedRetentionSecs?: number
  /** The embedded store's bound on answered idempotency records (oldest forgotten first). */
  maxIdempotencyEntries?: number
  /** Where `redis.password_env` is read (process.env when absent). */
  env?: Record<string, string | undefined>
  /**
   * The Redis store's admission journal on local disk (a SQLite file), so it outlives a restart of the process;
   * kept in the process only when absent.
   */
  journalFile?: string
  /** The key layouts the Redis store writes and reads (this release's when absent). */
  layouts?: KeyLayouts
}

/** The retention when the composition root does not say (the default of `proxy.idempotency_ttl_secs`). */
export const DEFAULT_ENDED_RETENTION_SECS = CONFIG_DEFAULTS.proxy.idempotency_ttl_secs
