/**
 * How a command ends badly. Exit status (INTERFACE section 1): 1 when the operation failed or was refused,
 * 2 for bad usage or configuration (UsageError and ConfigError from src/errors.ts, commander's own errors).
 */
import { IntentGateError } from '../errors.js'

/** The admin API refused the operation or could not be reached; exit status 1. */
export class AdminCallError extends IntentGateError {
  override readonly code = 'IG_ERR_ADMIN_CALL'
  constructor (message: string, readonly status: number | null, readonly body: unknown, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** `drain start --wait` saw the deadline pass before the gateway was drained; exit status 1. */
export class DrainDeadlineError extends IntentGateError {
  override readonly code = 'IG_ERR_DRAIN_DEADLINE'
}
