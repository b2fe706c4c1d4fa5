/**
 * Canonical bytes and what a signature covers. Canonical JSON (keys sorted at every level, no white space) is the
 * client library's (../client/canonical.ts), so what a client signs and what the gateway checks are written by
 * the same code. A client signs SHA-256 of the canonical bytes of its intent without the signature; a translated
 * intent is verified over the form of its `signed_version`, rebuilt by the reverse steps.
 */
import { hash } from 'node:crypto'
import { canonicalJson } from '../client/canonical.js'
import type { JsonObject, VersionSpec } from './spec.js'

export { canonicalJson }

/** What rebuilding a signed form needs of a catalog (kept structural: the catalog itself verifies with it). */
export interface FormCatalog {
  spec (version: string): VersionSpec | undefined
  translateIntent (intent: Record<string, unknown>, from: string, to: string): Record<string, unknown>
}

/**
 * `canonicalJson(value)` and, in the same pass, the canonical text of `value` without the member at `path` (keys
 * of nested objects, e.g. `['auth', 'signature']`): each member is written once and goes into both texts. A
 * verified submission needs both (the signature covers the one, the fingerprint and the forwarded bytes are the
 * other); writing them separately cost about 8 µs more. `without` is null when `path` leads to no member.
 */
export function canonicalWithout (value: JsonObject, path: readonly string[]): { whole: string, without: string | null } {
  const head = path[0]
  const keys = Object.keys(value).sort()
  let whole = '{'
  let without = '{'
  let found = false
  for (const key of keys) {
    const item = value[key]
    if (item === undefined) continue
    const name = JSON.stringify(key) + ':'
    if (key === head) {
      if (path.length === 1) {
        whole += (whole.length === 1 ? '' : ',') + name + canonicalJson(item)
        found = true
        continue
      }
      if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
        const inner = canonicalWithout(item as JsonObject, path.slice(1))
        whole += (whole.length === 1 ? '' : ',') + name + inner.whole
        without += (without.length === 1 ? '' : ',') + name + (inner.without ?? inner.whole)
        found = inner.without !== null
        continue
      }
    }
    const member = name + canonicalJson(item)
    whole += (whole.length === 1 ? '' : ',') + member
    without += (without.length === 1 ? '' : ',') + member
  }
  return { whole: whole + '}', without: found ? without + '}' : null }
}

export function canonicalBytes (value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8')
}

export function sha256 (bytes: Uint8Array): Uint8Array {
  return hash('sha256', bytes, 'buffer')
}

/** What a signer hashes and signs: SHA-256 of the canonical bytes of `unsignedIntent`. */
export function signingDigest (unsignedIntent: JsonObject): Uint8Array {
  return sha256(canonicalBytes(unsignedIntent))
}

/** An intent's fingerprint for idempotency: SHA-256 (hex) of its canonical bytes, signature included. */
export function intentFingerprint (intent: JsonObject): string {
  return hash('sha256', canonicalJson(intent), 'hex')
}

export interface SignedForms {
  /** How the forms were signed: `secp256k1` (their digest) or `adr036` (a wallet's sign doc wrapping them). */
  scheme: string
  publicKey: string
  signature: string
  /** The unsigned forms a valid signature may cover, most likely first. */
  forms: JsonObject[]
}

/**
 * The unsigned forms the signature of a valid `version` intent may cover. For a translated intent
 * (`signed_version` differs from `version`) the signed version's form is rebuilt through the catalog; when that
 * version cannot express the intent, no form exists and the signature cannot be valid (NotRepresentableError
 * propagates). Because a body without `version` is read as the default and the gateway then makes the version
 * explicit, a form with `version` is also tried without it, unless `versionSent` says which the client sent
 * (the gateway knows, from the body itself: one form, one verify, even for a bad signature).
 */
export function signedForms (catalog: FormCatalog, version: string, intent: JsonObject, versionSent?: boolean): SignedForms {
  const spec = catalog.spec(version)
  if (spec === undefined) throw new TypeError(`unknown version ${version}`)
  const auth = spec.auth(intent)
  let signedSpec = spec
  let signedIntent = intent
  if (auth.signedVersion !== version) {
    const other = catalog.spec(auth.signedVersion)
    if (other === undefined) throw new TypeError(`unknown signed_version ${auth.signedVersion}`)
    signedSpec = other
    signedIntent = catalog.translateIntent(intent, version, auth.signedVersion)
  }
  const form = signedSpec.unsigned(signedIntent)
  const forms = [form]
  if (form['version'] !== undefined) {
    const { version: _version, ...withoutVersion } = form
    // Only the client's own form is known to be one of the two: a translated one's was rebuilt.
    if (versionSent === false && signedSpec === spec) forms[0] = withoutVersion
    else if (versionSent !== true || signedSpec !== spec) forms.push(withoutVersion)
  }
  return { scheme: auth.scheme, publicKey: auth.publicKey, signature: auth.signature, forms }
}
