/**
 * Every error intent-gate raises on purpose: one base class, a stable `code` per kind, and for errors that reach
 * an HTTP client the status and problem type they answer with (RFC 9457, `urn:intent-gate:problem:<type>`).
 * docs/errors.md lists every code; test/errors.test.ts keeps the two in step.
 */

/**
 * Every problem type the gateway answers with, once: its name (the tail of `urn:intent-gate:problem:<type>`), its
 * HTTP status and its title. The error classes below and each part's errors.ts read it, as does the problem module;
 * docs/errors.md lists them by code (test/errors-documented.test.ts checks both against this table).
 */
export interface ProblemInfo {
  /** HTTP status the error answers with. */
  readonly status: number
  /** Short problem name: the tail of `urn:intent-gate:problem:<type>`. */
  readonly type: string
  /** Human title, stable per type. */
  readonly title: string
}

/** [status, title] by type. A type answers with one status, except where its class says (outcome unknown). */
const TABLE = {
  internal: [500, 'Internal error'],
  'invalid-request': [400, 'Invalid request'],
  'invalid-intent': [400, 'Invalid intent'],
  'invalid-request-target': [400, 'Invalid request target'],
  'invalid-cursor': [400, 'Invalid cursor'],
  'ambiguous-json': [400, 'Ambiguous JSON'],
  'version-unsupported': [400, 'Upgrade required'],
  unauthorized: [401, 'Unauthorized'],
  'signature-invalid': [401, 'Signature invalid'],
  'host-not-allowed': [403, 'Host not allowed'],
  'not-found': [404, 'Not found'],
  'method-not-allowed': [405, 'Method not allowed'],
  conflict: [409, 'Conflict'],
  'duplicate-in-progress': [409, 'A submission with this key is in progress'],
  'upgrade-conflict': [409, 'Upgrade refused'],
  'contract-refused': [409, 'Contract migration refused'],
  'payload-too-large': [413, 'Payload too large'],
  'not-representable': [422, 'Not representable in the target version'],
  'idempotency-key-reused': [422, 'Idempotency key reused with another intent'],
  'checkpoint-corrupt': [422, 'Checkpoint corrupt'],
  'owner-key-limit': [429, 'Too many idempotency keys for this owner'],
  'upstream-unavailable': [502, 'Bad gateway'],
  'chain-query-failed': [502, 'The chain refused a query'],
  'upstream-outcome-unknown': [504, 'Outcome unknown: retry with the same key'],
  'upstream-timeout': [504, 'Gateway timeout'],
  'store-unavailable': [503, 'Temporarily unavailable'],
  draining: [503, 'Draining: intents are not accepted right now'],
  'instance-leaving': [503, 'This instance is leaving: retry on another'],
  'too-many-streams': [503, 'Too many event streams'],
  'not-ready': [503, 'Not ready'],
  'chain-unavailable': [503, 'The chain cannot be reached'],
  'signer-unavailable': [503, 'No signer for chain transactions']
} as const satisfies Record<string, readonly [number, string]>

export type ProblemType = keyof typeof TABLE

export const PROBLEM_TYPES = Object.freeze(Object.fromEntries(Object.entries(TABLE).map(([type, [status, title]]) =>
  [type, Object.freeze({ status, type, title })]))) as Readonly<Record<ProblemType, ProblemInfo>>

/** The problem of `type` (with another status where a type answers with two). */
export function problem (type: ProblemType, status?: number): ProblemInfo {
  return status === undefined ? PROBLEM_TYPES[type] : { ...PROBLEM_TYPES[type], status }
}

export class IntentGateError extends Error {
  /** Stable machine-readable code, `IG_ERR_*`. */
  readonly code: string = 'IG_ERR'
  /** How the error answers an HTTP client; 500 for anything not meant for one. */
  readonly problem: ProblemInfo = problem('internal')

  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }

  /** Members the problem body carries besides type, title, status, detail and request_id (none by default). */
  problemMembers (): Record<string, unknown> {
    return {}
  }
}

