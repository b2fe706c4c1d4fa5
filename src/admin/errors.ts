/**
 * Errors of the admin API. A bad admin request is a 400 like a bad intent, but with its own problem type so
 * a client can tell "your intent is invalid" from "your admin call is invalid"; each failing field is named in
 * `errors` (the proxy's problem module adds them for every BadRequestError).
 */
import { BadRequestError, IntentGateError } from '../errors.js'

export class InvalidAdminRequestError extends BadRequestError {
  override readonly code = 'IG_ERR_INVALID_ADMIN_REQUEST'
  override readonly problem = { status: 400, type: 'invalid-request', title: 'Invalid request' }
}

/** A known admin path asked with a method it does not serve (the answer lists the allowed ones in `Allow`). */
export class MethodNotAllowedError extends IntentGateError {
  override readonly code = 'IG_ERR_METHOD_NOT_ALLOWED'
  override readonly problem = { status: 405, type: 'method-not-allowed', title: 'Method not allowed' }
  constructor (readonly allowed: readonly string[]) {
    super(`this route answers ${allowed.join(', ')}`)
  }
}
