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
import { BodyFields } from '../fields.js'
import type { RouteGroup } from '../server.js'

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

export function versionsRoutes (deps: VersionsRoutesDeps): RouteGroup {
  return {
    name: 'versions',
    routes: [
      { method: 'GET', path: '/admin/versions', handler: () => ({ body: view(deps.proxy.versionsPolicy()) }) },
      {
        method: 'PUT',
        path: '/admin/versions',
        handler: (req) => {
          const fields = new BodyFields(req.body)
          const accepted = fields.stringArray('accepted')
          fields.required('accepted', accepted)
          const def = fields.string('default')
          fields.required('default', def)
          const deprecated = fields.raw('deprecated') ?? {}
          if (typeof deprecated !== 'object' || deprecated === null || Array.isArray(deprecated)) {
            fields.fail('deprecated', 'must be an object of version → {since, sunset, link}')
          } else {
            for (const [version, d] of Object.entries(deprecated)) {
              if (typeof d !== 'object' || d === null || Array.isArray(d)) {
                fields.fail(`deprecated/${version}`, 'must be an object {since, sunset, link}')
                continue
              }
              for (const key of ['since', 'sunset', 'link']) {
                if (typeof (d as Record<string, unknown>)[key] !== 'string') fields.fail(`deprecated/${version}/${key}`, 'must be a string')
              }
            }
          }
          fields.done(['accepted', 'default', 'deprecated'])
          try {
            deps.proxy.setVersionsPolicy({
              accepted: accepted as string[],
              default: def as string,
              deprecated: deprecated as Record<string, { since: string, sunset: string, link: string }>
            })
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err
            throw new InvalidAdminRequestError(err.problems.join('; '), err.problems.map(fieldOfProblem), { cause: err })
          }
          return { body: view(deps.proxy.versionsPolicy()) }
        }
      }
    ]
  }
}
