/**
 * Upstream routes: each configured color's health (the proxy's active checks), the versions it accepts, its
 * inflight count (the store's, across instances), which color is active; and the blue-green swap, which writes
 * the same Redis `active` key an operator may SET by hand.
 *
 *   GET  /admin/upstreams
 *   POST /admin/upstreams/active {color, force?}
 *
 * A swap is refused (409, saying why) to an upstream that is not healthy, and while an upgrade runs (the
 * upgrade's own swap step owns the key then); `force: true` overrides both.
 */
import { ConflictError } from '../../errors.js'
import { ColorSchema, type Color } from '../../config/schema.js'
import type { Proxy } from '../../proxy/index.js'
import type { ControlStore, IntentStore } from '../../store/types.js'
import { Type } from '@sinclair/typebox'
import { InvalidAdminRequestError } from '../errors.js'
import { Nullable, UnixSecs } from '../schemas.js'
import { route, type RouteGroup } from '../server.js'

export interface UpstreamsRoutesDeps {
  proxy: Pick<Proxy, 'upstreams' | 'activeColor'>
  store: Pick<IntentStore, 'inflightByUpstream'> & Pick<ControlStore, 'control' | 'setActive'>
}

const UpstreamsSchema = Type.Object({
  active: ColorSchema(),
  active_key: Nullable(Type.String({ description: 'what the shared key says; null while unset (proxy.initial_active applies)' })),
  store: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  upstreams: Type.Array(Type.Object({
    color: ColorSchema(),
    url: Type.String(),
    versions: Type.Array(Type.String()),
    active: Type.Boolean(),
    healthy: Type.Boolean(),
    health: Type.String({ description: 'healthy, unhealthy or unknown (not checked yet)' }),
    last_check_at: Nullable(UnixSecs),
    last_check_latency_ms: Nullable(Type.Number()),
    last_error: Nullable(Type.String()),
    inflight: Nullable(Type.Integer({ description: 'null while the store cannot answer' }))
  }))
})

export function upstreamsRoutes (deps: UpstreamsRoutesDeps): RouteGroup {
  return {
    name: 'upstreams',
    routes: [
      route({
        method: 'GET',
        path: '/admin/upstreams',
        schema: { summary: 'Each upstream\'s health, versions and inflight count; which one is active', response: { 200: UpstreamsSchema } },
        handler: async () => {
          // Health is this instance's own knowledge: still shown while the store cannot answer (counts then null).
          const [counts, control] = await Promise.allSettled([deps.store.inflightByUpstream(), deps.store.control()])
          const active = deps.proxy.activeColor()
          return {
            body: {
              active,
              /** What the shared key says (null while unset: `proxy.initial_active` applies). */
              active_key: control.status === 'fulfilled' ? control.value.active : null,
              store: counts.status === 'fulfilled' && control.status === 'fulfilled' ? 'ready' : 'unavailable',
              upstreams: deps.proxy.upstreams.states().map((s) => ({
                color: s.color,
                url: s.url,
                versions: s.versions,
                active: s.color === active,
                healthy: s.healthy,
                health: s.status,
                last_check_at: s.last_check_at_ms === null ? null : Math.floor(s.last_check_at_ms / 1000),
                last_check_latency_ms: s.last_check_latency_ms,
                last_error: s.last_error,
                inflight: counts.status === 'fulfilled' ? counts.value[s.color] ?? 0 : null
              }))
            }
          }
        }
      }),
      route({
        method: 'POST',
        path: '/admin/upstreams/active',
        schema: {
          summary: 'A blue-green swap: the color that receives new intents (inflight ones keep their owner)',
          body: Type.Object({
            color: ColorSchema(),
            force: Type.Optional(Type.Boolean({ description: 'swap to an unhealthy upstream, or while an upgrade runs' })),
            reason: Type.Optional(Type.String({ maxLength: 500, description: 'why (the audit log keeps it)' }))
          }, { additionalProperties: false }),
          response: { 200: Type.Object({ active: ColorSchema(), previous: ColorSchema(), forced: Type.Boolean() }) }
        },
        handler: async (req) => {
          const { color, force = false } = req.body
          if (deps.proxy.upstreams.get(color) === undefined) {
            throw InvalidAdminRequestError.field('color', `no [upstreams.${color}] section is configured`)
          }
          const target: Color = color
          const previous = deps.proxy.activeColor()
          if (!force) {
            const control = await deps.store.control()
            if (control.upgrade !== null) {
              throw new ConflictError(`upgrade ${control.upgrade.id} is running (phase ${control.upgrade.phase}); its swap step owns the active upstream. Pass force: true to swap anyway`)
            }
            const state = deps.proxy.upstreams.get(target)?.state()
            if (state !== undefined && !state.healthy) {
              const why = state.status === 'unknown' ? 'has not been health-checked yet' : `is unhealthy (${state.last_error ?? 'failing its health check'})`
              throw new ConflictError(`upstream ${target} ${why}. Pass force: true to swap anyway`)
            }
          }
          await deps.store.setActive(target)
          return { body: { active: target, previous, forced: force } }
        },
        audit: (req, reply) => {
          const { active, previous, forced } = reply.body as { active: Color, previous: Color, forced: boolean }
          return { action: 'upstreams.swap', detail: { from: previous, to: active, forced }, ...(req.body.reason !== undefined ? { reason: req.body.reason } : {}) }
        }
      })
    ]
  }
}
