/**
 * One request to an upstream whose whole answer the gateway reads (submissions, status reads, reconciler polls):
 * undici's dispatch with a handler that collects the body into one Buffer, so no response stream, no body
 * mixin and no extra promises are built per call. Transport failures become the typed 502/504 errors, saying
 * whether the request may have reached the upstream (`maybeDelivered`).
 */
import type { Dispatcher } from 'undici'
import { upstreamFailure } from './problem.js'
import type { Upstream } from './upstreams.js'

export interface UpstreamAnswer {
  status: number
  /** The answer's Content-Type, `application/json` when it has none. */
  contentType: string
  body: string
}

export interface UpstreamCall {
  method: 'GET' | 'POST'
  /** Path and query as the client sent them; the upstream's base path is put in front. */
  path: string
  headers: string[]
  body?: string | Buffer
}

class CollectingHandler implements Dispatcher.DispatchHandler {
  private status = 0
  private contentType = 'application/json'
  private readonly chunks: Buffer[] = []
  private size = 0
  /** Bytes of the request reached the socket: from here on a failure leaves the outcome unknown. */
  written = false

  constructor (private readonly resolve: (a: UpstreamAnswer) => void, private readonly reject: (err: Error) => void) {}

  onConnect (): void {}

  onBodySent (): void {
    this.written = true
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true
    this.status = statusCode
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] as Buffer
      if (name.length === 12 && name.toString('latin1').toLowerCase() === 'content-type') {
        this.contentType = (rawHeaders[i + 1] as Buffer).toString('latin1')
      }
    }
    return true
  }

  onData (chunk: Buffer): boolean {
    this.chunks.push(chunk)
    this.size += chunk.length
    return true
  }

  onComplete (): void {
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer).toString('utf8') : Buffer.concat(this.chunks, this.size).toString('utf8')
    this.resolve({ status: this.status, contentType: this.contentType, body })
  }

  onError (err: Error): void {
    this.reject(err)
  }
}

/** Sends one request to `upstream` and reads its whole answer; rejects with UpstreamError/UpstreamTimeoutError. */
export async function callUpstream (upstream: Upstream, call: UpstreamCall, timeoutMs: number): Promise<UpstreamAnswer> {
  let handler: CollectingHandler | undefined
  try {
    return await new Promise<UpstreamAnswer>((resolve, reject) => {
      handler = new CollectingHandler(resolve, reject)
      upstream.pool.dispatch({
        method: call.method,
        path: upstream.basePath + call.path,
        headers: call.headers,
        body: call.body ?? null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs
      }, handler)
    })
  } catch (err) {
    throw upstreamFailure(err, upstream.color, timeoutMs, handler?.written ?? false)
  }
}
