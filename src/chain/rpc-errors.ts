/**
 * Turns what cosmjs throws into the chain side's typed errors: a transport failure (refused, reset, timed out,
 * a 5xx) becomes ChainUnreachableError naming the URL; anything the chain answered becomes ChainQueryError.
 * Also a deadline for calls whose cosmjs API takes none.
 */
import { IntentGateError } from '../errors.js'
import { ChainQueryError, ChainUnreachableError } from './errors.js'

const TRANSPORT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED'])

/** The transport-level reason an error carries (its own code or its cause chain's), or null when it has none. */
export function transportReason (err: unknown): string | null {
  let current: unknown = err
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (typeof current === 'object') {
      const { code, name, message } = current as { code?: unknown, name?: unknown, message?: unknown }
      if (typeof code === 'string' && TRANSPORT_CODES.has(code)) return code
      if (name === 'TimeoutError' || name === 'AbortError') return 'timed out'
      if (typeof message === 'string') {
        if (/Bad status on response: 5\d\d/.test(message)) return message
        if (/socket has disconnected|socket hang up/i.test(message)) return message
      }
      current = (current as { cause?: unknown }).cause
    } else {
      break
    }
  }
  if (err instanceof TypeError && err.message === 'fetch failed') return 'fetch failed'
  return null
}

/** A typed error for whatever a chain call threw; IntentGateErrors pass through unchanged. */
export function toChainError (err: unknown, url: string, what: string): IntentGateError {
  if (err instanceof IntentGateError) return err
  const reason = transportReason(err)
  if (reason !== null) return new ChainUnreachableError(url, `${what}: ${reason}`, { cause: err })
  const message = err instanceof Error ? err.message : String(err)
  return new ChainQueryError(`${what} failed: ${message}`, { cause: err })
}

/** Rejects with ChainUnreachableError when `promise` takes longer than `ms` (the call itself is not aborted). */
export async function withDeadline<T> (promise: Promise<T>, ms: number, url: string, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ChainUnreachableError(url, `${what}: no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}
