/**
 * Loads the configuration once at start: TOML file, then `INTENT_GATE_<SECTION>_<KEY>` environment overrides,
 * then one validation against the schema that names every bad key, then a few cross-key checks. The result is
 * deeply frozen: nothing changes configuration after start except the parts that own run-time state.
 */
import { existsSync, readFileSync } from 'node:fs'
import { parse as parseToml } from 'smol-toml'
import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { TSchema } from '@sinclair/typebox'
import { ConfigError } from '../errors.js'
import { COLORS, ConfigSchema, HEALTH_CHECK_NAMES, type Config } from './schema.js'
import { parseCidr } from './cidr.js'
import { unknownEnvProblems } from './env-names.js'
import { resolveModulePaths } from './module-paths.js'

export { DEFAULT_CONFIG_FILE } from './default-file.js'

export interface LoadOptions {
  /** The TOML file; when absent, defaults and environment only. */
  file?: string
  /** Where overrides come from (process.env in production, a plain object in tests). */
  env?: Record<string, string | undefined>
  /** Versions this build can process; accepted, default, deprecated and upstream versions must be among them. */
  knownVersions?: readonly string[]
}

// ajv-formats is a CJS module whose default export is the plugin function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv
const ajv = addFormats(new Ajv({ allErrors: true, useDefaults: true, strict: false }))
const validate = ajv.compile<Config>(ConfigSchema)

export function loadConfig (options: LoadOptions = {}): Config {
  const env = options.env ?? process.env
  const raw = options.file === undefined ? {} : readToml(options.file)
  const fromEnv = applyEnvOverrides(raw, env)
  const unknownVariables = unknownEnvProblems(env, knownEnvNames(raw))
  if (unknownVariables.length > 0) throw new ConfigError(unknownVariables)
  if (!validate(raw)) {
    throw new ConfigError(describeErrors(validate.errors ?? [], fromEnv))
  }
  const modules = resolveModulePaths(raw.versions.modules, options.file)
  raw.versions.modules = modules.paths
  const problems = [...modules.problems, ...crossChecks(raw, options.knownVersions)]
  const passwordEnv = raw.redis.password_env
  if (passwordEnv !== '' && (env[passwordEnv] ?? '') === '') {
    problems.push(`redis.password_env: the environment variable ${passwordEnv} is not set`)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return deepFreeze(raw)
}

function readToml (file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError([`${file}: cannot read the configuration file (${(err as NodeJS.ErrnoException).code ?? String(err)})`], { cause: err })
  }
  try {
    return parseToml(text) as Record<string, unknown>
  } catch (err) {
    throw new ConfigError([`${file}: not valid TOML: ${(err as Error).message.split('\n')[0]}`], { cause: err })
  }
}

/** The environment variable that overrides `path` (e.g. ['upstreams', 'blue', 'url'] → INTENT_GATE_UPSTREAMS_BLUE_URL). */
export function envNameOf (path: readonly string[]): string {
  return 'INTENT_GATE_' + path.map((p) => p.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()).join('_')
}

/** Every variable name the configuration gives a meaning to: each key's override and the secrets it names. */
export function knownEnvNames (raw: Record<string, unknown>): string[] {
  const names = [...leafKeys(ConfigSchema, [])].map(([path]) => envNameOf(path))
  const named = (section: string, key: string): unknown => (raw[section] as Record<string, unknown> | undefined)?.[key]
  for (const value of [named('admin', 'token_env'), named('chain', 'signer_mnemonic_env'), named('redis', 'password_env')]) {
    if (typeof value === 'string' && value !== '') names.push(value)
  }
  return names
}

/** Writes every override it finds into `raw`; returns dotted key → env var name, so errors can name the source. */
function applyEnvOverrides (raw: Record<string, unknown>, env: Record<string, string | undefined>): Map<string, string> {
  const sources = new Map<string, string>()
  for (const [path, schema] of leafKeys(ConfigSchema, [])) {
    const name = envNameOf(path)
    const value = env[name]
    if (value === undefined) continue
    let target = raw
    for (const part of path.slice(0, -1)) {
      const next = target[part]
      if (typeof next !== 'object' || next === null || Array.isArray(next)) target[part] = {}
      target = target[part] as Record<string, unknown>
    }
    target[path[path.length - 1] as string] = coerce(value, schema)
    sources.set(path.join('.'), name)
  }
  return sources
}

/** Every leaf key of the schema with its own schema; optional upstream sections included. */
function * leafKeys (schema: TSchema, path: string[]): Generator<[string[], TSchema]> {
  if (schema.type === 'object' && schema.properties !== undefined) {
    for (const [key, sub] of Object.entries(schema.properties as Record<string, TSchema>)) {
      yield * leafKeys(sub, [...path, key])
    }
    return
  }
  if (path.length > 0) yield [path, schema]
}

function coerce (value: string, schema: TSchema): unknown {
  const type = schema.type ?? (schema.anyOf !== undefined ? 'string' : undefined)
  if (type === 'integer' || type === 'number') return value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value
  if (type === 'array') {
    if (value.trim().startsWith('[')) {
      try { return JSON.parse(value) } catch { return value }
    }
    return value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  }
  return value
}

