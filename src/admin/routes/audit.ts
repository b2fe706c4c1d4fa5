/**
 * The audit log, newest first: every state change an operator caused (drain, swap, upgrade start/abort,
 * versions policy...) through any door (admin API, CLI, status page, a Redis key changed by hand).
 *
 *   GET /admin/audit?limit=N  → {entries: [{at, actor, via, origin, action, detail, reason?}]}
 */
import { Type } from '@sinclair/typebox'
import { AUDIT_VIAS, type AuditLog } from '../../audit/audit-log.js'
import { route, type RouteGroup } from '../server.js'

/** `admin, cli, status (the status page), demo or redis (...)`, from the table of doors. */
function viaDescription (): string {
  const named = Object.entries(AUDIT_VIAS).map(([via, says]) => (says === '' ? via : `${via} (${says})`))
  return `${named.slice(0, -1).join(', ')} or ${named.at(-1) ?? ''}`
}

const AuditEntrySchema = Type.Object({
  at: Type.String({ description: 'RFC 3339' }),
  actor: Type.String({ description: '`token:<id>` (the first 8 hex digits of the token\'s SHA-256) or `redis`' }),
  via: Type.String({ description: viaDescription() }),
  origin: Type.Union([Type.String(), Type.Null()], { description: 'the caller\'s address; null for redis' }),
  action: Type.String({ description: 'drain.start, drain.stop, upstreams.swap, upgrade.start, upgrade.abort, versions.policy...' }),
  detail: Type.Record(Type.String(), Type.Unknown()),
  reason: Type.Optional(Type.String())
})

export function auditRoutes (deps: { audit: Pick<AuditLog, 'recent'> }): RouteGroup {
  return {
    name: 'audit',
    routes: [
      route({
        method: 'GET',
        path: '/admin/audit',
        schema: {
          summary: 'The audit log, newest first: who changed what, through which door, and why',
          querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }),
          response: { 200: Type.Object({ entries: Type.Array(AuditEntrySchema) }) }
        },
        handler: (req) => {
          const limit = Number(req.query.get('limit') ?? 100)
          return { body: { entries: deps.audit.recent(limit) } }
        }
      })
    ]
  }
}
