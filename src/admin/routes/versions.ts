/**
 * The `[versions]` policy at run time: read it, or replace it as a whole without a restart. The change applies
 * to THIS instance only (it is configuration, not shared state); with several instances, PUT to each, and change
 * the TOML file too so a restart keeps it.
 *
 *   GET /admin/versions
 *   PUT /admin/versions {accepted, default, deprecated?}
 */
import { ConfigError } from '../../errors.js'
import type { Proxy, VersionsPolicy } from '../../proxy/index.js'
import { InvalidAdminRequestError } from '../errors.js'
import { Type } from '@sinclair/typebox'
import { route, type RouteGroup } from '../server.js'

export interface VersionsRoutesDeps {
  proxy: Pick<Proxy, 'versionsPolicy' | 'setVersionsPolicy'>
}

function view (p: VersionsPolicy): { accepted: readonly string[], default: string, deprecated: VersionsPolicy['deprecated'] } {
  return { accepted: p.accepted, default: p.default, deprecated: p.deprecated }
}

/** `versions.deprecated."1.0".since: is before ...` → `{field: '/deprecated/1.0/since', message}`. */
function fieldOfProblem (problem: string): { field: string, message: string } {
  const m = /^((?:"[^"]*"|[^:\s])+):\s*(.*)$/.exec(problem)
  if (m === null) return { field: '', message: problem }
  const parts = ((m[1] as string).match(/"[^"]*"|[^.]+/g) ?? []).map((p) => p.replace(/^"|"$/g, ''))
  return { field: '/' + parts.slice(parts[0] === 'versions' ? 1 : 0).join('/'), message: m[2] as string }
}

const PolicySchema = Type.Object({
  accepted: Type.Array(Type.String(), { description: 'a version missing here is refused (400 version-unsupported)' }),
  default: Type.String({ description: 'the version of bodies without "version"' }),
  deprecated: Type.Record(Type.String(), Type.Object({
    since: Type.String({ description: 'RFC 3339' }),
    sunset: Type.String({ description: 'RFC 3339' }),
    link: Type.String()
  }, { additionalProperties: false }), { description: 'version -> the Deprecation, Sunset and Link headers\' values' })
})

export function versionsRoutes (deps: VersionsRoutesDeps): RouteGroup {
  return {
    name: 'versions',
    routes: [
      route({
        method: 'GET',
        path: '/admin/versions',
        schema: { summary: 'This instance\'s [versions] policy: accepted, default, deprecations', response: { 200: PolicySchema } },
        handler: () => ({ body: view(deps.proxy.versionsPolicy()) })
      }),
      route({
        method: 'PUT',
        path: '/admin/versions',
        schema: {
          summary: 'Replace this instance\'s [versions] policy as a whole, without a restart (not persisted)',
          body: Type.Object({
            accepted: PolicySchema.properties.accepted,
            default: PolicySchema.properties.default,
            deprecated: Type.Optional(PolicySchema.properties.deprecated)
          }, { additionalProperties: false }),
          response: { 200: PolicySchema }
        },
        handler: (req) => {
          const { accepted, default: def, deprecated = {} } = req.body
          try {
            deps.proxy.setVersionsPolicy({ accepted, default: def, deprecated })
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err
            throw new InvalidAdminRequestError(err.problems.join('; '), err.problems.map(fieldOfProblem), { cause: err })
          }
          return { body: view(deps.proxy.versionsPolicy()) }
        },
        audit: (req) => ({ action: 'versions.policy', detail: { accepted: req.body.accepted, default: req.body.default, deprecated: Object.keys(req.body.deprecated ?? {}) } })
      })
    ]
  }
}
