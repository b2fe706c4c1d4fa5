/**
 * A small intent service for the proxy's tests (node:http on port 0): it answers submissions in its own version
 * (1.0 or 2.0, docs/specification.md section 8), serves statuses the test sets, echoes what it received on other routes, and
 * can misbehave on purpose (fail, stall, die mid-body). It counts its open sockets so tests can see leaks.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { WebSocketServer } from 'ws'

export interface Teardown { teardown (fn: () => unknown): void }

export interface Received {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

export interface TestUpstream {
  readonly url: string
  readonly version: '1.0' | '2.0'
  /** Every request except health checks, in arrival order. */
  readonly received: Received[]
  /** Submissions only. */
  submissions (): Received[]
  /** Sets the status the service reports for `id` (2.0 vocabulary; translated to 1.0 when it speaks 1.0). */
  setStatus (id: string, status: string): void
  /** The next submissions answer with this status and body instead of accepting. */
  answerNext (status: number, body: unknown, times?: number): void
  /** Submissions wait this long before answering (ms). */
  delaySubmissions (ms: number): void
  /** Health checks answer 503 while true. */
  setUnhealthy (down: boolean): void
  healthChecks (): number
  /** Open TCP connections from anyone (the proxy's pool included). */
  openSockets (): number
  /** Resolves once at most `n` TCP connections are open. */
  socketsAtMost (n: number): Promise<void>
  /** Resolves when the next /stream response is closed (the exchange ended on the upstream's side). */
  streamClosed (): Promise<void>
  /** Open WebSocket connections (path /ws echoes `<name>:<message>`). */
  openWebSockets (): number
  /** Resolves once the server has seen `n` requests on route `path` (prefix). */
  waitForRequest (path: string): Promise<Received>
  close (): Promise<void>
}

export async function startUpstream (t: Teardown, version: '1.0' | '2.0' = '2.0', name = 'upstream'): Promise<TestUpstream> {
  const received: Received[] = []
  const statuses = new Map<string, string>()
  const sockets = new Set<Socket>()
  const waiters: Array<{ path: string, resolve: (r: Received) => void }> = []
  const nextAnswers: Array<{ status: number, body: unknown }> = []
  let submitDelay = 0
  let unhealthy = false
  let health = 0
  let seq = 0
  const socketWaiters: Array<{ n: number, resolve: () => void }> = []
  const streamWaiters: Array<() => void> = []

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = req.url ?? '/'
      if (url === '/healthz') {
        health++
        res.writeHead(unhealthy ? 503 : 200, { 'content-type': 'text/plain' }).end(unhealthy ? 'down' : 'ok')
        return
      }
      const r: Received = { method: req.method ?? '', url, headers: req.headers, body: Buffer.concat(chunks).toString() }
      received.push(r)
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (url.startsWith(waiters[i]!.path)) waiters.splice(i, 1)[0]!.resolve(r)
      }
      route(req, res, r)
    })
  }

  const route = (req: IncomingMessage, res: ServerResponse, r: Received): void => {
    const json = (status: number, body: unknown): void => {
      const text = JSON.stringify(body)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
    }
    if (req.method === 'POST' && r.url.startsWith('/intents')) {
      const answer = (): void => {
        const next = nextAnswers.shift()
        if (next !== undefined) return json(next.status, next.body)
        const id = `${name}-${version === '2.0' ? 'v2' : 'v1'}-${++seq}`
        statuses.set(id, 'accepted')
        if (version === '2.0') json(202, { intent_id: id, status: 'accepted', version: '2.0' })
        else json(202, { id, status: 'pending', version: '1.0' })
      }
      if (submitDelay > 0) setTimeout(answer, submitDelay)
      else answer()
      return
    }
    const statusMatch = /^\/intents\/([^/?]+)/.exec(r.url)
    if (req.method === 'GET' && statusMatch !== null) {
      const id = decodeURIComponent(statusMatch[1]!)
      const status = statuses.get(id)
      if (status === undefined) return json(404, { type: 'about:blank', title: 'Not Found', status: 404 })
      if (version === '2.0') {
        return json(200, { intent_id: id, status, fills: status === 'settled' ? [{ solver: 'solver1', amount: '5', tx_hash: 'AB' }, { solver: 'solver2', amount: '7', tx_hash: 'CD' }] : [], updated_at: 1767225000 })
      }
      const v1 = ['accepted', 'matched', 'escrowed', 'ibc_in_flight'].includes(status) ? 'pending' : status
      return json(200, { id, status: v1, filled_amount: status === 'settled' ? '12' : '0', tx_hash: status === 'settled' ? 'CD' : null })
    }
    if (r.url === '/die-mid-body') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000000' })
      res.write('partial')
      setTimeout(() => req.socket.destroy(), 20)
      return
    }
    if (r.url === '/stream') {
      // Never ends on its own: a client that goes away must make the proxy drop this exchange.
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('tick\n')
      const timer = setInterval(() => res.write('tick\n'), 20)
      res.on('close', () => {
        clearInterval(timer)
        streamWaiters.splice(0).forEach((w) => w())
      })
      return
    }
    if (r.url === '/die-before-body') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' })
      res.flushHeaders()
      setTimeout(() => req.socket.destroy(), 10)
      return
    }
    if (r.url === '/hang') return // never answers
    json(200, { method: r.method, url: r.url, headers: r.headers, body: r.body })
  }

  const server = http.createServer(onRequest)
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => {
      sockets.delete(s)
      for (let i = socketWaiters.length - 1; i >= 0; i--) {
        if (sockets.size <= socketWaiters[i]!.n) socketWaiters.splice(i, 1)[0]!.resolve()
      }
    })
  })
  const wss = new WebSocketServer({ server, path: '/ws' })
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`${name}:${data.toString()}`)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    for (const c of wss.clients) c.terminate()
    wss.close()
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  t.teardown(close)

  return {
    url: `http://127.0.0.1:${port}`,
    version,
    received,
    submissions: () => received.filter((r) => r.method === 'POST' && r.url.startsWith('/intents')),
    setStatus: (id, status) => { statuses.set(id, status) },
    answerNext: (status, body, times = 1) => { for (let i = 0; i < times; i++) nextAnswers.push({ status, body }) },
    delaySubmissions: (ms) => { submitDelay = ms },
    setUnhealthy: (down) => { unhealthy = down },
    healthChecks: () => health,
    openSockets: () => sockets.size,
    socketsAtMost: async (n) => {
      if (sockets.size <= n) return
      await new Promise<void>((resolve) => socketWaiters.push({ n, resolve }))
    },
    streamClosed: async () => await new Promise<void>((resolve) => streamWaiters.push(resolve)),
    openWebSockets: () => wss.clients.size,
    waitForRequest: async (path) => await new Promise<Received>((resolve) => waiters.push({ path, resolve })),
    close
  }
}
