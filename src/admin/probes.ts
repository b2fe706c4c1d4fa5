/**
 * The probe listener (`[admin] probes_listen`): `/healthz`, `/readyz` and `/metrics`, and nothing else, on an
 * address the kubelet and Prometheus reach (the pod's), so the admin port itself can stay on loopback. Each answer
 * is the admin server's own (one in-process request), so the two ports can never disagree. Any other path, or a
 * method other than GET/HEAD, is 404/405: no admin route, no status page, no token accepted here.
 */
import http from 'node:http'
import { httpUrlOf, parseListen } from '../config/listen.js'

const PATHS = new Set(['/healthz', '/readyz', '/metrics'])

export interface ProbeSource {
  /** One open GET through the admin server (no token): status, content type and body. */
  probe (path: string): Promise<{ status: number, contentType: string, body: string }>
}

export interface ProbeListener {
  listen (): Promise<string>
  close (): Promise<void>
}

export function createProbeListener (listen: string, source: ProbeSource): ProbeListener {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string
    if (!PATHS.has(path)) {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 })
      res.end('not found\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': 0 })
      res.end()
      return
    }
    source.probe(path).then((answer) => {
      res.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': Buffer.byteLength(answer.body), 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : answer.body)
    }, () => {
      res.writeHead(500, { 'content-length': 0 })
      res.end()
    })
  })
  // Probes are short: an idle or slow connection is closed rather than held.
  server.headersTimeout = 5000
  server.requestTimeout = 10_000
  server.keepAliveTimeout = 5000
  server.maxConnections = 256
  return {
    async listen () {
      const { host, port } = parseListen(listen)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => { server.off('error', reject); resolve() })
      })
      const info = server.address() as import('node:net').AddressInfo
      return httpUrlOf({ host: info.address, port: info.port })
    },
    async close () {
      if (!server.listening) return
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
