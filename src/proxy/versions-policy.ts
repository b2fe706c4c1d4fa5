/**
 * The `[versions]` policy in force: which versions are accepted, the default for bodies without `version`, and
 * the deprecation headers of deprecated versions. It is a value the proxy swaps as a whole at run time
 * (`proxy.setVersionsPolicy`), so a request sees one consistent policy; header values are computed once here,
 * not per response.
 */
import { ConfigError } from '../errors.js'
import type { Config } from '../config/schema.js'

/** The run-time part of `[versions]` (the modules are loaded once, at start). */
export type VersionsPolicyInput = Omit<Config['versions'], 'modules'>

/** The three headers a deprecated version's responses carry, ready to set. */
export interface DeprecationHeaders {
  deprecation: string
  sunset: string
  link: string
}

export interface VersionsPolicy {
  readonly accepted: readonly string[]
  readonly default: string
  readonly deprecated: Readonly<Record<string, { since: string, sunset: string, link: string }>>
  isAccepted (version: string): boolean
  /** The deprecation headers of `version`, or undefined when it is not deprecated. */
  deprecationHeaders (version: string): DeprecationHeaders | undefined
}

/** Builds a policy; throws ConfigError naming every unusable field (unknown version, bad date). */
export function createVersionsPolicy (input: VersionsPolicyInput, known: readonly string[]): VersionsPolicy {
  const problems: string[] = []
  if (!Array.isArray(input.accepted) || input.accepted.length === 0) problems.push('versions.accepted: at least one version is required')
  for (const v of input.accepted ?? []) {
    if (!known.includes(v)) problems.push(`versions.accepted: unknown version '${v}' (known: ${known.join(', ')})`)
  }
  if (typeof input.default !== 'string' || !known.includes(input.default)) {
    problems.push(`versions.default: unknown version '${String(input.default)}' (known: ${known.join(', ')})`)
  }
  const headers = new Map<string, DeprecationHeaders>()
  for (const [version, d] of Object.entries(input.deprecated ?? {})) {
    const key = `versions.deprecated."${version}"`
    if (!known.includes(version)) problems.push(`${key}: unknown version '${version}' (known: ${known.join(', ')})`)
    const since = Date.parse(d.since)
    const sunset = Date.parse(d.sunset)
    if (Number.isNaN(since)) problems.push(`${key}.since: not a date-time`)
    if (Number.isNaN(sunset)) problems.push(`${key}.sunset: not a date-time`)
    if (typeof d.link !== 'string' || !/^https?:\/\//.test(d.link)) problems.push(`${key}.link: not an http(s) URL`)
    if (!Number.isNaN(since) && !Number.isNaN(sunset)) {
      if (sunset < since) problems.push(`${key}.sunset: is before since`)
      headers.set(version, {
        deprecation: `@${Math.floor(since / 1000)}`,
        sunset: new Date(sunset).toUTCString(),
        link: `<${d.link}>; rel="deprecation"`
      })
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)

  const accepted = new Set(input.accepted)
  return Object.freeze({
    accepted: Object.freeze([...input.accepted]),
    default: input.default,
    deprecated: Object.freeze(structuredClone(input.deprecated ?? {})),
    isAccepted: (version: string) => accepted.has(version),
    deprecationHeaders: (version: string) => headers.get(version)
  })
}
