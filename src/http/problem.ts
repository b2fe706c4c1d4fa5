/**
 * Errors made by the gateway itself, as RFC 9457 `application/problem+json` responses:
 * `{type: "urn:intent-gate:problem:<name>", title, status, detail, request_id}` plus a few members per kind
 * (`errors` naming each failing field, `accepted` versions). One function turns any error into the response,
 * for the proxy and the admin API alike.
 */
import type { ServerResponse } from 'node:http'
import {
  AmbiguousJsonError, BadRequestError, DrainingError, IntentGateError, StoreUnavailableError, VersionUnsupportedError,
  DuplicateInProgressError,
  OwnerKeyLimitError, TooManyStreamsError, UpstreamOutcomeUnknownError, InstanceLeavingError, PROBLEM_TYPES
} from '../errors.js'

export const PROBLEM_PREFIX = 'urn:intent-gate:problem:'

/** Retry-After while the store cannot be reached: Redis outages worth failing over are short. */
export const STORE_RETRY_AFTER_SECS = 2

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail: string
  request_id: string
  [member: string]: unknown
}

/** The problem body of any error; anything that is not an IntentGateError is an opaque 500. */
export function problemOf (err: unknown, requestId: string): ProblemBody {
  if (!(err instanceof IntentGateError)) {
    const { status, type, title } = PROBLEM_TYPES.internal
    return { type: `${PROBLEM_PREFIX}${type}`, title, status, detail: 'the gateway failed to handle the request', request_id: requestId }
  }
  const { status, type, title } = err.problem
  const body: ProblemBody = { ...err.problemMembers(), type: `${PROBLEM_PREFIX}${type}`, title, status, detail: publicDetail(err), request_id: requestId }
  if (err instanceof BadRequestError && err.errors.length > 0) body.errors = err.errors
  if (err instanceof AmbiguousJsonError) body.reason = err.reason
  if (err instanceof VersionUnsupportedError) {
    body.version = err.version
    body.accepted = err.accepted
  }
  return body
}

/**
 * What a client may read of an error. A store failure's message carries the Redis client's own words (addresses,
 * states, internals): clients get a fixed sentence, and the message goes to the log under the request id.
 */
function publicDetail (err: IntentGateError): string {
  if (err instanceof StoreUnavailableError) {
    return 'the gateway cannot reach its store right now; nothing was registered or forwarded: retry after Retry-After seconds (the log has the cause under this request_id)'
  }
  return err.message
}

/** The Retry-After (seconds) an error answers with, or null. */
export function retryAfterOf (err: unknown): number | null {
  if (err instanceof DrainingError) return err.retryAfterSecs
  if (err instanceof UpstreamOutcomeUnknownError) return err.retryAfterSecs
  if (err instanceof StoreUnavailableError) return STORE_RETRY_AFTER_SECS
  if (err instanceof DuplicateInProgressError) return 1
  if (err instanceof TooManyStreamsError || err instanceof OwnerKeyLimitError) return err.retryAfterSecs
  if (err instanceof InstanceLeavingError) return 1
  return null
}

/**
 * Answers `res` with the problem of `err`. When headers were already sent (an upstream died mid-body) there
 * is nothing honest left to say: the response is destroyed so the client sees the failure at once.
 */
export function sendProblem (res: ServerResponse, err: unknown, requestId: string, extraHeaders?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy(err instanceof Error ? err : undefined)
    return
  }
  const body = problemOf(err, requestId)
  const payload = JSON.stringify(body)
  const headers: Record<string, string | number> = {
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
    'cache-control': 'no-store',
    ...extraHeaders
  }
  const retryAfter = retryAfterOf(err)
  if (retryAfter !== null) headers['retry-after'] = String(retryAfter)
  res.writeHead(body.status, headers)
  res.end(payload)
}