/** A configuration file or environment override that cannot be used; lists every problem at once. */
export class ConfigError extends IntentGateError {
  override readonly code = 'IG_ERR_CONFIG'
  constructor (readonly problems: readonly string[], options?: { cause?: unknown }) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`, options)
  }
}

/** Bad command-line usage (exit status 2). */
export class UsageError extends IntentGateError {
  override readonly code = 'IG_ERR_USAGE'
}

/**
 * The namespace holds data in a key layout this release cannot share (docs/store.md, "Two releases on one
 * namespace"): the instance refuses to start (exit 2) and leaves the namespace as it is.
 */
export class LayoutMismatchError extends IntentGateError {
  override readonly code = 'IG_ERR_LAYOUT_MISMATCH'
  constructor (readonly found: string, readonly writes: number, readonly reads: readonly number[], detail: string) {
    super(`the namespace is on key layout ${found} (${detail}); this release writes layout ${writes} and reads ${reads.join(', ')}: ` +
      'start a release that shares layout ' + found + ', or move every instance of the namespace to one that does (docs/store.md)')
  }
}

/** The store (Redis) cannot be reached or answered with an error; the gateway fails closed. */
export class StoreUnavailableError extends IntentGateError {
  override readonly code = 'IG_ERR_STORE_UNAVAILABLE'
  override readonly problem = problem('store-unavailable')
}

/** A body that is not JSON, or not valid for its version. */
export class BadRequestError extends IntentGateError {
  override readonly code: string = 'IG_ERR_BAD_REQUEST'
  override readonly problem = problem('invalid-intent')
  constructor (message: string, readonly errors: ReadonlyArray<{ field: string, message: string }> = [], options?: { cause?: unknown }) {
    super(message, options)
  }
}

/**
 * A body another conforming JSON parser could read differently (duplicate keys, invalid UTF-8, a lone surrogate,
 * a number not written as a plain integer): refused rather than verified in one reading and forwarded in another.
 */
export class AmbiguousJsonError extends BadRequestError {
  override readonly code = 'IG_ERR_AMBIGUOUS_JSON'
  override readonly problem = problem('ambiguous-json')
  constructor (readonly reason: string, message: string, errors: ReadonlyArray<{ field: string, message: string }>) {
    super(message, errors)
  }
}

/** Past `max_event_streams` (overall or per client address) on either port: try again later. */
export class TooManyStreamsError extends IntentGateError {
  override readonly code = 'IG_ERR_TOO_MANY_STREAMS'
  override readonly problem = problem('too-many-streams')
  constructor (message: string, readonly retryAfterSecs: number) {
    super(message)
  }
}

/** One owner holds `proxy.max_keys_per_owner` idempotency keys already: nothing was registered or forwarded. */
export class OwnerKeyLimitError extends IntentGateError {
  override readonly code = 'IG_ERR_OWNER_KEY_LIMIT'
  override readonly problem = problem('owner-key-limit')
  constructor (message: string, readonly retryAfterSecs: number) {
    super(message)
  }
}

/** A version that is not (or no longer) in `versions.accepted`. */
export class VersionUnsupportedError extends IntentGateError {
  override readonly code = 'IG_ERR_VERSION_UNSUPPORTED'
  override readonly problem = problem('version-unsupported')
  constructor (readonly version: string, readonly accepted: readonly string[]) {
    super(`intent version '${version}' is not accepted; accepted versions: ${accepted.join(', ')}`)
  }
}

/** A 2.0 intent that version 1.0 cannot express (or any step that cannot carry an intent's meaning). */
export class NotRepresentableError extends IntentGateError {
  override readonly code = 'IG_ERR_NOT_REPRESENTABLE'
  override readonly problem = problem('not-representable')
  constructor (readonly from: string, readonly to: string, readonly reason: string) {
    super(`cannot translate from ${from} to ${to}: ${reason}`)
  }
}

/** No translation path between two versions. */
export class NoTranslationPathError extends IntentGateError {
  override readonly code = 'IG_ERR_NO_TRANSLATION_PATH'
  override readonly problem = problem('not-representable')
  constructor (readonly from: string, readonly to: string) {
    super(`no translation path from version ${from} to ${to}`)
  }
}

/** Body larger than `proxy.max_body_bytes`. */
export class PayloadTooLargeError extends IntentGateError {
  override readonly code = 'IG_ERR_PAYLOAD_TOO_LARGE'
  override readonly problem = problem('payload-too-large')
}

/** Admission refused while draining or upgrading. */
export class DrainingError extends IntentGateError {
  override readonly code = 'IG_ERR_DRAINING'
  override readonly problem = problem('draining')
  constructor (message: string, readonly retryAfterSecs: number) {
    super(message)
  }
}

/** This instance is leaving the fleet (`instance leave`, SIGTERM) and its grace ended: retry on another instance. */
export class InstanceLeavingError extends IntentGateError {
  override readonly code = 'IG_ERR_INSTANCE_LEAVING'
  override readonly problem = problem('instance-leaving')
}

/** A duplicate submission while the first with the same key is still in progress. */
export class DuplicateInProgressError extends IntentGateError {
  override readonly code = 'IG_ERR_DUPLICATE_IN_PROGRESS'
  override readonly problem = problem('duplicate-in-progress')
}

/** The upstream could not be reached, reset the connection, or timed out. */
export class UpstreamError extends IntentGateError {
  override readonly code: string = 'IG_ERR_UPSTREAM'
  override readonly problem = problem('upstream-unavailable')
  /**
   * Whether the upstream may have received the request (the timeout passed, or the connection broke after bytes
   * of it were written). False only when nothing can have reached it (refused, unresolvable, never connected).
   */
  maybeDelivered = false
}

/** The upstream did not answer within `proxy.upstream_timeout_ms`. */
export class UpstreamTimeoutError extends UpstreamError {
  override readonly code = 'IG_ERR_UPSTREAM_TIMEOUT'
  override readonly problem = problem('upstream-timeout')
}

/** Missing or wrong bearer token on an admin route. */
export class UnauthorizedError extends IntentGateError {
  override readonly code = 'IG_ERR_UNAUTHORIZED'
  override readonly problem = problem('unauthorized')
}

/** A route that does not exist on the admin port. */
export class NotFoundError extends IntentGateError {
  override readonly code = 'IG_ERR_NOT_FOUND'
  override readonly problem = problem('not-found')
}

/** An operation refused because of the current state (a swap to an unhealthy upstream, a second upgrade...). */
export class ConflictError extends IntentGateError {
  override readonly code: string = 'IG_ERR_CONFLICT'
  override readonly problem = problem('conflict')
}

/** An intent whose owner or signature does not verify (`proxy.verify_signatures`); nothing was registered. */
export class SignatureInvalidError extends IntentGateError {
  override readonly code = 'IG_ERR_SIGNATURE_INVALID'
  override readonly problem = problem('signature-invalid')
  /** Which check failed: owner, public_key, signature_encoding, high_s, signed_form or signature. */
  constructor (message: string, readonly check: string) {
    super(message)
  }
}

/** An Idempotency-Key (or owner and nonce) already used by another intent of the same owner. */
export class IdempotencyKeyReusedError extends IntentGateError {
  override readonly code = 'IG_ERR_IDEMPOTENCY_KEY_REUSED'
  override readonly problem = problem('idempotency-key-reused')
}

/**
 * The upstream may have taken the intent, but its answer never came (a timeout: 504; a connection that broke
 * after the body was sent: 502). The intent stays inflight with that upstream; a retry with the same key goes
 * there and gets what it has.
 */
export class UpstreamOutcomeUnknownError extends IntentGateError {
  override readonly code = 'IG_ERR_UPSTREAM_OUTCOME_UNKNOWN'
  override readonly problem: ProblemInfo
  constructor (message: string, readonly timedOut: boolean, readonly retryAfterSecs: number, options?: { cause?: unknown }) {
    super(message, options)
    this.problem = problem('upstream-outcome-unknown', timedOut ? 504 : 502)
  }
}

/** A request target that is not the canonical origin form of a route the gateway handles itself. */
export class BadRequestTargetError extends IntentGateError {
  override readonly code = 'IG_ERR_BAD_REQUEST_TARGET'
  override readonly problem = problem('invalid-request-target')
}

/** A page cursor the store did not hand out. */
export class InvalidCursorError extends IntentGateError {
  override readonly code = 'IG_ERR_INVALID_CURSOR'
  override readonly problem = problem('invalid-cursor')
  constructor (readonly cursor: string) {
    super(`the cursor ${JSON.stringify(cursor.slice(0, 64))} was not handed out by this gateway`)
  }
}
