/**
 * The VersionCatalog the proxy and coordinator use: validation with compiled schemas, identity, target-version
 * choice, and step-by-step translation of intents and responses along the registry's paths.
 */
import { NoTranslationPathError, UpstreamError } from '../errors.js'
import type { JsonObject, TranslationStep, VersionSpec } from './spec.js'
import type { CanonicalForms, FieldError, SignatureVerdict, Validation, VersionCatalog } from './types.js'
import { canonicalJson, canonicalWithout } from './canonical.js'
import { OwnerKeys } from './owner-keys.js'
import { verifyIntent } from './verify.js'
import { VersionRegistry, compareVersions } from './registry.js'
import { compile, createAjv, type CompiledValidator } from './validator.js'

interface CompiledVersion {
  spec: VersionSpec
  intent: CompiledValidator
  submitResponse: CompiledValidator
  statusResponse: CompiledValidator
}

/** The catalog with what the signing helpers and tests need beyond the proxy's interface. */
export interface Catalog extends VersionCatalog {
  spec: (version: string) => VersionSpec | undefined
  /** The steps between two versions, or null when there is no path. */
  path: (from: string, to: string) => readonly TranslationStep[] | null
  /** Field errors of a 2xx response body against a version's response schema; empty when valid. */
  checkResponse: (kind: 'submit' | 'status', version: string, body: unknown) => FieldError[]
}

export class VersionCatalogImpl implements Catalog {
  readonly known: readonly string[]
  private readonly registry: VersionRegistry
  private readonly compiled = new Map<string, CompiledVersion>()
  private readonly targets = new Map<string, string | null>()
  /** Owners whose key verified lately (bounded): their address is not derived again for the same key. */
  private readonly owners = new OwnerKeys()

  constructor (specs: readonly VersionSpec[], steps: readonly TranslationStep[]) {
    this.registry = new VersionRegistry(specs, steps)
    this.known = this.registry.versions
    const ajv = createAjv()
    for (const spec of specs) {
      this.compiled.set(spec.version, {
        spec,
        intent: compile(ajv, spec.intentSchema),
        submitResponse: compile(ajv, spec.submitResponseSchema),
        statusResponse: compile(ajv, spec.statusResponseSchema)
      })
    }
  }

  spec (version: string): VersionSpec | undefined {
    return this.registry.spec(version)
  }

  path (from: string, to: string): readonly TranslationStep[] | null {
    return this.registry.path(from, to)
  }

  validateIntent (version: string, body: unknown): Validation {
    const compiled = this.compiled.get(version)
    if (compiled === undefined) {
      return { ok: false, errors: [{ field: '/version', message: `unknown version ${JSON.stringify(version)}; known versions: ${this.known.join(', ')}` }] }
    }
    const errors = compiled.intent(body)
    if (errors !== null) return { ok: false, errors }
    let intent = body as JsonObject
    const crossField = compiled.spec.crossFieldErrors?.(intent)
    if (crossField !== undefined && crossField.length > 0) return { ok: false, errors: crossField }
    // The version a body was read as is made explicit, so translation and storage never have to guess it.
    if (intent['version'] === undefined) intent = { version, ...intent }
    return { ok: true, intent, identity: compiled.spec.identity(intent) }
  }

  targetVersion (clientVersion: string, upstreamVersions: readonly string[]): string | null {
    if (upstreamVersions.includes(clientVersion)) return clientVersion
    if (!this.compiled.has(clientVersion)) return null
    const id = `${clientVersion}>${upstreamVersions.join(',')}`
    let target = this.targets.get(id)
    if (target === undefined) {
      const reachable = upstreamVersions.filter((v) => this.registry.path(clientVersion, v) !== null)
      target = reachable.sort(compareVersions).at(-1) ?? null
      this.targets.set(id, target)
    }
    return target
  }

  translateIntent (intent: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
    let out = intent
    for (const step of this.stepsOrThrow(from, to)) out = step.migrateIntent(out)
    return out
  }

  translateSubmitResponse (body: unknown, from: string, to: string): unknown {
    if (from === to) return body
    const steps = this.stepsOrThrow(from, to)
    let out = this.checkedResponse('submit', from, body)
    for (const step of steps) out = step.migrateSubmitResponse(out)
    return out
  }

  translateStatusResponse (body: unknown, from: string, to: string): unknown {
    if (from === to) return body
    const steps = this.stepsOrThrow(from, to)
    let out = this.checkedResponse('status', from, body)
    for (const step of steps) out = step.migrateStatusResponse(out)
    return out
  }

  verifySignature (version: string, intent: Record<string, unknown>, versionSent?: boolean, unsignedCanonical?: string): SignatureVerdict {
    return verifyIntent(this, version, intent, versionSent, { owners: this.owners, unsignedCanonical: unsignedCanonical ?? undefined })
  }

  canonicalForms (version: string, intent: Record<string, unknown>): CanonicalForms {
    const path = this.registry.spec(version)?.signaturePath
    if (path === undefined || path.length === 0) return { canonical: canonicalJson(intent), unsigned: null }
    const { whole, without } = canonicalWithout(intent, path)
    return { canonical: whole, unsigned: without }
  }

  deadlineField (version: string): string {
    return this.registry.spec(version)?.deadlineField ?? '/deadline'
  }

  intentIdOf (body: unknown, version: string): string | null {
    return this.registry.spec(version)?.intentIdOf(body) ?? null
  }

  statusOf (body: unknown, version: string): string | null {
    return this.registry.spec(version)?.statusOf(body) ?? null
  }

  checkResponse (kind: 'submit' | 'status', version: string, body: unknown): FieldError[] {
    const compiled = this.compiled.get(version)
    if (compiled === undefined) return [{ field: '', message: `unknown version ${JSON.stringify(version)}` }]
    return (kind === 'submit' ? compiled.submitResponse : compiled.statusResponse)(body) ?? []
  }

  private stepsOrThrow (from: string, to: string): readonly TranslationStep[] {
    const steps = this.registry.path(from, to)
    if (steps === null) throw new NoTranslationPathError(from, to)
    return steps
  }

  /** A response we cannot read cannot be translated honestly: the upstream broke its contract (502). */
  private checkedResponse (kind: 'submit' | 'status', version: string, body: unknown): JsonObject {
    const errors = this.checkResponse(kind, version, body)
    if (errors.length > 0) {
      const detail = errors.map((e) => `${e.field || '(body)'} ${e.message}`).join('; ')
      throw new UpstreamError(`the upstream's ${kind} response is not valid ${version}: ${detail}`)
    }
    return body as JsonObject
  }
}
