/** What the composition root hands a store besides its configuration. */

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
}
