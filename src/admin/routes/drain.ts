/**
 * Drain routes: the seed's DrainStatus, and the drain switch (the same Redis `drain` key operators SET by hand,
 * so the admin API, redis-cli and every gateway instance agree on one switch).
 *
 *   GET  /admin/drain/status
 *   POST /admin/drain/start  {deadline_secs?, reason?}
 *   POST /admin/drain/stop
 */
import type { Store } from '../../store/types.js'
import { buildDrainStatus, type DrainStatus } from '../../drain/status.js'
import { BodyFields } from '../fields.js'
import type { RouteGroup } from '../server.js'

export interface DrainRoutesDeps {
  store: Pick<Store, 'control' | 'inflight' | 'inflightCount' | 'setDrain'>
  /** Pending IBC packets on the watched channels (0 without a watcher). */
  pendingIbcPackets: () => Promise<number> | number
  now?: () => number
}

export async function readDrainStatus (deps: DrainRoutesDeps): Promise<DrainStatus> {
  const [control, count, pending] = await Promise.all([deps.store.control(), deps.store.inflightCount(), deps.pendingIbcPackets()])
  // The count is one cheap exact read; the records are listed only when there are some, for the oldest age.
  let oldest: number | null = null
  if (count > 0) {
    for (const r of await deps.store.inflight()) if (oldest === null || r.created_at_ms < oldest) oldest = r.created_at_ms
  }
  return buildDrainStatus(control, count, oldest, pending, (deps.now ?? Date.now)())
}

export function drainRoutes (deps: DrainRoutesDeps): RouteGroup {
  return {
    name: 'drain',
    routes: [
      { method: 'GET', path: '/admin/drain/status', handler: async () => ({ body: await readDrainStatus(deps) }) },
      {
        method: 'POST',
        path: '/admin/drain/start',
        handler: async (req) => {
          const fields = new BodyFields(req.body)
          const deadlineSecs = fields.integer('deadline_secs', { min: 1 })
          const reason = fields.string('reason', { maxLength: 500 })
          fields.done(['deadline_secs', 'reason'])
          // The store keeps the first start time when the switch is set again: age and deadline count from then.
          await deps.store.setDrain({
            ...(deadlineSecs !== undefined ? { deadline_secs: deadlineSecs } : {}),
            ...(reason !== undefined ? { reason } : {})
          })
          return { body: await readDrainStatus(deps) }
        }
      },
      {
        method: 'POST',
        path: '/admin/drain/stop',
        handler: async (req) => {
          new BodyFields(req.body).done([])
          await deps.store.setDrain(null)
          return { body: await readDrainStatus(deps) }
        }
      }
    ]
  }
}
