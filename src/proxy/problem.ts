/**
 * The proxy's side of problem responses: an upstream transport failure (refused, reset, timeout) as a typed
 * error. The responses themselves are src/http/problem.ts, shared with the admin API.
 */
import { UpstreamError, UpstreamTimeoutError } from '../errors.js'
import type { Color } from '../config/schema.js'

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/**
 * Turns a transport failure talking to `color` into the error the client sees: 504 on timeout, else 502.
 * `written` says whether bytes of the request reached the socket: with a timeout, or a connection broken after
 * that, the upstream may hold the request (`maybeDelivered`).
 */
export function upstreamFailure (err: unknown, color: Color, timeoutMs: number, written = false): UpstreamError {
  if (err instanceof UpstreamError) return err
  const e = err as Error & { code?: string }
  if ((e.code !== undefined && TIMEOUT_CODES.has(e.code)) || e.name === 'TimeoutError') {
    const timeout = new UpstreamTimeoutError(`upstream ${color} did not answer within ${timeoutMs} ms`, { cause: err })
    timeout.maybeDelivered = true
    return timeout
  }
  // The code only: the client's problem detail never carries an internal error's text (it is in the log).
  const why = e.code ?? 'transport error'
  const failure = new UpstreamError(written ? `upstream ${color} broke the connection before answering (${why})` : `upstream ${color} could not be reached (${why})`, { cause: err })
  failure.maybeDelivered = written && !NEVER_SENT_CODES.has(e.code ?? '')
  return failure
}

/** Failures that happen before a request can reach the upstream, whatever was buffered. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT'])
