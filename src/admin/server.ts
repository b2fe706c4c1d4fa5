/**
 * The admin listener, on fastify: JSON in and out, problem+json errors (the same module as the proxy's, so both
 * ports answer alike), the bearer token on every `/admin/*` route, and the Host check against DNS rebinding.
 * Route groups live in `src/admin/routes/*.ts`, one file each, and declare each route once with its TypeBox
 * request and response schemas; the composition root registers each group with one line:
 *
 *   admin.register(drainRoutes({ store, ... }))
 *
 * The schemas validate requests (errors in the admin API's words, src/admin/schema-errors.ts) and make the
 * OpenAPI 3.1 document at `GET /admin/openapi.json` (@fastify/swagger). Responses are written with plain
 * JSON.stringify: a response schema documents the body, it does not filter it.
 *
 * The token is compared in constant time over SHA-256 digests (equal length whatever the client sent), and is
 * never logged.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import type { Logger } from 'pino'
import { IntentGateError, NotFoundError, PayloadTooLargeError, UnauthorizedError } from '../errors.js'
import { httpUrlOf, parseListen } from '../config/listen.js'
import { problemOf, retryAfterOf } from '../http/problem.js'
import { InvalidAdminRequestError, MethodNotAllowedError } from './errors.js'
import { hostAllowed, HostNotAllowedError } from './host-check.js'
import { typeboxValidator } from './schema-errors.js'
import { isAuditVia, type AuditInput, type AuditVia } from '../audit/audit-log.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

/** What a route declares about its requests and answers; the OpenAPI document is made from these. */
export interface RouteSchema {
  summary: string
  /** The OpenAPI operationId; default: the method and the path in camel case (`GET /admin/drain/status` → `getDrainStatus`). */
  operationId?: string
  description?: string
  params?: TSchema
  querystring?: TSchema
  body?: TSchema
  /** Status → body schema of the successful answers (errors are problem+json, added for every route). */
  response?: Record<number, TSchema>
}

type StaticOr<T, Fallback> = [T] extends [TSchema] ? Static<T> : Fallback

export interface AdminRequest<S extends RouteSchema = RouteSchema> {
  method: Method
  path: string
  /** `:name` segments of the route pattern (decoded). */
  params: StaticOr<S['params'], Record<string, string>>
  query: URLSearchParams
  /** The parsed JSON body of POST/PUT (`{}` when empty), checked against `schema.body` when there is one. */
  body: StaticOr<S['body'], unknown>
  requestId: string
  /** Who asked, for the audit log: the token's id, the door (`x-intent-gate-via`) and the address. */
  caller: Caller
  /** The client's address (the socket's peer). */
  peer: string
  /** Whether the request carried the right bearer token (open routes may show more with it). */
  authorized: boolean
}

export interface Caller { actor: string, via: AuditVia, origin: string }

/** The state change a route made, as the audit log records it (the server adds who asked). */
export interface AuditAction {
  action: string
  detail: Record<string, unknown>
  reason?: string
}

export interface AdminReply {
  status?: number
  /** Serialised as JSON unless `raw` is given. */
  body?: unknown
  /** A ready body with its content type (the Prometheus text, the status page's files). */
  raw?: { contentType: string, text: string | Buffer }
  headers?: Record<string, string>
  /** A streaming answer (Server-Sent Events): the handler writes to the raw response itself. */
  hijack?: (res: import('node:http').ServerResponse) => void
}

export interface Route<S extends RouteSchema = RouteSchema> {
  method: Method
  /** Literal segments and `:param` segments, e.g. `/admin/inflight/:id/complete`. */
  path: string
  schema?: S
  handler: (req: AdminRequest<S>) => Promise<AdminReply> | AdminReply
  /** A route that changes state says what, from its request and successful reply: one audit entry. */
  audit?: (req: AdminRequest<S>, reply: AdminReply) => AuditAction | null
}

/** Declares one route with its handler typed from its schemas. */
export function route<S extends RouteSchema> (r: Route<S>): Route {
  return r as unknown as Route
}

