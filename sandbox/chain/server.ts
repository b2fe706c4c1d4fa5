/**
 * The chain's listener: CometBFT JSON-RPC over HTTP (POST JSON-RPC 2.0 at `/`, single or batch, and GET
 * `/<method>?<params>` URI requests), over WebSocket at `/websocket` with subscriptions, and the sandbox's
 * own control endpoints under `/sandbox/` (relayer pause/resume/settings, block halt, cutting WebSockets).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { fromHex, toBase64 } from '@cosmjs/encoding'
import { WebSocketServer, type WebSocket } from 'ws'
import type { ChainNode } from './node.js'
import { blockNotifications, type Notification } from './notifications.js'
import { matches, parseQuery, QuerySyntaxError, type Condition } from './querylang.js'
import { createMethods, handleJsonRpc, RpcError } from './rpc.js'
import type { BlockRecord } from './state.js'

const MAX_BODY_BYTES = 8 * 1024 * 1024

interface Subscription { id: unknown, conditions: Condition[] }

export interface ChainServerOptions {
  node: ChainNode
  /** what GET /sandbox/info answers: the start line */
  info: () => Record<string, unknown>
}

export class ChainServer {
  readonly #node: ChainNode
  readonly #options: ChainServerOptions
  readonly #http: Server
  readonly #wss = new WebSocketServer({ noServer: true })
  readonly #subscriptions = new Map<WebSocket, Map<string, Subscription>>()
  #methods: ReturnType<typeof createMethods> | undefined
  readonly #onBlock = (block: BlockRecord): void => this.#publish(block)

