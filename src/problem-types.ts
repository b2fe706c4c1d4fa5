/**
 * Every problem type the gateway answers with, once: its name (the tail of `urn:intent-gate:problem:<type>`), its
 * HTTP status and its title. Error classes (src/errors.ts and each part's errors.ts) and the problem module read
 * it; docs/errors.md lists them by code (test/errors-documented.test.ts checks both against this table).
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
