/**
 * RFC 9457 problem details, the one shape every error the gateway makes itself takes (proxy and admin port):
 * `{type: "urn:intent-gate:problem:<name>", title, status, detail, request_id, ...extensions}` served as
 * `application/problem+json`. Both listeners build their error answers here so the two cannot drift apart.
 */
import type { ServerResponse } from 'node:http'
import { IntentGateError } from '../errors.js'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'
export const PROBLEM_TYPE_PREFIX = 'urn:intent-gate:problem:'

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  request_id: string
  [extension: string]: unknown
}

export interface ProblemInput {
  status: number
  /** Short name: the tail of the `type` URN. */
  type: string
  title: string
  detail: string
  requestId: string
  /** Extension members (e.g. `errors`, `accepted`); they never override the standard members. */
  extensions?: Record<string, unknown>
}

export function buildProblem (input: ProblemInput): Problem {
  return {
    ...input.extensions,
    type: PROBLEM_TYPE_PREFIX + input.type,
    title: input.title,
    status: input.status,
    detail: input.detail,
    request_id: input.requestId
  }
}

/**
 * The problem an error answers with: an IntentGateError's own status/type/title and message; anything else is
 * an internal error whose message is not shown (it may carry details a client must not see).
 */
export function problemFromError (err: unknown, requestId: string): Problem {
  if (err instanceof IntentGateError) {
    return buildProblem({ ...err.problem, detail: err.message, requestId, extensions: extensionsOf(err) })
  }
  return buildProblem({ status: 500, type: 'internal', title: 'Internal error', detail: 'the gateway failed to handle this request', requestId })
}

/** Fields a few error classes carry that a client can act on. */
function extensionsOf (err: IntentGateError): Record<string, unknown> | undefined {
  const e = err as IntentGateError & { errors?: unknown, accepted?: unknown }
  const out: Record<string, unknown> = {}
  if (Array.isArray(e.errors) && e.errors.length > 0) out.errors = e.errors
  if (Array.isArray(e.accepted)) out.accepted = e.accepted
  return Object.keys(out).length > 0 ? out : undefined
}

/** Writes a problem as the whole response (extra headers such as Retry-After included). */
export function sendProblem (res: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(problem)
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(problem.status, {
    ...headers,
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body)
  })
  res.end(body)
}
