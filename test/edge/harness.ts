/**
 * The attacks of issue 10 against real processes: a gateway process (`dist/src/cli/main.js serve`) on a real
 * redis-server, with the sample service (signature checks on) or a stub upstream behind it, and requests sent
 * the way an attacker would send them (any header, any request target). Build first: `npm run build`.
 */
import http from 'node:http'
import { gatewayToml, request, startGateway, startService, type Answer, type GatewayProcess, type ServiceProcess } from '../helpers/gateway.js'
import { startRedis, type RedisServer, type Teardown } from '../helpers/redis.js'

export interface Edge {
  redis: RedisServer
  gw: GatewayProcess
  /** POSTs `body` to the gateway's intent path with `headers`. */
  submit: (body: unknown, headers?: Record<string, string>) => Promise<Answer>
}

export interface EdgeOptions {
  /** The upstream's URL (blue). */
  upstream: string
  versions?: string[]
  /** Extra `[proxy]` lines. */
  proxy?: string
  /** Extra TOML sections. */
  extra?: string
}

/** A gateway on its own redis-server in front of `upstream`. */
export async function startEdge (t: Teardown, o: EdgeOptions): Promise<Edge> {
  const redis = await startRedis(t)
  let config = gatewayToml({ redisUrl: redis.url, blue: o.upstream, blueVersions: o.versions ?? ['1.0'], reconcileIntervalMs: 600_000, extra: o.extra })
  if (o.proxy !== undefined) config = config.replace('[proxy]\n', `[proxy]\n${o.proxy}\n`)
  const gw = await startGateway(t, { config })
  return {
    redis,
    gw,
    submit: async (body, headers) => await request(`${gw.proxyUrl}/intents`, { body, headers })
  }
}

/**
 * A sample service (signature checks on; settling far beyond any test, so every intent it accepted stays in
 * its ledger as accepted) and a gateway in front of it.
 */
export async function startEdgeWithService (t: Teardown, versions: '1.0' | '2.0' = '1.0', proxy?: string): Promise<Edge & { service: ServiceProcess }> {
  const service = await startService(t, { versions, settleMs: 600_000 })
  const edge = await startEdge(t, { upstream: service.url, versions: [versions], proxy })
  return { ...edge, service }
}

export interface SampleStats { accepted: number, duplicates: number, refused: Record<string, number>, by_key: Record<string, number> }

/** The sample service's ledger: how many intents it holds, and how often each owner:nonce was submitted. */
export async function serviceStats (service: ServiceProcess): Promise<SampleStats> {
  return await (await fetch(`${service.url}/sandbox/stats`)).json() as SampleStats
}

export interface RawAnswer { status: number, headers: http.IncomingHttpHeaders, body: string }

/**
 * One request with the target written into the request line exactly as given (`http://host/intents`, `*`,
 * `//intents`, ...), which fetch would normalise away.
 */
export async function rawRequest (
  baseUrl: string,
  method: string,
  target: string,
  body?: string,
  headers: Record<string, string> = {}
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl)
  return await new Promise<RawAnswer>((resolve, reject) => {
    const req = http.request({
      host: hostname,
      port,
      method,
      path: target,
      agent: false,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }), ...headers }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}
