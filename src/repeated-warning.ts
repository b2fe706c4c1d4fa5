/**
 * A warning that can repeat many times a second (one per refused request during a Redis outage) logged at most
 * once per window: the first at once, then one line per window with how many were folded into it
 * (`repeated`), so the log says how bad it was without burying everything else.
 */
import type { Logger } from 'pino'

export interface RepeatedWarning {
  warn (fields: Record<string, unknown>): void
  /** Logs what is still counted (at shutdown). */
  flush (): void
}

export function repeatedWarning (logger: Logger, message: string, windowMs = 10_000): RepeatedWarning {
  let folded = 0
  let lastFields: Record<string, unknown> = {}
  let timer: NodeJS.Timeout | null = null
  const flush = (): void => {
    if (timer !== null) clearTimeout(timer)
    timer = null
    if (folded === 0) return
    logger.warn({ ...lastFields, repeated: folded, window_secs: windowMs / 1000 }, `${message} (repeated ${folded} times)`)
    folded = 0
  }
  return {
    warn (fields) {
      if (timer === null) {
        logger.warn(fields, message)
        // The window's end reports what was folded, even when nothing more comes after it.
        timer = setTimeout(flush, windowMs)
        timer.unref()
        return
      }
      folded++
      lastFields = fields
    },
    flush
  }
}