/** A named set of routes, one file in src/admin/routes (the group's name is its OpenAPI tag). */
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
  /** Host names (port ignored) `/admin/*` and `/status` answer besides loopback names and the listen host. */
  allowedHosts?: readonly string[]
  /** The API's version in the OpenAPI document (default 1). */
  version?: string
  /** Where the routes' audit entries go. */
  audit?: (input: AuditInput) => void
}

export interface AdminServer {
  register (group: RouteGroup): void
  /** One GET through this server's own routes, with the token (the status page reads what the API answers). */
  local (path: string): Promise<{ status: number, body: unknown, text: string }>
  /** One open GET (no token) through this server's routes: what the probe listener (./probes.ts) answers. */
  probe (path: string): Promise<{ status: number, contentType: string, body: string }>
  listen (): Promise<{ host: string, port: number }>
  url (): string
  close (): Promise<void>
}

const DEFAULT_MAX_BODY = 64 * 1024

export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'urn:intent-gate:problem:<type> (docs/errors.md)' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  request_id: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ field: Type.String({ description: 'a JSON pointer' }), message: Type.String() })))
}, { $id: 'Problem', description: 'application/problem+json (RFC 9457)' })

/** `/admin/*` needs the token; these are the admin paths that do not (the API's own description). */
const OPEN_ADMIN_PATHS = new Set(['/admin/openapi.json'])

