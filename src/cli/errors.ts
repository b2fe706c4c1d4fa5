/**
 * How a command ends badly. Exit status (docs/specification.md section 1): 1 when the operation failed or was refused,
 * 2 for bad usage or configuration (UsageError and ConfigError from src/errors.ts, commander's own errors).
 */
import { IntentGateError } from '../errors.js'

// AdminCallError (the admin API refused or could not be reached, exit 1) is the admin client's: src/admin/errors.ts.

/** `drain start --wait` saw the deadline pass before the gateway was drained; exit status 1. */
export class DrainDeadlineError extends IntentGateError {
  override readonly code = 'IG_ERR_DRAIN_DEADLINE'
}

/** `instance leave --wait` saw its deadline pass while the instance still held something; exit status 1. */
export class LeaveDeadlineError extends IntentGateError {
  override readonly code = 'IG_ERR_LEAVE_DEADLINE'
}
