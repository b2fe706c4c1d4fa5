/**
 * The status page on the admin port (docs/specification.md section 5):
 *
 *   GET /status              the page (read-only without the token; its actions ask for it and call /admin/*)
 *   GET /status/assets/:file its script, style and uPlot (served from the package: no CDN)
 *   GET /status/events       Server-Sent Events: one snapshot a second of what the admin API and /metrics answer
 *
 * The page carries its first snapshot (a JSON data block, not a script: the CSP stays `script-src 'self'`), so it
 * paints from that one read at once instead of showing "connecting" until the stream's first event.
 * A snapshot is read through the admin server's own routes (drain status, upstreams, upgrade status, IBC
 * pending, checkpoints, the fleet's instances, /metrics), so the page shows exactly what the API and Prometheus see. It is built once
 * per interval for all readers (./hub.ts); without the token a reader gets the public part (./public-view.ts).
 * Streams are capped overall and per client address (`[admin] max_event_streams`, `_per_peer`): beyond, 503.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { ServerResponse } from 'node:http'
import { Type } from '@sinclair/typebox'
import { NotFoundError } from '../../errors.js'
import { StreamLimit } from '../../http/stream-limit.js'
import { route, type AdminServer, type RouteGroup } from '../server.js'
import { SnapshotHub } from './hub.js'
import { publicSnapshot } from './public-view.js'

const require = createRequire(import.meta.url)
const PUBLIC = new URL('./public/', import.meta.url)

/** The files the page may load, and where each comes from. */
const ASSETS: Record<string, { file: URL | string, type: string }> = {
  'status.js': { file: new URL('status.js', PUBLIC), type: 'text/javascript; charset=utf-8' },
  'status.css': { file: new URL('status.css', PUBLIC), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { file: require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { file: require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' }
}

const SOURCES = {
  drain: '/admin/drain/status',
  upstreams: '/admin/upstreams',
  upgrade: '/admin/upgrade/status',
  ibc: '/admin/ibc/pending',
  checkpoints: '/admin/checkpoints',
  history: '/admin/upgrade/history?limit=8',
  instances: '/admin/instances'
} as const

/** The counters the page turns into rates (summed over their labels). */
const COUNTERS = ['intent_gate_refusals_total', 'intent_gate_holds_total', 'intent_gate_requests_total'] as const

export interface StatusRoutesDeps {
  admin: Pick<AdminServer, 'local'>
  /** What clients of the proxy are told now (mode, Retry-After): /.well-known/intent-gate/status. */
  clients?: () => unknown
  /** `[redis] namespace`: which fleet this page belongs to. */
  namespace?: string
  /** This instance's id in the fleet's registry: which of the fleet's pages this is. */
  instance?: string
  /** How often the event stream sends a snapshot. */
  intervalMs?: number
  /** `[admin] max_event_streams` and `max_event_streams_per_peer`. */
  maxStreams?: number
  maxStreamsPerPeer?: number
}

export function sumCounter (metrics: string, name: string): number {
  let total = 0
  for (const line of metrics.split('\n')) {
    if (line.startsWith(name + '{') || line.startsWith(name + ' ')) total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0
  }
  return total
}

export async function snapshot (admin: Pick<AdminServer, 'local'>, extra: Pick<StatusRoutesDeps, 'clients' | 'namespace' | 'instance'> = {}): Promise<Record<string, unknown>> {
  const entries = await Promise.all(Object.entries(SOURCES).map(async ([name, path]) => {
    const r = await admin.local(path)
    return [name, r.status === 200 ? r.body : null] as const
  }))
  const metrics = (await admin.local('/metrics')).text
  return {
    at: Date.now() / 1000,
    namespace: extra.namespace ?? null,
    instance: extra.instance ?? null,
    clients: extra.clients?.() ?? null,
    ...Object.fromEntries(entries),
    counters: Object.fromEntries(COUNTERS.map((c) => [c, sumCounter(metrics, c)]))
  }
}

function read (file: URL | string): Buffer {
  return readFileSync(file)
}

export function statusRoutes (deps: StatusRoutesDeps): RouteGroup {
  const intervalMs = deps.intervalMs ?? 1000
  const hub = new SnapshotHub(async () => await snapshot(deps.admin, deps), publicSnapshot, intervalMs)
  const limit = new StreamLimit(deps.maxStreams ?? 64, deps.maxStreamsPerPeer ?? 4, 'admin')
  const page = (): Buffer => read(new URL('index.html', PUBLIC))
  return {
    name: 'status',
    routes: [
      route({
        method: 'GET',
        path: '/status',
        schema: { summary: 'The status page: a live view of drain, upstreams, inflight intents, refusals and holds, IBC, the upgrade, checkpoints and the fleet\'s instances', response: { 200: Type.String({ description: 'text/html' }) } },
        handler: async (req) => ({ raw: { contentType: 'text/html; charset=utf-8', text: await withFirstSnapshot(page(), deps, req.authorized) }, headers: { 'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'" } })
      }),
      route({
        method: 'GET',
        path: '/status/assets/:file',
        schema: { summary: 'The status page\'s script, style and chart library (from the package)', params: Type.Object({ file: Type.String() }), response: { 200: Type.String() } },
        handler: (req) => {
          const asset = Object.hasOwn(ASSETS, req.params.file) ? ASSETS[req.params.file] : undefined
          if (asset === undefined) throw new NotFoundError(`no status page asset '${req.params.file}'`)
          return { raw: { contentType: asset.type, text: read(asset.file) } }
        }
      }),
      route({
        method: 'GET',
        path: '/status/events',
        schema: {
          summary: 'Server-Sent Events: a snapshot (drain, upstreams, upgrade, IBC, counters, instances per state; with the token also upstream URLs and errors, history, checkpoints, each instance) every second',
          response: { 200: Type.String({ description: 'text/event-stream' }) }
        },
        handler: (req) => {
          const release = limit.acquire(req.peer)
          return {
            hijack: (res: ServerResponse) => {
              res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
              res.write('retry: 2000\n\n')
              hub.add(res, req.authorized, release)
            }
          }
        }
      })
    ]
  }
}

/** The page with a snapshot in `<script type="application/json" id="first-snapshot">` (nothing when it fails). */
async function withFirstSnapshot (html: Buffer, deps: StatusRoutesDeps, authorized: boolean): Promise<string> {
  let data = 'null'
  try {
    // Without the token, the same public view as the stream's (./public-view.ts).
    const full = await snapshot(deps.admin, deps)
    // `<` escaped: the JSON cannot end the data block early, whatever a reason or an error text says.
    data = JSON.stringify(authorized ? full : publicSnapshot(full)).replace(/</g, '\\u003c')
  } catch {}
  return html.toString('utf8').replace('<!-- first snapshot -->', `<script type="application/json" id="first-snapshot">${data}</script>`)
}
