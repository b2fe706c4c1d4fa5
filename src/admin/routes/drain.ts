/**
 * Drain routes: the DrainStatus of docs/design.md, and the drain switch (the same Redis `drain` key operators SET by hand,
 * so the admin API, redis-cli and every gateway instance agree on one switch).
 *
 *   GET  /admin/drain/status
 *   POST /admin/drain/start  {deadline_secs?, reason?}
 *   POST /admin/drain/stop
 */
import type { ControlStore, IntentStore } from '../../store/types.js'
import { buildDrainStatus, type DrainStatus } from '../../drain/status.js'
import { Type } from '@sinclair/typebox'
import { DrainStatusSchema, EmptyBody } from '../schemas.js'
import { route, type RouteGroup } from '../server.js'

export interface DrainRoutesDeps {
  store: Pick<ControlStore, 'control' | 'setDrain'> & Pick<IntentStore, 'inflightCount' | 'oldestInflightMs' | 'recovering'>
  /** Pending IBC packets on the watched channels (0 without a watcher; null while the watcher cannot know). */
  pendingIbcPackets: () => Promise<number | null> | number | null
  now?: () => number
}

export async function readDrainStatus (deps: DrainRoutesDeps): Promise<DrainStatus> {
  // Three cheap reads, whatever the number of inflight intents: a count, the head of the admission-time index,
  // and whether some instance is registering its records again after Redis lost its data.
  const [control, count, oldest, recovering, pending] = await Promise.all([
    deps.store.control(), deps.store.inflightCount(), deps.store.oldestInflightMs(), deps.store.recovering(), deps.pendingIbcPackets()
  ])
  return buildDrainStatus(control, recovering ? null : count, oldest, pending, (deps.now ?? Date.now)())
}

export function drainRoutes (deps: DrainRoutesDeps): RouteGroup {
  return {
    name: 'drain',
    routes: [
      route({
        method: 'GET',
        path: '/admin/drain/status',
        schema: { summary: 'The DrainStatus: mode, inflight settlements, pending IBC packets, oldest inflight age', response: { 200: DrainStatusSchema } },
        handler: async () => ({ body: await readDrainStatus(deps) })
      }),
      route({
        method: 'POST',
        path: '/admin/drain/start',
        schema: {
          summary: 'Set the drain switch (the Redis drain key): every instance refuses new intents with 503',
          body: Type.Object({
            deadline_secs: Type.Optional(Type.Integer({ minimum: 1, description: 'how long the drain may take; Retry-After is derived from it' })),
            reason: Type.Optional(Type.String({ maxLength: 500 }))
          }, { additionalProperties: false }),
          response: { 200: DrainStatusSchema }
        },
        handler: async (req) => {
          const { deadline_secs: deadlineSecs, reason } = req.body
          // The store keeps the first start time when the switch is set again: age and deadline count from then.
          await deps.store.setDrain({
            ...(deadlineSecs !== undefined ? { deadline_secs: deadlineSecs } : {}),
            ...(reason !== undefined ? { reason } : {})
          })
          return { body: await readDrainStatus(deps) }
        },
        audit: (req) => ({
          action: 'drain.start',
          detail: { deadline_secs: req.body.deadline_secs ?? null },
          ...(req.body.reason !== undefined ? { reason: req.body.reason } : {})
        })
      }),
      route({
        method: 'POST',
        path: '/admin/drain/stop',
        schema: { summary: 'Delete the drain switch: intents are accepted again unless an upgrade runs', body: EmptyBody, response: { 200: DrainStatusSchema } },
        handler: async () => {
          await deps.store.setDrain(null)
          return { body: await readDrainStatus(deps) }
        },
        audit: () => ({ action: 'drain.stop', detail: {} })
      })
    ]
  }
}
