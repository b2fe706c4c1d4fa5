/**
 * The ceiling reference: the least a Node proxy can do per request. An HTTP server that hands each request to an
 * undici Pool (as many connections as the gateway's pool) and streams the answer back: no store, no parsing.
 *
 *   node dist/bench/servers/undici-proxy.js --target URL [--connections N]
 *   prints {"url": ...} once it listens
 */
import http from 'node:http'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'

const { values } = parseArgs({ options: { target: { type: 'string' }, connections: { type: 'string', default: '64' } } })
if (values.target === undefined) throw new Error('--target URL is required')

const pool = new Pool(values.target, { connections: Number(values.connections), pipelining: 1 })
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host'])

function forwardHeaders (raw: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]?.toLowerCase() ?? ''
    if (!HOP_BY_HOP.has(name)) out[name] = raw[i + 1] ?? ''
  }
  return out
}

const server = http.createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  pool.request({
    method: req.method as 'GET',
    path: req.url ?? '/',
    headers: forwardHeaders(req.rawHeaders),
    body: hasBody ? req : null
  }).then(({ statusCode, headers, body }) => {
    const out: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
    }
    res.writeHead(statusCode, out)
    body.pipe(res)
  }, () => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
    res.end('bad gateway')
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${address.port}` }) + '\n')
})

process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => { pool.close().finally(() => process.exit(0)).catch(() => {}) })
})
