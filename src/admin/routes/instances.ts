/**
 * The fleet and this instance (docs/specification.md section 5):
 *
 *   GET  /admin/instances               {instances: [{id, version, layout, state, started_at, last_seen_at, self?}]}
 *   POST /admin/instance/leave          {deadline_secs?} → 202 with this instance's state: it leaves the fleet
 *   GET  /admin/instance                {id, state, exchanges, held, unbound, ...}: what it still holds
 *   POST /admin/instances/:id/forget    after a Redis loss, stop waiting for a gone instance: {id, uncounted}; 409
 *                                       while it serves, 404 when unknown
 */
import { Type } from '@sinclair/typebox'
import { ConflictError, NotFoundError } from '../../errors.js'
import type { InstanceLeave, LeaveStatus } from '../../instance/leave.js'
import type { InstanceRecord, RegistryStore } from '../../store/types.js'
import { IdParams } from '../schemas.js'
import { route, type RouteGroup } from '../server.js'

export interface InstancesRoutesDeps {
  store: Pick<RegistryStore, 'instances' | 'forgetInstance'>
  self: string
  leave: Pick<InstanceLeave, 'leave' | 'status'>
  /** What the leave does once done when the process is to end with it (nothing for an API leave). */
  onLeaveError: (err: unknown) => void
}

const InstanceSchema = Type.Object({
  id: Type.String(),
  version: Type.String(),
  layout: Type.String(),
  state: Type.Union([Type.Literal('serving'), Type.Literal('leaving'), Type.Literal('gone')]),
  started_at: Type.String({ description: 'RFC 3339' }),
  last_seen_at: Type.String({ description: 'RFC 3339' }),
  journaled: Type.Integer({ description: 'intents it admitted and had not seen end, at its last refresh' }),
  self: Type.Optional(Type.Boolean())
})

const SelfSchema = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('serving'), Type.Literal('leaving'), Type.Literal('left')]),
  exchanges: Type.Integer(),
  held: Type.Integer(),
  unbound: Type.Integer(),
  leaving_since: Type.Union([Type.String(), Type.Null()]),
  refusing_from: Type.Union([Type.String(), Type.Null()]),
  deadline: Type.Union([Type.String(), Type.Null()])
})

export function instanceView (r: InstanceRecord, self: string): Record<string, unknown> {
  return {
    id: r.id,
    version: r.version,
    layout: r.layout,
    state: r.state,
    started_at: new Date(r.started_at_ms).toISOString(),
    last_seen_at: new Date(r.last_seen_at_ms).toISOString(),
    journaled: r.journaled,
    ...(r.id === self ? { self: true } : {})
  }
}

export function instancesRoutes (deps: InstancesRoutesDeps): RouteGroup {
  const selfView = (status: LeaveStatus): Record<string, unknown> => ({ id: deps.self, ...status })
  return {
    name: 'instances',
    routes: [
      route({
        method: 'GET',
        path: '/admin/instances',
        schema: { summary: 'The fleet of this namespace: every instance\'s record, this one marked self', response: { 200: Type.Object({ instances: Type.Array(InstanceSchema) }) } },
        handler: async () => ({ body: { instances: (await deps.store.instances()).map((r) => instanceView(r, deps.self)) } })
      }),
      route({
        method: 'GET',
        path: '/admin/instance',
        schema: { summary: 'This instance: serving, leaving or left, and what it still holds', response: { 200: SelfSchema } },
        handler: () => ({ body: selfView(deps.leave.status()) })
      }),
      route({
        method: 'POST',
        path: '/admin/instance/leave',
        schema: {
          summary: 'This instance leaves the fleet: not ready at once, admits for proxy.leave_grace_secs, then refuses; the others go on admitting',
          body: Type.Object({ deadline_secs: Type.Optional(Type.Integer({ minimum: 1, description: 'how long the leave may wait for open exchanges and store writes' })) }, { additionalProperties: false }),
          response: { 202: SelfSchema }
        },
        handler: (req) => {
          deps.leave.leave(req.body.deadline_secs).catch(deps.onLeaveError)
          return { status: 202, body: selfView(deps.leave.status()) }
        }
      }),
      route({
        method: 'POST',
        path: '/admin/instances/:id/forget',
        schema: {
          summary: 'Give up on a gone instance after a Redis loss: the count stops waiting for it; says how many of its intents go uncounted',
          params: IdParams,
          response: { 200: Type.Object({ id: Type.String(), forgotten: Type.Literal(true), uncounted: Type.Integer() }) }
        },
        handler: async (req) => {
          const result = await deps.store.forgetInstance(req.params.id)
          if (result.kind === 'serving') {
            throw new ConflictError(`instance ${req.params.id} is ${result.record.state} (seen ${new Date(result.record.last_seen_at_ms).toISOString()}): only a gone instance can be forgotten`)
          }
          if (result.kind === 'unknown') throw new NotFoundError(`no instance ${req.params.id} in this namespace's registry, and none awaited after a Redis loss`)
          return { body: { id: req.params.id, forgotten: true as const, uncounted: result.uncounted } }
        }
      })
    ]
  }
}
