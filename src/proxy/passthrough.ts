/**
 * Pass-through of every route that is not a submission or a status read, to the active upstream.
 *
 * Plain HTTP goes over the upstream's undici pool with a dispatch handler that streams the response straight
 * into the client's response (no intermediate streams, raw header arrays): measurably faster than http-proxy.
 * The exchange is tied both ways: a client that goes away aborts the upstream request (its socket is destroyed,
 * not left to finish), and an upstream that fails mid-body destroys the client's response so nobody hangs.
 *
 * WebSocket upgrades go through http-proxy's `ws` (one upstream socket per connection, piped both ways), which
 * is why a swap never cuts them: each keeps the upstream it was opened to until either side closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Dispatcher } from 'undici'
import httpProxy from 'http-proxy'
import type { Logger } from 'pino'
import { channels } from '../observability/channels.js'
import { clientResponseHeaders, requestIdOf, upstreamRequestHeaders } from './headers.js'
import { sendProblem } from '../http/problem.js'
import { upstreamFailure } from './problem.js'
import type { Upstream } from './upstreams.js'

class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError'
}

/** One pass-through exchange: undici's (native, raw-header) handler interface feeding a ServerResponse. */
class PassThroughExchange implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | null = null
  private resumeUpstream: (() => void) | null = null
  /**
   * The status and headers are held back until the first body byte (or the end) arrives, and a first chunk that
   * is the whole body (its Content-Length) until the end, which follows at once: a small response leaves in one
   * write, and an upstream failing before any body byte still gets an honest 502. Streams are never delayed.
   */
  private status = 0
  private headers: string[] | null = null
  private contentLength = -1
  private held: Buffer | null = null
  private finished = false
  private readonly startedAt: number
  requestId = ''

  constructor (
    private readonly res: ServerResponse,
    private readonly upstream: Upstream,
    private readonly timeoutMs: number
  ) {
    this.startedAt = channels.request.hasSubscribers ? performance.now() : 0
    res.once('close', this.onClientClose)
  }

  private readonly onClientClose = (): void => {
    if (this.finished) return
    this.finished = true
    this.abortUpstream?.(new ClientGoneError('client closed the connection'))
  }

  onConnect (abort: (err?: Error) => void): void {
    this.abortUpstream = abort
    if (this.finished) abort(new ClientGoneError('client closed the connection'))
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true
    this.status = statusCode
    this.headers = clientResponseHeaders(rawHeaders, this.requestId)
    this.contentLength = contentLengthOf(this.headers)
    this.resumeUpstream = resume
    return true
  }

  private flushHead (): void {
    if (this.headers === null) return
    this.res.writeHead(this.status, this.headers)
    this.headers = null
  }

  onData (chunk: Buffer): boolean {
    if (this.headers !== null && chunk.length === this.contentLength) {
      this.held = chunk
      return true
    }
    this.flushHead()
    if (this.held !== null) {
      this.res.write(this.held)
      this.held = null
    }
    if (this.res.write(chunk)) return true
    // The client reads slower than the upstream sends: undici pauses the socket until the client drains.
    this.res.once('drain', this.resumeUpstream as () => void)
    return false
  }

  onComplete (): void {
    this.finished = true
    this.flushHead()
    if (this.held !== null) this.res.end(this.held)
    else this.res.end()
    this.held = null
    this.publish(this.res.statusCode)
  }

  onError (err: Error): void {
    if (this.finished && err instanceof ClientGoneError) return
    this.finished = true
    if (this.res.destroyed) return
    // Before the headers: a problem+json 502/504. After: destroy, so the client sees a truncated body at once.
    sendProblem(this.res, upstreamFailure(err, this.upstream.color, this.timeoutMs), this.requestId)
    this.publish(this.res.headersSent ? this.res.statusCode : 502)
  }

  private publish (status: number): void {
    if (this.startedAt !== 0 && channels.request.hasSubscribers) {
      channels.request.publish({ route: 'passthrough', status, version: null, durationMs: performance.now() - this.startedAt })
    }
  }
}

function contentLengthOf (headers: readonly string[]): number {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'content-length') return Number(headers[i + 1])
  return -1
}

/** Forwards `req` to `upstream` as it is and streams the answer back. */
export function passThrough (req: IncomingMessage, res: ServerResponse, upstream: Upstream, timeoutMs: number): void {
  const exchange = new PassThroughExchange(res, upstream, timeoutMs)
  const { headers, requestId, hasBody } = upstreamRequestHeaders(req, upstream.host, null)
  exchange.requestId = requestId
  upstream.pool.dispatch({
    method: req.method as Dispatcher.HttpMethod,
    path: upstream.basePath + (req.url ?? '/'),
    headers,
    body: hasBody ? req : null,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs
  }, exchange)
}

/** An upstream URL as http-proxy's parsed target: what url.parse() gave, without calling it. */
function upgradeTarget (url: string): { protocol: string, host: string, hostname: string, port: string, path: string } {
  const u = new URL(url)
  return { protocol: u.protocol, host: u.host, hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port, path: u.pathname + u.search }
}

/** WebSocket (and any other Upgrade) pass-through; keeps track of open tunnels so `destroy()` can end them. */
export class UpgradeTunnels {
  private readonly proxy = httpProxy.createProxyServer({ ws: true, xfwd: true })
  private readonly open = new Set<Duplex>()

  constructor (private readonly logger: Logger) {
    this.proxy.on('error', (err, _req, target) => {
      this.logger.debug({ err }, 'upgrade pass-through failed')
      // For `ws` the third argument is the client socket.
      if (target !== undefined && 'destroy' in target) (target as Duplex).destroy()
    })
  }

  /** Tunnels an Upgrade request to `upstream`. */
  handle (req: IncomingMessage, socket: Duplex, head: Buffer, upstream: Upstream): void {
    req.headers['x-request-id'] = requestIdOf(req)
    this.open.add(socket)
    socket.once('close', () => this.open.delete(socket))
    // A target given as a string is parsed by http-proxy with url.parse(), and so is req.url unless `toProxy`:
    // Node 24 deprecates url.parse() with a warning on stderr. The target goes parsed the WHATWG way, and the
    // path as the client sent it (the origin-form path of an Upgrade request, which url.parse left as it was).
    this.proxy.ws(req, socket, head, { target: upgradeTarget(upstream.config.url), toProxy: true })
  }

  /** How many tunnels are open. */
  size (): number {
    return this.open.size
  }

  /** Resolves when every open tunnel has closed by itself. */
  async idle (): Promise<void> {
    await Promise.all([...this.open].map(async (s) => await new Promise<void>((resolve) => {
      if (s.destroyed) resolve()
      else s.once('close', () => resolve())
    })))
  }

  /** Ends every open tunnel now. */
  destroy (): void {
    for (const s of this.open) s.destroy()
    this.open.clear()
    this.proxy.close()
  }
}
