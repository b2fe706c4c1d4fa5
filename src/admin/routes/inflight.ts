/**
 * Inflight routes: what is inflight right now across every instance (the store's records), and the intent
 * service's way to report a terminal status the gateway has not seen pass by.
 *
 *   GET  /admin/inflight                   → [{id, key, upstream, version, created_at, deadline, phase, age_secs}]
 *   POST /admin/inflight/<id>/complete {status}   status ∈ settled, refunded, cancelled, expired, failed
 */
import { NotFoundError } from '../../errors.js'
import { channels } from '../../observability/channels.js'
import type { InflightRecord, Store } from '../../store/types.js'
import { TERMINAL_STATUSES } from '../../versions/types.js'
import { BodyFields } from '../fields.js'
import type { RouteGroup } from '../server.js'

export interface InflightRoutesDeps {
  store: Pick<Store, 'inflight' | 'complete'>
  now?: () => number
}

export interface InflightView {
  /** The intent id from the upstream; null while the submission is still being forwarded. */
  id: string | null
  /** The admission (idempotency) key. */
  key: string
  upstream: string
  version: string
  /** Unix seconds. */
  created_at: number
  deadline: number
  phase: string
  age_secs: number
}

export function inflightView (r: InflightRecord, nowMs: number): InflightView {
  return {
    id: r.id,
    key: r.key,
    upstream: r.upstream,
    version: r.version,
    created_at: Math.floor(r.created_at_ms / 1000),
    deadline: r.deadline,
    phase: r.phase,
    age_secs: Math.max(0, Math.floor((nowMs - r.created_at_ms) / 1000))
  }
}

const TERMINAL = [...TERMINAL_STATUSES]

export function inflightRoutes (deps: InflightRoutesDeps): RouteGroup {
  const now = deps.now ?? Date.now
  return {
    name: 'inflight',
    routes: [
      {
        method: 'GET',
        path: '/admin/inflight',
        handler: async () => {
          const nowMs = now()
          const records = await deps.store.inflight()
          return { body: records.sort((a, b) => a.created_at_ms - b.created_at_ms).map((r) => inflightView(r, nowMs)) }
        }
      },
      {
        method: 'POST',
        path: '/admin/inflight/:id/complete',
        handler: async (req) => {
          const fields = new BodyFields(req.body)
          const status = fields.oneOf('status', TERMINAL)
          fields.required('status', status)
          fields.done(['status'])
          const id = req.params.id as string
          if (!await deps.store.complete(id, status as string, 'admin')) {
            throw new NotFoundError(`no inflight intent with id '${id}'`)
          }
          channels.intentEnded.publish({ id, status: status as string, via: 'admin' })
          return { body: { id, status, ended: true } }
        }
      }
    ]
  }
}
