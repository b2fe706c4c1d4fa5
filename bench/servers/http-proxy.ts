/**
 * The reference proxy: a bare `http-proxy` server in front of one upstream, configured the way a competent user
 * would (a keep-alive agent with as many sockets as the gateway's pool), nothing else: no body reading, no store.
 *
 *   node dist/bench/servers/http-proxy.js --target URL [--connections N] [--no-keep-alive]
 *   prints {"url": ...} once it listens
 */
import http from 'node:http'
import { parseArgs } from 'node:util'
import httpProxy from 'http-proxy'

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    connections: { type: 'string', default: '64' },
    'no-keep-alive': { type: 'boolean', default: false }
  }
})
if (values.target === undefined) throw new Error('--target URL is required')

const agent = values['no-keep-alive']
  ? undefined
  : new http.Agent({ keepAlive: true, maxSockets: Number(values.connections), maxFreeSockets: Number(values.connections) })
const proxy = httpProxy.createProxyServer({ target: values.target, agent, xfwd: true })
proxy.on('error', (_err, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'text/plain' })
    res.end('bad gateway')
  } else {
    res.destroy()
  }
})

const server = http.createServer((req, res) => { proxy.web(req, res) })
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${address.port}` }) + '\n')
})

process.on('SIGTERM', () => {
  server.closeAllConnections()
  agent?.destroy()
  server.close(() => process.exit(0))
})
