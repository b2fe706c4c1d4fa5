/**
 * IBC routes: the packets the watcher still sees pending on the watched channels, and the watcher's own state
 * (what the coordinator's `ibc_relayer` check reads). Without a chain (`chain.enabled = false`) nothing is
 * watched: the list is empty and the state says so.
 *
 *   GET /admin/ibc/pending[?stale=true]  → [{channel, port, sequence, sent_height, age_secs, stale}]
 *   GET /admin/ibc/status                → {enabled, connected, healthy, reason, last_height, chain_height, ...}
 */
import type { IbcWatcher } from '../../ibc/watcher.js'
import { InvalidAdminRequestError } from '../errors.js'
import { Type } from '@sinclair/typebox'
import type { RouteGroup } from '../server.js'

export interface IbcRoutesDeps {
  /** null when the chain side is disabled. */
  watcher: Pick<IbcWatcher, 'pending' | 'state'> | null
}

export function ibcRoutes (deps: IbcRoutesDeps): RouteGroup {
  return {
    name: 'ibc',
    routes: [
      {
        method: 'GET',
        path: '/admin/ibc/pending',
        schema: {
          summary: 'Packets sent on the watched channels and not yet acknowledged or timed out',
          querystring: Type.Object({ stale: Type.Optional(Type.String({ description: 'true: only the stale ones; false: only the fresh ones' })) }),
          response: {
            200: Type.Array(Type.Object({
              channel: Type.String(),
              port: Type.String(),
              sequence: Type.Union([Type.Integer(), Type.String()]),
              sent_height: Type.Union([Type.Integer(), Type.Null()]),
              age_secs: Type.Union([Type.Number(), Type.Null()]),
              stale: Type.Boolean()
            }, { additionalProperties: true }))
          }
        },
        handler: (req) => {
          const stale = req.query.get('stale')
          if (stale !== null && stale !== 'true' && stale !== 'false') {
            throw new InvalidAdminRequestError('invalid query parameter', [{ field: 'stale', message: 'must be true or false' }])
          }
          const packets = deps.watcher?.pending() ?? []
          return { body: stale === null ? packets : packets.filter((p) => p.stale === (stale === 'true')) }
        }
      },
      {
        method: 'GET',
        path: '/admin/ibc/status',
        schema: {
          summary: 'The IBC watcher\'s state (what the ibc_relayer check reads); {enabled: false} without a chain',
          response: { 200: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: true }) }
        },
        handler: () => ({ body: deps.watcher === null ? { enabled: false } : { enabled: true, ...deps.watcher.state() } })
      }
    ]
  }
}