function describeErrors (errors: ErrorObject[], fromEnv: Map<string, string>): string[] {
  const out = new Set<string>()
  for (const e of errors) {
    const key = e.instancePath.split('/').slice(1).join('.')
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty)
      out.add(`${key === '' ? extra : `${key}.${extra}`}: unknown key`)
      continue
    }
    if (e.keyword === 'anyOf') continue // its branches' errors say it better (const/enum below)
    const source = fromEnv.get(key)
    const what = e.keyword === 'const' || e.keyword === 'enum'
      ? `must be one of ${JSON.stringify(allowedValues(e))}`
      : e.keyword === 'required'
        ? `missing required key '${String((e.params as { missingProperty: string }).missingProperty)}'`
        : e.message ?? 'invalid'
    out.add(`${key === '' ? '(top level)' : key}: ${what}${source === undefined ? '' : ` (from ${source})`}`)
  }
  // A literal union reports one `const` error per branch: fold them into one line per key.
  return foldConstErrors([...out])
}

function allowedValues (e: ErrorObject): unknown {
  const params = e.params as { allowedValue?: unknown, allowedValues?: unknown }
  return params.allowedValues ?? params.allowedValue
}

function foldConstErrors (lines: string[]): string[] {
  const byKey = new Map<string, string[]>()
  const rest: string[] = []
  for (const line of lines) {
    const m = /^(.*): must be one of (.*?)( \(from .*\))?$/.exec(line)
    if (m === null) { rest.push(line); continue }
    const k = `${m[1]}\u0000${m[3] ?? ''}`
    byKey.set(k, [...(byKey.get(k) ?? []), ...[JSON.parse(m[2] as string)].flat().map(String)])
  }
  for (const [k, values] of byKey) {
    const [key, source] = k.split('\u0000')
    rest.push(`${key}: must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}${source ?? ''}`)
  }
  return rest
}

function crossChecks (c: Config, known: readonly string[] | undefined): string[] {
  const problems: string[] = []
  const colors = COLORS.filter((k) => c.upstreams[k] !== undefined)
  if (colors.length === 0) problems.push('upstreams: at least one of [upstreams.blue] and [upstreams.green] is required')
  if (colors.length > 0 && !colors.includes(c.proxy.initial_active)) {
    problems.push(`proxy.initial_active: '${c.proxy.initial_active}' has no [upstreams.${c.proxy.initial_active}] section`)
  }
  if ((c.redis.sentinels === undefined) !== (c.redis.sentinel_name === undefined)) {
    problems.push('redis.sentinels: sentinels and sentinel_name go together (set both or neither)')
  }
  if (c.redis.sentinels !== undefined && c.redis.url !== undefined) {
    problems.push('redis.url: set either url or sentinels, not both')
  }
  if (c.redis.cluster_nodes !== undefined && (c.redis.url !== undefined || c.redis.sentinels !== undefined)) {
    problems.push('redis.cluster_nodes: set one of url, sentinels and cluster_nodes')
  }
  if (c.redis.wait_replicas > 0 && c.redis.wait_timeout_ms >= c.redis.command_timeout_ms) {
    problems.push('redis.wait_timeout_ms: must be below redis.command_timeout_ms (a WAIT holds the connection)')
  }
  if (c.redis.tls_ca_file !== '' && !existsSync(c.redis.tls_ca_file)) {
    problems.push(`redis.tls_ca_file: no such file '${c.redis.tls_ca_file}'`)
  }
  if (known !== undefined) problems.push(...unknownVersionProblems(c, known))
  for (const [v, d] of Object.entries(c.versions.deprecated)) {
    if (Date.parse(d.sunset) < Date.parse(d.since)) problems.push(`versions.deprecated."${v}".sunset: is before since`)
  }
  c.proxy.trusted_proxies.forEach((cidr, i) => {
    if (parseCidr(cidr) === null) problems.push(`proxy.trusted_proxies[${i}]: '${cidr}' is not an IPv4 or IPv6 address or CIDR`)
  })
  // Every list in [health_checks] names checks; a typo would otherwise surface only when an upgrade runs them.
  const checkNames: readonly string[] = HEALTH_CHECK_NAMES
  for (const [key, value] of Object.entries(c.health_checks)) {
    if (!Array.isArray(value)) continue
    for (const name of value as unknown[]) {
      if (!checkNames.includes(String(name))) problems.push(`health_checks.${key}: unknown health check '${String(name)}' (known: ${checkNames.join(', ')})`)
    }
  }
  return problems
}

/**
 * Every version the configuration names that `known` lacks. `intent-gate serve` calls it once the versions of
 * `[versions] modules` are loaded (they are part of what is known).
 */
export function unknownVersionProblems (c: Config, known: readonly string[]): string[] {
  const problems: string[] = []
  const unknown = (key: string, v: string): void => {
    if (!known.includes(v)) problems.push(`${key}: unknown version '${v}' (known: ${known.join(', ')})`)
  }
  c.versions.accepted.forEach((v) => unknown('versions.accepted', v))
  unknown('versions.default', c.versions.default)
  Object.keys(c.versions.deprecated).forEach((v) => unknown(`versions.deprecated."${v}"`, v))
  for (const color of COLORS) c.upstreams[color]?.versions.forEach((v) => unknown(`upstreams.${color}.versions`, v))
  return problems
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
