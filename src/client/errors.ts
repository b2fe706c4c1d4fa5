/**
 * What `IntentClient` rejects with. An answer the client will not retry (or stopped retrying at the wait bound)
 * is a ProblemError carrying the gateway's problem (RFC 9457: `type`, `status`, `title`, `detail`), as a
 * subclass per problem type so an application can `instanceof` the case it handles. Problem types the client
 * does not know (an intent service's own, passed through by the gateway) stay plain ProblemErrors.
 */

export interface Problem {
  type: string
  status: number
  title: string
  detail: string
  [extra: string]: unknown
}

export class IntentClientError extends Error {
  override readonly name: string = 'IntentClientError'
}

export class ProblemError extends IntentClientError {
  override readonly name: string = 'ProblemError'
  readonly type: string
  readonly status: number
  readonly title: string
  readonly detail: string
  /** The whole problem body (with `request_id`, `errors`, `accepted`... where the gateway sent them). */
  readonly problem: Problem
  /** How many times the intent was sent before this answer ended the submission (0 for a status read). */
  readonly attempts: number

  constructor (problem: Problem, attempts = 0) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`)
    this.type = problem.type
    this.status = problem.status
    this.title = problem.title
    this.detail = problem.detail
    this.problem = problem
    this.attempts = attempts
  }
}

/** 400 `invalid-intent`: the body is not a valid intent of its version (`problem.errors` names each field). */
export class InvalidIntentError extends ProblemError { override readonly name = 'InvalidIntentError' }
/** 400 `version-unsupported`: the gateway does not take this version (`problem.accepted` lists those it does). */
export class VersionUnsupportedError extends ProblemError { override readonly name = 'VersionUnsupportedError' }
/** 401 `signature-invalid`: the owner, key or signature does not check out (the detail names the check). */
export class SignatureInvalidError extends ProblemError { override readonly name = 'SignatureInvalidError' }
/** 422 `not-representable`: the intent cannot travel in the version the service behind the gateway takes. */
export class NotRepresentableError extends ProblemError { override readonly name = 'NotRepresentableError' }
/** 422 `idempotency-key-reused`: the key (or owner and nonce) already stands for another intent. */
export class IdempotencyKeyReusedError extends ProblemError { override readonly name = 'IdempotencyKeyReusedError' }
/** 503: the gateway is draining, upgrading, leaving the fleet or cannot reach its store, and did not open in time. */
export class UnavailableError extends ProblemError { override readonly name = 'UnavailableError' }
/** 409 `duplicate-in-progress`: an earlier try with this key was still being answered at the wait bound. */
export class InProgressError extends ProblemError { override readonly name = 'InProgressError' }
/**
 * 502/504 `upstream-outcome-unknown`: the intent service may hold the intent; its answer did not come within the
 * wait bound. Submitting the same bytes with the same key later gets the one answer, never a second intent.
 */
export class OutcomeUnknownError extends ProblemError { override readonly name = 'OutcomeUnknownError' }
/** 502/504: the intent service could not be reached or did not answer, within the wait bound. */
export class UpstreamFailedError extends ProblemError { override readonly name = 'UpstreamFailedError' }

/** No HTTP answer at all (connection refused or broken) within the wait bound. */
export class NetworkError extends IntentClientError {
  override readonly name = 'NetworkError'
  constructor (message: string, readonly attempts: number, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** A signer could not sign (the wallet refused, or its key is not the one it claims). */
export class SignerError extends IntentClientError { override readonly name = 'SignerError' }

const BY_TYPE: Record<string, new (problem: Problem, attempts?: number) => ProblemError> = {
  'invalid-intent': InvalidIntentError,
  'version-unsupported': VersionUnsupportedError,
  'signature-invalid': SignatureInvalidError,
  'not-representable': NotRepresentableError,
  'idempotency-key-reused': IdempotencyKeyReusedError,
  'duplicate-in-progress': InProgressError,
  'upstream-outcome-unknown': OutcomeUnknownError,
  'upstream-unavailable': UpstreamFailedError,
  'upstream-timeout': UpstreamFailedError
}

/** The gateway's problem URN prefix, restated: the client library imports nothing of the server (test/import-graph). */
const GATEWAY_PREFIX = 'urn:intent-gate:problem:'

/** The typed error for an answer: by the gateway's problem type, else by status for a 503, else ProblemError. */
export function problemError (problem: Problem, attempts = 0): ProblemError {
  const Known = problem.type.startsWith(GATEWAY_PREFIX) ? BY_TYPE[problem.type.slice(GATEWAY_PREFIX.length)] : undefined
  if (Known !== undefined) return new Known(problem, attempts)
  if (problem.status === 503) return new UnavailableError(problem, attempts)
  return new ProblemError(problem, attempts)
}

/** The problem an answer carries: its problem+json body, or one made from the status when the body is not one. */
export function readProblem (status: number, statusText: string, text: string): Problem {
  try {
    const body = JSON.parse(text) as unknown
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const b = body as Record<string, unknown>
      return {
        ...b,
        type: typeof b['type'] === 'string' ? b['type'] : 'about:blank',
        status,
        title: typeof b['title'] === 'string' ? b['title'] : statusText,
        detail: typeof b['detail'] === 'string' ? b['detail'] : text.slice(0, 500)
      }
    }
  } catch {
    // Not JSON: described by the status below.
  }
  return { type: 'about:blank', status, title: statusText, detail: text.slice(0, 500) }
}
