/**
 * Canonical bytes and what a signature covers (INTERFACE section 8). Canonical JSON: keys sorted at every level
 * (by UTF-16 code units, JavaScript's default sort), no white space, strings and numbers as JSON.stringify
 * writes them. A client signs SHA-256 of the canonical bytes of its intent without the signature; a translated
 * intent is verified over the form of its `signed_version`, rebuilt by the reverse steps.
 */
import { hash } from 'node:crypto'
import type { JsonObject, VersionSpec } from './spec.js'

/** What rebuilding a signed form needs of a catalog (kept structural: the catalog itself verifies with it). */
export interface FormCatalog {
  spec (version: string): VersionSpec | undefined
  translateIntent (intent: Record<string, unknown>, from: string, to: string): Record<string, unknown>
}

export function canonicalJson (value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot serialise ${value} as JSON`)
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`cannot serialise a ${typeof value} as JSON`)
    return text
  }
  // Built by concatenation (V8 ropes), not arrays and joins: this runs for every submission's fingerprint.
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i] ?? null)
    return out + ']'
  }
  const obj = value as JsonObject
  const keys = Object.keys(obj).sort()
  let out = '{'
  for (const key of keys) {
    const item = obj[key]
    if (item === undefined) continue
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(item)
  }
  return out + '}'
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
 * explicit, a form with `version` is also tried without it.
 */
export function signedForms (catalog: FormCatalog, version: string, intent: JsonObject): SignedForms {
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
    forms.push(withoutVersion)
  }
  return { publicKey: auth.publicKey, signature: auth.signature, forms }
}
