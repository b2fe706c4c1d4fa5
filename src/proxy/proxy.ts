/**
 * Builds the proxy (see the API in ./index.ts): the node:http listener, the router, and the lifecycle of the
 * parts (control view, upstream pools and health checks, reconciler, WebSocket tunnels).
 *
 * Routing is by prefix on the raw URL, no parsing per request: `POST <intent_path>[?...]` submits,
 * `GET <intent_path>/<id>[?...]` (one path segment) reads a status, anything else passes through.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { createVersionsPolicy, type VersionsPolicy, type VersionsPolicyInput } from './versions-policy.js'
import { createUpstreams } from './upstreams.js'
import { ControlView } from './control.js'
import { SubmissionHold } from './hold.js'
import { NoticeWatcher } from './notice-watcher.js'
import { AnswerTally } from './answer-tally.js'
import { ClientStatusRoutes } from './client-status.js'
import { Reconciler } from './reconciler.js'
import { handleSubmit } from './submit.js'
import { handleStatus } from './status.js'
import { passThrough, UpgradeTunnels } from './passthrough.js'
import type { ProxyContext } from './context.js'
import { clientAddress, dropForwardedHeaders, peerTrusted, requestIdOf } from './headers.js'
import { StreamLimit } from '../http/stream-limit.js'
import { sendProblem } from '../http/problem.js'
import { routeOf } from './route.js'
import { BadRequestTargetError } from '../errors.js'
import { trustedPeers } from '../config/cidr.js'
import { httpUrlOf, parseListen } from '../config/listen.js'
import type { Proxy, ProxyAddress, ProxyOptions } from './types.js'
import { repeatedWarning } from '../repeated-warning.js'
import { DrainEstimate } from './drain-estimate.js'
import { AdmissionGate } from './admission-gate.js'

/** How often idle keep-alive connections are closed while shutting down (they may turn idle at any moment). */
const SHUTDOWN_SWEEP_MS = 50

