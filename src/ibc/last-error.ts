/**
 * How the watcher's parts report what went wrong: it keeps running, `state()` shows the last error, and the
 * log line says what it was.
 */
import { IntentGateError } from '../errors.js'
import type { IbcWatcherState } from './types.js'

/** The last error a part of the watcher met (it keeps running; `state()` shows it). */
export class LastError {
  value: IbcWatcherState['last_error'] = null

  constructor (private readonly now: () => number) {}

  record (err: unknown, context: string): void {
    const typed = err instanceof IntentGateError ? err : null
    const message = err instanceof Error ? err.message : String(err)
    this.value = { code: typed?.code ?? 'IG_ERR', message: `${context}: ${message}`, at_ms: this.now() }
  }
}

/** An error as a log line shows it. */
export function errorSummary (err: unknown): { code?: string, message: string } {
  if (err instanceof IntentGateError) return { code: err.code, message: err.message }
  return { message: err instanceof Error ? err.message : String(err) }
}
