/**
 * Errors of the admin API. A bad admin request is a 400 like a bad intent, but with its own problem type so
 * a client can tell "your intent is invalid" from "your admin call is invalid"; each failing field is named in
 * `errors` (the proxy's problem module adds them for every BadRequestError).
 */
import { BadRequestError, IntentGateError, problem } from '../errors.js'

export class InvalidAdminRequestError extends BadRequestError {
  override readonly code = 'IG_ERR_INVALID_ADMIN_REQUEST'
  override readonly problem = problem('invalid-request')

  /**
   * One field the route's schema accepts but this gateway cannot (a color without an upstream, ...): the same
   * 400 a schema failure gives, naming the field as a JSON pointer.
   */
  static field (name: string, message: string): InvalidAdminRequestError {
    return new InvalidAdminRequestError(`${name}: ${message}`, [{ field: `/${name}`, message }])
  }
}

/** The admin API refused the operation or could not be reached (src/admin/client.ts); the CLI exits 1. */
export class AdminCallError extends IntentGateError {
  override readonly code = 'IG_ERR_ADMIN_CALL'
  constructor (message: string, readonly status: number | null, readonly body: unknown, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** A known admin path asked with a method it does not serve (the answer lists the allowed ones in `Allow`). */
export class MethodNotAllowedError extends IntentGateError {
  override readonly code = 'IG_ERR_METHOD_NOT_ALLOWED'
  override readonly problem = problem('method-not-allowed')
  constructor (readonly allowed: readonly string[]) {
    super(`this route answers ${allowed.join(', ')}`)
  }
}

/** `/admin/*` or `/status` asked under a Host that is not this listener's (DNS rebinding): 403. */
export class HostNotAllowedError extends IntentGateError {
  override readonly code = 'IG_ERR_HOST_NOT_ALLOWED'
  override readonly problem = problem('host-not-allowed')
}
