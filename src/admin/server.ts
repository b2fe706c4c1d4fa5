/**
 * The admin listener: a small node:http router with JSON in and out, problem+json errors (the proxy's problem
 * module, so both ports answer alike), and the bearer token on every `/admin/*` route. Route groups live in
 * `src/admin/routes/*.ts`, one file each, and the composition root registers each with one line:
 *
 *   admin.register(drainRoutes({ store, ... }))
 *
 * The token is compared in constant time over SHA-256 digests (equal length whatever the client sent), and is
 * never logged.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { IntentGateError, NotFoundError, PayloadTooLargeError, UnauthorizedError } from '../errors.js'
import { httpUrlOf, parseListen } from '../config/listen.js'
import { sendProblem } from '../http/problem.js'
import { InvalidAdminRequestError, MethodNotAllowedError } from './errors.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

export interface AdminRequest {
  method: Method
  path: string
  /** `:name` segments of the route pattern. */
  params: Record<string, string>
  query: URLSearchParams
  /** The parsed JSON body of POST/PUT (`{}` when empty); undefined for GET. */
  body: unknown
  requestId: string
}

export interface AdminReply {
  status?: number
  /** Serialised as JSON unless `raw` is given. */
  body?: unknown
  /** A ready body with its content type (the Prometheus text). */
  raw?: { contentType: string, text: string }
  headers?: Record<string, string>
}

export interface Route {
  method: Method
  /** Literal segments and `:param` segments, e.g. `/admin/inflight/:id/complete`. */
  path: string
  handler: (req: AdminRequest) => Promise<AdminReply> | AdminReply
}

/** A named set of routes, one file in src/admin/routes. */
export interface RouteGroup {
  name: string
  routes: Route[]
}

export interface AdminServerOptions {
  /** `host:port` (port 0 picks a free one). */
  listen: string
  token: string
  logger: Logger
  /** Largest accepted request body. */
  maxBodyBytes?: number
}

export interface AdminServer {
  register (group: RouteGroup): void
  listen (): Promise<{ host: string, port: number }>
  url (): string
  close (): Promise<void>
}

const DEFAULT_MAX_BODY = 64 * 1024

export function createAdminServer (options: AdminServerOptions): AdminServer {
  const routes: Array<Route & { segments: string[] }> = []
  const expectedDigest = digest(options.token)
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  const logger = options.logger.child({ component: 'admin' })

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, 'admin response could not be written')
      res.destroy()
    })
  })
  server.keepAliveTimeout = 5000

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = req.headers['x-request-id']
    const requestId = typeof header === 'string' && header !== '' && header.length <= 200 ? header : randomUUID()
    try {
      const url = new URL(req.url ?? '/', 'http://admin.invalid')
      const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname
      if (path === '/admin' || path.startsWith('/admin/')) authorize(req.headers.authorization)
      const { route, params } = match(req.method ?? 'GET', path)
      const method = route.method
      const body = method === 'POST' || method === 'PUT' ? await readJson(req, maxBody) : undefined
      const reply = await route.handler({ method, path, params, query: url.searchParams, body, requestId })
      send(res, reply, requestId)
    } catch (err) {
      // Refusals are the caller's business; only failures of the gateway itself are worth a log line.
      if (!(err instanceof IntentGateError) || err.problem.status === 500) {
        logger.error({ err, method: req.method, url: req.url, requestId }, 'admin request failed')
      }
      const headers: Record<string, string> = { 'x-request-id': requestId }
      if (err instanceof UnauthorizedError) headers['www-authenticate'] = 'Bearer realm="intent-gate-admin"'
      if (err instanceof MethodNotAllowedError) headers.allow = err.allowed.join(', ')
      // A body we did not read keeps the socket busy: close it rather than read megabytes we will refuse.
      if (err instanceof PayloadTooLargeError) headers.connection = 'close'
      sendProblem(res, err, requestId, headers)
    }
  }

  function authorize (authorization: string | undefined): void {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
    if (m === null) throw new UnauthorizedError('an Authorization: Bearer <token> header is required on /admin/* routes')
    if (!timingSafeEqual(digest(m[1] as string), expectedDigest)) throw new UnauthorizedError('the bearer token is not valid')
  }

  function match (method: string, path: string): { route: Route, params: Record<string, string> } {
    const segments = path.split('/').slice(1)
    const allowed: string[] = []
    for (const route of routes) {
      const params = matchSegments(route.segments, segments)
      if (params === null) continue
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params }
      allowed.push(route.method)
    }
    if (allowed.length > 0) throw new MethodNotAllowedError(allowed)
    throw new NotFoundError(`no admin route ${method} ${path}`)
  }

  let address: { host: string, port: number } | null = null
  return {
    register (group) {
      for (const route of group.routes) routes.push({ ...route, segments: route.path.split('/').slice(1) })
      logger.debug({ group: group.name, routes: group.routes.length }, 'admin routes registered')
    },
    async listen () {
      const { host, port } = parseListen(options.listen)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      const info = server.address() as AddressInfo
      address = { host: info.address, port: info.port }
      return address
    },
    url () {
      if (address === null) throw new Error('the admin server is not listening')
      return httpUrlOf(address)
    },
    async close () {
      if (!server.listening) return
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      // Admin calls are short; one still open after a second is abandoned rather than holding up shutdown.
      const timer = setTimeout(() => server.closeAllConnections(), 1000)
      await closed
      clearTimeout(timer)
    }
  }
}

function matchSegments (pattern: string[], actual: string[]): Record<string, string> | null {
  if (pattern.length !== actual.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string
    const a = actual[i] as string
    if (p.startsWith(':')) {
      if (a === '') return null
      try {
        params[p.slice(1)] = decodeURIComponent(a)
      } catch {
        return null
      }
    } else if (p !== a) {
      return null
    }
  }
  return params
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

async function readJson (req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) throw new PayloadTooLargeError(`the body is over ${maxBytes} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBytes) throw new PayloadTooLargeError(`the body is over ${maxBytes} bytes`)
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new InvalidAdminRequestError(`the body is not JSON: ${(err as Error).message}`, [{ field: '', message: 'not JSON' }])
  }
}

function send (res: ServerResponse, reply: AdminReply, requestId: string): void {
  const status = reply.status ?? 200
  const headers: Record<string, string | number> = { 'x-request-id': requestId, 'cache-control': 'no-store', ...reply.headers }
  let payload = ''
  if (reply.raw !== undefined) {
    headers['content-type'] = reply.raw.contentType
    payload = reply.raw.text
  } else if (reply.body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(reply.body)
  }
  headers['content-length'] = Buffer.byteLength(payload)
  res.writeHead(status, headers)
  res.end(res.req.method === 'HEAD' ? undefined : payload)
}
