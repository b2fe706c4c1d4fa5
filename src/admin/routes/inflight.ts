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
import { Type } from '@sinclair/typebox'
import { IdParams, Nullable, UnixSecs } from '../schemas.js'
import { route, type RouteGroup } from '../server.js'

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

const InflightViewSchema = Type.Object({
  id: Nullable(Type.String({ description: 'the upstream\'s intent id; null while the submission is being forwarded' })),
  key: Type.String({ description: 'the admission (idempotency) key' }),
  upstream: Type.String(),
  version: Type.String(),
  created_at: UnixSecs,
  deadline: UnixSecs,
  phase: Type.String(),
  age_secs: Type.Integer()
})
const TerminalStatus = Type.Union([...TERMINAL_STATUSES].map((s) => Type.Literal(s)))

export function inflightRoutes (deps: InflightRoutesDeps): RouteGroup {
  const now = deps.now ?? Date.now
  return {
    name: 'inflight',
    routes: [
      route({
        method: 'GET',
        path: '/admin/inflight',
        schema: { summary: 'The inflight intents across every instance, oldest first', response: { 200: Type.Array(InflightViewSchema) } },
        handler: async () => {
          const nowMs = now()
          const records = await deps.store.inflight()
          return { body: records.sort((a, b) => a.created_at_ms - b.created_at_ms).map((r) => inflightView(r, nowMs)) }
        }
      }),
      route({
        method: 'POST',
        path: '/admin/inflight/:id/complete',
        schema: {
          summary: 'The intent service reports a terminal status the gateway has not seen',
          params: IdParams,
          body: Type.Object({ status: TerminalStatus }, { additionalProperties: false }),
          response: { 200: Type.Object({ id: Type.String(), status: TerminalStatus, ended: Type.Literal(true) }) }
        },
        handler: async (req) => {
          const { id } = req.params
          const { status } = req.body
          if (!await deps.store.complete(id, status, 'admin')) {
            throw new NotFoundError(`no inflight intent with id '${id}'`)
          }
          channels.intentEnded.publish({ id, status, via: 'admin' })
          return { body: { id, status, ended: true } }
        }
      })
    ]
  }
}
