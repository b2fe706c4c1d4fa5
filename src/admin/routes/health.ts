/**
 * The open routes of the admin port: liveness, readiness and the Prometheus scrape.
 *
 *   GET /healthz   200 while the process runs
 *   GET /readyz    200 when every readiness check passes; 503 problem+json naming each failing one
 *   GET /metrics   Prometheus text
 */
import { IntentGateError, problem } from '../../errors.js'
import type { Metrics } from '../../metrics/index.js'
import { Type } from '@sinclair/typebox'
import type { RouteGroup } from '../server.js'

/** One readiness condition: null when satisfied, else the reason it is not. */
export type ReadinessCheck = () => string | null

export class NotReadyError extends IntentGateError {
  override readonly code = 'IG_ERR_NOT_READY'
  override readonly problem = problem('not-ready')
  /** Each failing check by name, with what it waits for: what a kubelet's log and an operator read. */
  constructor (readonly waitingFor: Record<string, string>) {
    super(Object.entries(waitingFor).map(([name, reason]) => `${name}: ${reason}`).join('; '))
  }

  override problemMembers (): Record<string, unknown> {
    return { waiting_for: this.waitingFor }
  }
}

export interface HealthRoutesDeps {
  /** Named checks, e.g. `{ store: () => ..., proxy: () => ... }`. */
  readiness: Record<string, ReadinessCheck>
  metrics: Pick<Metrics, 'text' | 'contentType'>
}

export function healthRoutes (deps: HealthRoutesDeps): RouteGroup {
  return {
    name: 'health',
    routes: [
      {
        method: 'GET',
        path: '/healthz',
        schema: { summary: 'Liveness: 200 while the process runs (any Host)', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
        handler: () => ({ body: { status: 'ok' } })
      },
      {
        method: 'GET',
        path: '/readyz',
        schema: {
          summary: 'Readiness: 200 when this instance admits intents; 503 not-ready with `waiting_for` naming each failing check and what it waits for (any Host)',
          response: { 200: Type.Object({ status: Type.Literal('ready'), checks: Type.Array(Type.String()) }) }
        },
        handler: () => {
          const failing = Object.entries(deps.readiness)
            .map(([name, check]) => [name, check()] as const)
            .filter(([, reason]) => reason !== null)
          if (failing.length > 0) throw new NotReadyError(Object.fromEntries(failing) as Record<string, string>)
          return { body: { status: 'ready', checks: Object.keys(deps.readiness) } }
        }
      },
      {
        method: 'GET',
        path: '/metrics',
        schema: { summary: 'Prometheus text exposition (any Host)', response: { 200: Type.String({ description: 'text/plain; version=0.0.4' }) } },
        handler: async () => ({ raw: { contentType: deps.metrics.contentType, text: await deps.metrics.text() } })
      }
    ]
  }
}
