/**
 * The bench's intent service: the sample service's HTTP shapes (docs/specification.md section 8) without its signature
 * check (secp256k1 in JavaScript would make the backend the bottleneck; the bench measures the gateway). It
 * still refuses a version it does not accept with 400, so a translated case that was not translated fails
 * loudly instead of looking fast.
 *
 *   node dist/bench/servers/backend.js --versions 1.0|2.0   prints {"url": ...} once it listens
 *
 *   POST /intents       202 with the submission response of the body's version
 *   GET  /intents/<id>  200 "settled" in the newest accepted version (the gateway's reconciler ends records)
 *   GET  /healthz       200
 *   GET  /__bench/stats {"submissions": N}: how many submissions this backend accepted (the swap case)
 *   anything else       200 with a small JSON body (the pass-through cases)
 */
import http from 'node:http'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { versions: { type: 'string', default: '1.0' }, listen: { type: 'string', default: '127.0.0.1:0' } } })
const accepted = new Set(values.versions.split(','))
const newest = [...accepted].sort().at(-1) ?? '1.0'
const [host = '127.0.0.1', port = '0'] = values.listen.split(':')

const PASS_THROUGH_BODY = Buffer.from('{"ok":true,"service":"bench-backend"}')
let sequence = 0

function send (res: http.ServerResponse, status: number, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function submit (req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    let version: unknown
    try {
      version = (JSON.parse(Buffer.concat(chunks).toString()) as { version?: unknown }).version
    } catch {
      send(res, 400, '{"type":"about:blank","title":"body is not JSON","status":400}')
      return
    }
    if (typeof version !== 'string' || !accepted.has(version)) {
      send(res, 400, JSON.stringify({ type: 'about:blank', title: 'Unsupported version', status: 400, detail: `version ${String(version)} is not one of ${[...accepted].join(', ')}` }))
      return
    }
    const id = `bench-${process.pid}-${++sequence}`
    send(res, 202, version === '1.0'
      ? JSON.stringify({ id, status: 'pending', version })
      : JSON.stringify({ intent_id: id, status: 'accepted', version }))
  })
}

function status (id: string, res: http.ServerResponse): void {
  send(res, 200, newest === '1.0'
    ? JSON.stringify({ id, status: 'settled', filled_amount: '0', tx_hash: null })
    : JSON.stringify({ intent_id: id, status: 'settled', fills: [], updated_at: Math.floor(Date.now() / 1000) }))
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/'
  if (req.method === 'POST' && url === '/intents') {
    submit(req, res)
  } else if (req.method === 'GET' && url === '/__bench/stats') {
    send(res, 200, JSON.stringify({ submissions: sequence }))
  } else if (req.method === 'GET' && url.startsWith('/intents/')) {
    status(decodeURIComponent(url.slice('/intents/'.length)), res)
  } else {
    // Drain any body so the keep-alive connection stays usable.
    req.resume()
    req.on('end', () => send(res, 200, PASS_THROUGH_BODY))
  }
})
server.keepAliveTimeout = 60_000

server.listen(Number(port), host, () => {
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  process.stdout.write(JSON.stringify({ url: `http://${address.address}:${address.port}`, versions: [...accepted] }) + '\n')
})

process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