export function createAdminServer (options: AdminServerOptions): AdminServer {
  const expectedDigest = digest(options.token)
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY
  const logger = options.logger.child({ component: 'admin' })
  const listen = parseListen(options.listen)
  // The token's id in the audit log: enough to tell tokens apart after a rotation, useless to an attacker.
  const actor = `token:${expectedDigest.toString('hex').slice(0, 8)}`

  const app = Fastify({
    logger: false,
    bodyLimit: maxBody,
    routerOptions: { ignoreTrailingSlash: true },
    keepAliveTimeout: 5000,
    genReqId: (req) => {
      const header = req.headers['x-request-id']
      return typeof header === 'string' && header !== '' && header.length <= 200 ? header : randomUUID()
    }
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setValidatorCompiler(typeboxValidator)
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  app.addSchema(ProblemSchema)

  // Every body is JSON whatever its content type says (curl -d sends form encoding); empty is `{}`.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, text, done) => {
    const s = String(text)
    if (s.trim() === '') return done(null, {})
    try {
      done(null, JSON.parse(s))
    } catch (err) {
      done(new InvalidAdminRequestError(`the body is not JSON: ${(err as Error).message}`, [{ field: '', message: 'not JSON' }]), undefined)
    }
  })

  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'intent-gate admin API',
        version: options.version ?? '1',
        description: 'Drain control, inflight intents, upstreams, versions, upgrades, checkpoints and IBC of one intent-gate instance. Errors are application/problem+json (docs/errors.md). Every /admin/* route but this document needs the bearer token.'
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) }
  })

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id)
    const path = pathOf(req.url)
    const guarded = path === '/admin' || path.startsWith('/admin/') || path === '/status' || path.startsWith('/status/')
    if (guarded && !hostAllowed(req.headers.host, listen.host, options.allowedHosts ?? [])) {
      throw new HostNotAllowedError(`Host '${req.headers.host ?? ''}' is not a name of this admin listener (loopback, ${listen.host}, or [admin] allowed_hosts)`)
    }
    if ((path === '/admin' || path.startsWith('/admin/')) && !OPEN_ADMIN_PATHS.has(path)) authorize(req.headers.authorization)
  })

  app.setErrorHandler((raw, req, reply) => {
    const err = translate(raw)
    // Refusals are the caller's business; only failures of the gateway itself are worth a log line.
    if (!(err instanceof IntentGateError) || err.problem.status === 500) {
      logger.error({ err: raw, method: req.method, url: req.url, requestId: req.id }, 'admin request failed')
    }
    if (err instanceof UnauthorizedError) reply.header('www-authenticate', 'Bearer realm="intent-gate-admin"')
    if (err instanceof MethodNotAllowedError) reply.header('allow', err.allowed.join(', '))
    // A body we did not read keeps the socket busy: close it rather than read megabytes we will refuse.
    if (err instanceof PayloadTooLargeError) reply.header('connection', 'close')
    sendProblemReply(reply, err, req.id)
  })

  app.setNotFoundHandler((req, reply) => {
    sendProblemReply(reply, new NotFoundError(`no admin route ${req.method} ${pathOf(req.url)}`), req.id)
  })

  app.get('/admin/openapi.json', { schema: { hide: true } }, async (_req, reply) => {
    return await reply.header('cache-control', 'no-store').type('application/json').send(Buffer.from(JSON.stringify(app.swagger())))
  })

  function authorize (authorization: string | undefined): void {
    if (bearerOf(authorization) === null) throw new UnauthorizedError('an Authorization: Bearer <token> header is required on /admin/* routes')
    if (!tokenMatches(authorization)) throw new UnauthorizedError('the bearer token is not valid')
  }

  function tokenMatches (authorization: string | undefined): boolean {
    const given = bearerOf(authorization)
    return given !== null && timingSafeEqual(digest(given), expectedDigest)
  }

  /** A group's routes as one fastify plugin. */
  const groupPlugin = (group: RouteGroup) => async (instance: typeof app): Promise<void> => {
    for (const r of group.routes) add(instance, group, r)
  }

  /**
   * The other methods of each route's path, as fastify routes answering 405 with `Allow` (the error handler adds
   * it): fastify's router matches them, so no path is matched twice. HEAD is fastify's own wherever GET is.
   */
  const methodNotAllowedPlugin = (all: readonly Route[]) => async (instance: typeof app): Promise<void> => {
    const byShape = new Map<string, { url: string, allowed: Method[] }>()
    for (const r of all) {
      const shape = r.path.replace(/:[^/]+/g, ':')
      const entry = byShape.get(shape) ?? { url: r.path, allowed: [] }
      entry.allowed.push(r.method)
      byShape.set(shape, entry)
    }
    for (const { url, allowed } of byShape.values()) {
      const others = instance.supportedMethods.filter((m) => !(allowed as string[]).includes(m) && !(m === 'HEAD' && allowed.includes('GET')))
      instance.route({ method: others, url, schema: { hide: true }, handler: async () => { throw new MethodNotAllowedError(allowed) } })
    }
  }

  function add (instance: typeof app, group: RouteGroup, r: Route): void {
    const s = r.schema
    const isAdmin = r.path.startsWith('/admin/')
    const response: Record<string, unknown> = {}
    for (const [status, schema] of Object.entries(s?.response ?? {})) response[status] = schema
    if (isAdmin) response['4xx'] = Type.Ref(ProblemSchema)
    response['5xx'] = Type.Ref(ProblemSchema)
    instance.route({
      method: r.method,
      url: r.path,
      schema: {
        tags: [group.name],
        ...(s !== undefined
          ? {
              summary: s.summary,
              operationId: s.operationId ?? operationIdOf(r.method, r.path),
              ...(s.description !== undefined ? { description: s.description } : {})
            }
          : { hide: true }),
        ...(s?.params !== undefined ? { params: s.params } : {}),
        ...(s?.querystring !== undefined ? { querystring: s.querystring } : {}),
        ...(s?.body !== undefined ? { body: s.body } : {}),
        ...(isAdmin ? { security: [{ bearer: [] }] } : {}),
        response
      },
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const url = new URL(req.url, 'http://admin.invalid')
        const request: AdminRequest = {
          method: r.method,
          path: pathOf(req.url),
          params: (req.params ?? {}) as never,
          query: url.searchParams,
          body: (r.method === 'POST' || r.method === 'PUT' ? req.body ?? {} : undefined) as never,
          requestId: req.id,
          caller: { actor, via: viaOf(req.headers['x-intent-gate-via']), origin: req.ip },
          peer: req.socket.remoteAddress ?? '',
          authorized: req.headers.authorization !== undefined && tokenMatches(req.headers.authorization)
        }
        const result = await r.handler(request)
        const audited = r.audit?.(request, result) ?? null
        if (audited !== null) options.audit?.({ ...request.caller, ...audited })
        if (result.hijack !== undefined) {
          reply.hijack()
          result.hijack(reply.raw)
          return
        }
        reply.code(result.status ?? 200).header('cache-control', 'no-store').headers(result.headers ?? {})
        if (result.raw !== undefined) return await reply.type(result.raw.contentType).send(result.raw.text)
        if (result.body === undefined) return await reply.send()
        // A Buffer, so fastify keeps the content type as given (it appends a charset to JSON strings).
        return await reply.type('application/json').send(Buffer.from(JSON.stringify(result.body)))
      }
    })
  }

  const groups: RouteGroup[] = []
  let address: { host: string, port: number } | null = null
  return {
    register (group) {
      groups.push(group)
      logger.debug({ group: group.name, routes: group.routes.length }, 'admin routes registered')
    },
    async local (path) {
      const res = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${options.token}`, host: '127.0.0.1' } })
      let body: unknown = null
      try {
        body = JSON.parse(res.body)
      } catch {}
      return { status: res.statusCode, body, text: res.body }
    },
    async probe (path) {
      const res = await app.inject({ method: 'GET', url: path, headers: { host: '127.0.0.1' } })
      return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? 'text/plain'), body: res.body }
    },
    async listen () {
      // Plugins loaded after @fastify/swagger, whose onRoute hook collects the routes for the document.
      for (const group of groups) app.register(groupPlugin(group))
      app.register(methodNotAllowedPlugin(groups.flatMap((g) => g.routes)))
      await app.listen({ host: listen.host, port: listen.port })
      const info = app.server.address() as import('node:net').AddressInfo
      address = { host: info.address, port: info.port }
      return address
    },
    url () {
      if (address === null) throw new Error('the admin server is not listening')
      return httpUrlOf(address)
    },
    async close () {
      if (!app.server.listening) return
      app.server.closeIdleConnections()
      // Admin calls are short; one still open after a second is abandoned rather than holding up shutdown
      // (a status page's event stream is one of those).
      const timer = setTimeout(() => app.server.closeAllConnections(), 1000)
      await app.close()
      clearTimeout(timer)
    }
  }
}

/** fastify's own errors in the admin API's terms (a too-large body, a malformed URL...). */
function translate (err: unknown): unknown {
  if (err instanceof IntentGateError) return err
  const e = err as { code?: string, statusCode?: number, message?: string }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PayloadTooLargeError('the body is too large')
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return new InvalidAdminRequestError(e.message ?? 'bad request', [{ field: '', message: e.message ?? 'bad request' }])
  }
  return err
}

function sendProblemReply (reply: FastifyReply, err: unknown, requestId: string): void {
  const body = problemOf(err, requestId)
  const retryAfter = retryAfterOf(err)
  if (retryAfter !== null) reply.header('retry-after', String(retryAfter))
  reply.code(body.status).header('cache-control', 'no-store').type('application/problem+json').send(Buffer.from(JSON.stringify(body)))
}

/** `POST /admin/inflight/:id/complete` → `postInflightByIdComplete`: stable, unique per method and path. */
export function operationIdOf (method: Method, path: string): string {
  const words = path.split('/').filter((p) => p !== '' && p !== 'admin').flatMap((p) => (p.startsWith(':') ? ['by', p.slice(1)] : p.split(/[^A-Za-z0-9]+/)))
  return method.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')
}

/** The door a caller says it uses; anything else is the API itself. */
function viaOf (header: string | string[] | undefined): AuditVia {
  // `redis` is the gateway's own (a key changed by hand): no caller speaks for it.
  return isAuditVia(header) && header !== 'redis' ? header : 'admin'
}

function pathOf (url: string): string {
  const path = new URL(url, 'http://admin.invalid').pathname
  return path.length > 1 ? path.replace(/\/+$/, '') : path
}

function bearerOf (authorization: string | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? null
}

function digest (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
