#!/usr/bin/env node
// Serves the example dApp and the built client library, and passes the intent routes on to a gateway, so the
// page and the gateway share one origin (the gateway sends no CORS headers), as a reverse proxy in front of both
// would in production:
//   node examples/wallet-dapp/serve.mjs --gateway http://127.0.0.1:8080 [--listen 127.0.0.1:5173]
// Prints {"url": "..."} once listening. Needs `npm run build` (it serves dist/src/client/).
import { createServer, request } from 'node:http'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'

const here = import.meta.dirname
const clientDir = path.resolve(here, '../../dist/src/client')
const { values } = parseArgs({ options: { gateway: { type: 'string' }, listen: { type: 'string', default: '127.0.0.1:5173' } } })
if (values.gateway === undefined) {
  process.stderr.write('serve.mjs: --gateway URL is required (the gateway\'s proxy listener, e.g. http://127.0.0.1:8080)\n')
  process.exit(2)
}
const gateway = new URL(values.gateway)
const [host, port] = values.listen.split(/:(?=\d+$)/)
const STATIC = { '/': ['index.html', 'text/html'], '/index.html': ['index.html', 'text/html'], '/app.js': ['app.js', 'text/javascript'] }
const PASSED = /^\/(intents(\/|$|\?)|\.well-known\/intent-gate\/)/

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://page')
  if (PASSED.test(url.pathname)) return pass(req, res)
  try {
    if (url.pathname.startsWith('/client/') && /^[a-z-]+\.js$/.test(path.basename(url.pathname))) {
      return send(res, 200, 'text/javascript', await readFile(path.join(clientDir, path.basename(url.pathname))))
    }
    const file = STATIC[url.pathname]
    if (file !== undefined) return send(res, 200, file[1], await readFile(path.join(here, file[0])))
  } catch (err) {
    if (err.code !== 'ENOENT') throw err
  }
  send(res, 404, 'text/plain', `not found: ${url.pathname}\n`)
})

function send (res, status, type, body) {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' })
  res.end(body)
}

/** The request as it came, to the gateway; its answer as it came back (event streams included). */
function pass (req, res) {
  const target = {
    host: gateway.hostname,
    port: gateway.port,
    method: req.method,
    path: req.url,
    headers: { ...req.headers, host: gateway.host }
  }
  const upstream = request(target, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers)
    answer.pipe(res)
  })
  upstream.on('error', (err) => {
    if (!res.headersSent) send(res, 502, 'text/plain', `the gateway at ${gateway.href} did not answer: ${err.message}\n`)
    else res.destroy()
  })
  req.pipe(upstream)
}

server.listen(Number(port), host, () => {
  const { address, port } = server.address()
  process.stdout.write(JSON.stringify({ url: `http://${address}:${port}` }) + '\n')
})
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { server.close(); server.closeAllConnections() })