  constructor (options: ChainServerOptions) {
    this.#node = options.node
    this.#options = options
    this.#http = createServer((req, res) => { this.#handle(req, res).catch(error => this.#fail(res, error)) })
    this.#http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/websocket') {
        socket.destroy()
        return
      }
      this.#wss.handleUpgrade(req, socket, head, ws => this.#accept(ws))
    })
  }

  async listen (host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject)
      this.#http.listen(port, host, () => { this.#http.off('error', reject); resolve() })
    })
    const address = this.#http.address()
    if (address === null || typeof address === 'string') throw new Error('listener has no TCP address')
    const url = `http://${host}:${address.port}`
    this.#methods = createMethods(this.#node, url)
    this.#node.on('block', this.#onBlock)
    return url
  }

  async close (): Promise<void> {
    this.#node.off('block', this.#onBlock)
    for (const ws of this.#wss.clients) ws.terminate()
    this.#http.closeAllConnections()
    await new Promise<void>(resolve => this.#http.close(() => resolve()))
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname.startsWith('/sandbox/')) return this.#control(req, res, url.pathname)
    const methods = this.#methods
    if (methods === undefined) return this.#json(res, 503, { error: 'not listening yet' })
    if (req.method === 'POST' && url.pathname === '/') {
      let body: unknown
      try {
        body = JSON.parse(await readBody(req))
      } catch {
        return this.#json(res, 200, { jsonrpc: '2.0', id: -1, error: { code: -32700, message: 'Parse error. Invalid JSON', data: 'request body is not JSON' } })
      }
      const response = Array.isArray(body)
        ? await Promise.all(body.map(request => handleJsonRpc(methods, request)))
        : await handleJsonRpc(methods, body)
      return this.#json(res, 200, response)
    }
    if (req.method === 'GET' && url.pathname !== '/') {
      const method = url.pathname.slice(1)
      const params = uriParams(method, url.searchParams)
      const response = await handleJsonRpc(methods, { jsonrpc: '2.0', id: -1, method, params })
      return this.#json(res, 'error' in response ? 500 : 200, response)
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('intent-gate-sandbox chain: CometBFT JSON-RPC at POST /, GET /<method>, WebSocket /websocket; control under /sandbox/\n')
      return
    }
    this.#json(res, 405, { error: `method ${req.method ?? ''} not allowed` })
  }

  async #control (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const settings = this.#node.state.relayer
    const relayerStatus = (): Record<string, unknown> => ({
      paused: settings.paused,
      ack_delay_ms: settings.ackDelayMs,
      outcome: settings.outcome,
      pending: Object.values(this.#node.state.app.commitments).map(packet => ({
        port: packet.sourcePort,
        channel: packet.sourceChannel,
        sequence: packet.sequence,
        sent_height: packet.sentHeight,
        settlement_id: packet.settlementId ?? null
      }))
    })
    const route = `${req.method ?? 'GET'} ${path}`
    switch (route) {
      case 'GET /sandbox/info': return this.#json(res, 200, this.#options.info())
      case 'GET /sandbox/relayer': return this.#json(res, 200, relayerStatus())
      case 'POST /sandbox/relayer/pause':
        settings.paused = true
        return this.#json(res, 200, relayerStatus())
      case 'POST /sandbox/relayer/resume':
        settings.paused = false
        return this.#json(res, 200, relayerStatus())
      case 'POST /sandbox/relayer': {
        const update = await readJsonObject(req)
        if (update === undefined) return this.#problem(res, 400, 'body must be a JSON object')
        const problems: string[] = []
        if (update.ack_delay_ms !== undefined && !(Number.isSafeInteger(update.ack_delay_ms) && (update.ack_delay_ms as number) >= 0)) problems.push('ack_delay_ms must be a non-negative integer')
        if (update.outcome !== undefined && update.outcome !== 'ack' && update.outcome !== 'timeout') problems.push('outcome must be "ack" or "timeout"')
        if (update.paused !== undefined && typeof update.paused !== 'boolean') problems.push('paused must be a boolean')
        const unknown = Object.keys(update).filter(key => !['ack_delay_ms', 'outcome', 'paused'].includes(key))
        if (unknown.length > 0) problems.push(`unknown field(s): ${unknown.join(', ')}`)
        if (problems.length > 0) return this.#problem(res, 400, problems.join('; '))
        if (update.ack_delay_ms !== undefined) settings.ackDelayMs = update.ack_delay_ms as number
        if (update.outcome !== undefined) settings.outcome = update.outcome as 'ack' | 'timeout'
        if (update.paused !== undefined) settings.paused = update.paused as boolean
        return this.#json(res, 200, relayerStatus())
      }
      case 'POST /sandbox/blocks/halt':
        this.#node.setHalted(true)
        return this.#json(res, 200, { halted: true, height: this.#node.latest.height })
      case 'POST /sandbox/blocks/resume':
        this.#node.setHalted(false)
        return this.#json(res, 200, { halted: false, height: this.#node.latest.height })
      case 'GET /sandbox/faults': return this.#json(res, 200, { migrate_fails: this.#node.faults })
      case 'POST /sandbox/faults': {
        // {migrate_fails: {<contract>: N}}: the next N migrations of that contract delivered in a block fail
        // (simulations still pass), as a tx that simulated fine can fail once the state moved on
        const update = await readJsonObject(req)
        const fails = update?.migrate_fails
        if (update === undefined || typeof fails !== 'object' || fails === null || Array.isArray(fails) || Object.keys(update).length !== 1) {
          return this.#problem(res, 400, 'body must be {"migrate_fails": {"<contract address>": N}}')
        }
        for (const [contract, count] of Object.entries(fails as Record<string, unknown>)) {
          if (!Number.isSafeInteger(count) || (count as number) < 0) return this.#problem(res, 400, `migrate_fails.${contract} must be a non-negative integer`)
          this.#node.faults[contract] = count as number
        }
        return this.#json(res, 200, { migrate_fails: this.#node.faults })
      }
      case 'POST /sandbox/websocket/drop': {
        // destroy the TCP sockets: no close frame, as when a network path dies
        const clients = [...this.#wss.clients]
        for (const ws of clients) ws.terminate()
        return this.#json(res, 200, { dropped: clients.length })
      }
      default:
        return this.#problem(res, 404, `no control endpoint ${route}`)
    }
  }

  #accept (ws: WebSocket): void {
    const subscriptions = new Map<string, Subscription>()
    this.#subscriptions.set(ws, subscriptions)
    ws.on('close', () => this.#subscriptions.delete(ws))
    ws.on('error', () => this.#subscriptions.delete(ws))
    ws.on('message', (raw) => {
      this.#onWsMessage(ws, subscriptions, raw.toString()).catch(() => ws.terminate())
    })
  }

  async #onWsMessage (ws: WebSocket, subscriptions: Map<string, Subscription>, text: string): Promise<void> {
    let request: Record<string, unknown>
    try {
      request = JSON.parse(text) as Record<string, unknown>
    } catch {
      send(ws, { jsonrpc: '2.0', id: -1, error: { code: -32700, message: 'Parse error. Invalid JSON', data: 'message is not JSON' } })
      return
    }
    const id = request.id ?? -1
    const params = (typeof request.params === 'object' && request.params !== null ? request.params : {}) as Record<string, unknown>
    const reply = (result: unknown): void => send(ws, { jsonrpc: '2.0', id, result })
    const error = (rpcError: RpcError): void => send(ws, { jsonrpc: '2.0', id, error: { code: rpcError.code, message: rpcError.message, data: rpcError.data } })
    switch (request.method) {
      case 'subscribe': {
        const query = params.query
        if (typeof query !== 'string') return error(RpcError.invalidParams('error converting json params to arguments: missing query'))
        if (subscriptions.has(query)) return error(RpcError.internal('already subscribed'))
        try {
          subscriptions.set(query, { id, conditions: parseQuery(query) })
        } catch (problem) {
          if (problem instanceof QuerySyntaxError) return error(RpcError.internal(problem.message))
          throw problem
        }
        return reply({})
      }
      case 'unsubscribe': {
        const query = params.query
        if (typeof query !== 'string' || !subscriptions.delete(query)) return error(RpcError.internal('subscription not found'))
        return reply({})
      }
      case 'unsubscribe_all':
        if (subscriptions.size === 0) return error(RpcError.internal('subscription not found'))
        subscriptions.clear()
        return reply({})
      default: {
        const methods = this.#methods
        if (methods !== undefined) send(ws, await handleJsonRpc(methods, request))
      }
    }
  }

  #publish (block: BlockRecord): void {
    let notifications: Notification[] | undefined
    for (const [ws, subscriptions] of this.#subscriptions) {
      if (subscriptions.size === 0) continue
      notifications ??= blockNotifications(this.#node.chainId, block, this.#node.blockAt(block.height - 1))
      for (const [query, subscription] of subscriptions) {
        for (const notification of notifications) {
          if (matches(subscription.conditions, notification.events)) {
            send(ws, { jsonrpc: '2.0', id: subscription.id, result: { query, data: notification.data, events: notification.events } })
          }
        }
      }
    }
  }

  #json (res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }

  #problem (res: ServerResponse, status: number, detail: string): void {
    res.writeHead(status, { 'content-type': 'application/problem+json' })
    res.end(JSON.stringify({ type: 'urn:intent-gate:problem:sandbox-control', title: status === 404 ? 'Not found' : 'Bad request', status, detail }))
  }

  #fail (res: ServerResponse, error: unknown): void {
    if (!res.headersSent) this.#problem(res, 500, (error as Error).message)
    else res.destroy()
  }
}

function send (ws: WebSocket, message: unknown): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message))
}

async function readBody (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function readJsonObject (req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const text = await readBody(req)
  if (text.trim() === '') return {}
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

/** URI-style params: quoted strings unquoted, and 0x-hex hashes and txs turned into the base64 the JSON form uses. */
function uriParams (method: string, search: URLSearchParams): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  for (const [key, raw] of search) {
    let value = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw
    if ((key === 'hash' && method === 'tx') || (key === 'tx' && method.startsWith('broadcast_tx'))) {
      if (value.startsWith('0x')) value = toBase64(fromHex(value.slice(2)))
    }
    params[key] = value
  }
  return params
}
