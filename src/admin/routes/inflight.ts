/**
 * Inflight routes: what is inflight right now across every instance (the store's records), and the intent
 * service's way to report a terminal status the gateway has not seen pass by.
 *
 *   GET  /admin/inflight                   → [{id, key, upstream, version, created_at, deadline, phase, age_secs}]
 *        (the oldest DEFAULT_PAGE; `Next-Cursor` says there are more)
 *   GET  /admin/inflight?limit=N&cursor=C  → {records: [...], next_cursor}: one page, oldest admission first
 *   POST /admin/inflight/<id>/complete {status}   status ∈ settled, refunded, cancelled, expired, failed
 */
import { NotFoundError } from '../../errors.js'
import { InvalidAdminRequestError } from '../errors.js'
import { channels } from '../../observability/channels.js'
import type { InflightRecord, IntentStore } from '../../store/types.js'
import { TERMINAL_STATUSES } from '../../versions/types.js'
import { Type } from '@sinclair/typebox'
import { IdParams, Nullable, UnixSecs } from '../schemas.js'
import { route, type RouteGroup } from '../server.js'

export interface InflightRoutesDeps {
  store: Pick<IntentStore, 'inflightPage' | 'complete'>
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
/** A page without `?limit`; the largest page one call may ask for. Each page is O(log n + limit) in the store. */
const DEFAULT_PAGE = 1000
const MAX_PAGE = 10_000

function pageLimit (raw: string | null): number {
  if (raw === null) return DEFAULT_PAGE
  const n = Number(raw)
  if (!/^[0-9]+$/.test(raw) || n < 1 || n > MAX_PAGE) {
    throw new InvalidAdminRequestError('invalid query parameter', [{ field: 'limit', message: `must be a whole number from 1 to ${MAX_PAGE}` }])
  }
  return n
}

const TerminalStatus = Type.Union([...TERMINAL_STATUSES].map((s) => Type.Literal(s)))

export function inflightRoutes (deps: InflightRoutesDeps): RouteGroup {
  const now = deps.now ?? Date.now
  return {
    name: 'inflight',
    routes: [
      route({
        method: 'GET',
        path: '/admin/inflight',
        schema: {
          summary: 'The inflight intents across every instance, oldest admission first, each with its phase (submitting, unknown, or the last status seen)',
          description: `Without limit or cursor: an array of the oldest ${DEFAULT_PAGE} (a Next-Cursor header when there are more). ` +
            'With either: one page, {records, next_cursor}; pass next_cursor back as cursor until it is null.',
          querystring: Type.Object({
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE })),
            cursor: Type.Optional(Type.String({ description: 'next_cursor of the previous page' }))
          }),
          response: {
            200: Type.Union([
              Type.Array(InflightViewSchema),
              Type.Object({ records: Type.Array(InflightViewSchema), next_cursor: Nullable(Type.String()) })
            ])
          }
        },
        handler: async (req) => {
          const limit = pageLimit(req.query.get('limit'))
          const cursor = req.query.get('cursor')
          const page = await deps.store.inflightPage(limit, cursor)
          const nowMs = now()
          const records = page.records.map((r) => inflightView(r, nowMs))
          if (req.query.has('limit') || cursor !== null) return { body: { records, next_cursor: page.next_cursor } }
          return { body: records, ...(page.next_cursor === null ? {} : { headers: { 'next-cursor': page.next_cursor } }) }
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