export function createProxy (options: ProxyOptions): Proxy {
  const { config, store, versions, logger } = options
  const now = options.now ?? Date.now
  const log = logger.child({ component: 'proxy' })
  let policy: VersionsPolicy = createVersionsPolicy(config.versions, versions.known)
  const upstreams = createUpstreams(config, log, now)
  const control = new ControlView(store, upstreams, config.proxy.initial_active, log)
  const reconciler = new Reconciler({ config, store, versions, upstreams, logger: log, now })
  const tunnels = new UpgradeTunnels(log)
  const hold = new SubmissionHold(store, {
    holdSecs: config.upgrade.hold_new_intents_secs,
    maxHeld: config.upgrade.hold_max_intents,
    maxHeldBytes: config.upgrade.hold_max_bytes,
    recheckMs: config.redis.poll_interval_ms
  })
  const storeRefusals = repeatedWarning(log, 'submission refused: the store cannot be reached')
  const drainEstimate = new DrainEstimate(store, now)
  const gate = options.gate ?? new AdmissionGate()
  const ctx: ProxyContext = {
    proxy: config.proxy,
    store,
    versions,
    logger: log,
    storeRefusals,
    drainEstimate,
    now,
    upstreams,
    control,
    hold,
    gate,
    policy: () => policy
  }
  // What clients are told (/.well-known/intent-gate/*), and the verifying phase's count of answers.
  const notices = new NoticeWatcher(store, config.redis.poll_interval_ms, (err) => log.error({ err }, 'a notice listener threw'))
  const answers = new AnswerTally(store, notices, config.analysis.watch_secs, (err) => log.warn({ err }, 'cannot report the count of answers for the verifying phase'))
  const intentPath = config.proxy.intent_path
  const trustedProxies = config.proxy.trusted_proxies.length === 0 ? null : trustedPeers(config.proxy.trusted_proxies)
  const streamLimit = new StreamLimit(config.proxy.max_event_streams, config.proxy.max_event_streams_per_peer, 'proxy')
  const statusRoutes = new ClientStatusRoutes(notices, {
    holdSecs: config.upgrade.hold_new_intents_secs,
    fallbackRetrySecs: config.proxy.drain_retry_after_secs,
    maxRetrySecs: config.proxy.drain_retry_after_max_secs,
    drainLeft: () => drainEstimate.left(),
    now
  }, streamLimit, (req) => clientAddress(req, trustedProxies))
  const timeoutMs = config.proxy.upstream_timeout_ms
  let closing = false
  // Submissions and status reads talk to the store after the client may be gone; close() waits for them.
  let handlersRunning = 0
  let handlersIdle: (() => void) | null = null
  const track = (p: Promise<void>): void => {
    handlersRunning++
    p.catch((err: unknown) => log.error({ err }, 'request handler failed')).finally(() => {
      if (--handlersRunning === 0 && handlersIdle !== null) handlersIdle()
    })
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (closing) res.shouldKeepAlive = false
    if (statusRoutes.handle(req, res)) return
    if (!peerTrusted(req, trustedProxies)) dropForwardedHeaders(req)
    const route = routeOf(req.method, req.url ?? '/', intentPath)
    switch (route.kind) {
      case 'submit': track(handleSubmit(ctx, req, res)); return
      case 'status': track(handleStatus(ctx, req, res, route.id)); return
      case 'refuse':
        res.shouldKeepAlive = false
        sendProblem(res, new BadRequestTargetError(`${route.why}; send the canonical form`), requestIdOf(req))
        return
      case 'pass': passThrough(req, res, control.upstream(), timeoutMs)
    }
  }

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (closing || routeOf(req.method, req.url ?? '/', intentPath).kind !== 'pass') {
      socket.destroy()
      return
    }
    if (!peerTrusted(req, trustedProxies)) dropForwardedHeaders(req)
    tunnels.handle(req, socket, head, control.upstream())
  }

  // Slow clients cost a socket each: a request head must arrive within headers_timeout_ms (slowloris) and the whole
  // request within request_timeout_ms (slow bodies), checked every second rather than Node's default 30 s; an idle
  // keep-alive connection goes after keep_alive_timeout_ms; past max_connections new ones are closed at once, so
  // descriptors stay for upstreams, Redis and the admin port. Streams and tunnels are past their request: unaffected.
  const server = http.createServer({
    keepAlive: true,
    headersTimeout: config.proxy.headers_timeout_ms,
    requestTimeout: Math.max(config.proxy.request_timeout_ms, config.proxy.headers_timeout_ms),
    keepAliveTimeout: config.proxy.keep_alive_timeout_ms,
    connectionsCheckingInterval: 1000
  }, onRequest)
  server.maxConnections = config.proxy.max_connections
  server.on('upgrade', onUpgrade)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
  })

  let bound: ProxyAddress | null = null
  let closed: Promise<void> | null = null
  let destroyed: Promise<void> | null = null

  const waitForHandlers = async (): Promise<void> => {
    if (handlersRunning === 0) return
    await new Promise<void>((resolve) => { handlersIdle = resolve })
  }

  const close = async (): Promise<void> => {
    if (destroyed !== null) return await destroyed
    closed ??= (async () => {
      closing = true
      statusRoutes.close()
      storeRefusals.flush()
      drainEstimate.close()
      const graceMs = config.proxy.shutdown_grace_secs * 1000
      const serverClosed = bound === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      const sweep = setInterval(() => server.closeIdleConnections(), SHUTDOWN_SWEEP_MS)
      let graceTimer: NodeJS.Timeout | undefined
      const grace = new Promise<'timeout'>((resolve) => { graceTimer = setTimeout(() => resolve('timeout'), graceMs) })
      const outcome = await Promise.race([Promise.all([serverClosed, tunnels.idle(), waitForHandlers()]), grace])
      clearInterval(sweep)
      clearTimeout(graceTimer)
      if (outcome === 'timeout') {
        log.warn({ grace_secs: config.proxy.shutdown_grace_secs, tunnels: tunnels.size(), submissions: handlersRunning }, 'shutdown grace ended; closing the remaining connections')
        server.closeAllConnections()
        tunnels.destroy()
        // A submission still waiting for its upstream ends now: the call is aborted after its body was sent, so
        // its record stays in the store marked unknown, owned by that upstream (any instance's reconciler ends it).
        await upstreams.destroy()
      }
      control.close()
      hold.close()
      answers.close()
      notices.close()
      await reconciler.close()
      await waitForHandlers()
      await upstreams.close()
      tunnels.destroy()
    })()
    await closed
  }

  const destroy = async (): Promise<void> => {
    destroyed ??= (async () => {
      closing = true
      statusRoutes.close()
      storeRefusals.flush()
      if (bound !== null) server.close()
      server.closeAllConnections()
      tunnels.destroy()
      control.close()
      hold.close()
      answers.close()
      notices.close()
      await upstreams.destroy()
      await reconciler.close()
    })()
    await destroyed
  }

  return {
    async listen (): Promise<ProxyAddress> {
      if (bound !== null) return bound
      const { host, port } = parseListen(config.proxy.listen)
      await control.start()
      hold.start()
      notices.start(control.current())
      answers.start()
      statusRoutes.start()
      drainEstimate.start()
      upstreams.start()
      reconciler.start()
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => {
          server.off('error', reject)
          resolve()
        })
      })
      const addr = server.address()
      bound = typeof addr === 'object' && addr !== null ? { host: addr.address, port: addr.port } : { host, port }
      log.info({ listen: bound }, 'proxy listening')
      return bound
    },
    address: () => bound,
    url: () => {
      if (bound === null) throw new Error('the proxy is not listening')
      return httpUrlOf(bound)
    },
    upstreams: { states: () => upstreams.states(), get: (color) => upstreams.get(color) },
    activeColor: () => control.activeColor(),
    clientStatus: () => statusRoutes.current(),
    controlState: () => control.current(),
    setVersionsPolicy (input: VersionsPolicyInput): void {
      policy = createVersionsPolicy(input, versions.known)
      log.info({ accepted: policy.accepted, default: policy.default, deprecated: Object.keys(policy.deprecated) }, 'versions policy changed')
    },
    versionsPolicy: () => policy,
    reconcileOnce: async () => await reconciler.runOnce(),
    stopHolding: () => { hold.close() },
    openExchanges: () => handlersRunning + tunnels.size(),
    held: () => hold.size(),
    abandonExchanges: async () => { await upstreams.destroy() },
    close,
    destroy
  }
}
