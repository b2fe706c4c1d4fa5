/**
 * The proxy's side of problem responses: an upstream transport failure (refused, reset, timeout) as a typed
 * error. The responses themselves are src/http/problem.ts, shared with the admin API.
 */
import { UpstreamError, UpstreamTimeoutError } from '../errors.js'
import type { Color } from '../config/schema.js'

// src/proxy/submit.ts still takes sendProblem from here.
export { sendProblem } from '../http/problem.js'

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

/** Turns a transport failure talking to `color` into the error the client sees: 504 on timeout, else 502. */
export function upstreamFailure (err: unknown, color: Color, timeoutMs: number): UpstreamError {
  if (err instanceof UpstreamError) return err
  const e = err as Error & { code?: string }
  if ((e.code !== undefined && TIMEOUT_CODES.has(e.code)) || e.name === 'TimeoutError') {
    return new UpstreamTimeoutError(`upstream ${color} did not answer within ${timeoutMs} ms`, { cause: err })
  }
  const why = e.code ?? e.message ?? String(err)
  return new UpstreamError(`upstream ${color} could not be reached (${why})`, { cause: err })
}
