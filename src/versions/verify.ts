/**
 * Who signed an intent, checked as docs/specification.md sections 3 and 8 say, by the gateway before it registers anything
 * and by the sample service behind it (one implementation, so the two can never disagree):
 *   - the owner (`user` in 1.0, `owner` in 2.0) is the bech32 encoding, under any prefix, of
 *     RIPEMD-160(SHA-256(the 33-byte compressed public key)), as Cosmos SDK accounts are;
 *   - the signature is 64 bytes `r || s` with low `s` (a high-s twin is a second valid signature of the same
 *     order: refused, so one order has one signature);
 *   - it verifies over SHA-256 of the canonical bytes of the form the client signed (the rebuilt
 *     `signed_version` form for a translated intent); for `auth.scheme = "adr036"` (a wallet's signArbitrary)
 *     over SHA-256 of the ADR-036 sign doc wrapping those bytes with the owner as signer (./adr036.ts).
 * libsecp256k1 through the `secp256k1` package's prebuilt binding: about 70 µs a verify on these machines,
 * against about 420 µs for Node's crypto or a WebAssembly build (docs/benchmarks.md). Bech32 through cosmjs.
 */
import { createHash, hash } from 'node:crypto'
import { fromBech32 } from '@cosmjs/encoding'
import secp256k1 from 'secp256k1'
import { NoTranslationPathError, NotRepresentableError } from '../errors.js'
import { adr036Digest } from './adr036.js'
import { canonicalBytes, signedForms, signingDigest, type FormCatalog } from './canonical.js'
import type { OwnerKeys } from './owner-keys.js'
import type { JsonObject } from './spec.js'

/** Which check failed: stable words for logs, metrics and the 401's detail. */
export type VerifyFailure = 'owner' | 'public_key' | 'signature_encoding' | 'high_s' | 'signed_form' | 'signature'

export type Verdict = { ok: true } | { ok: false, check: VerifyFailure, reason: string }

/** Half the order of secp256k1, big-endian: a low-s signature has s <= this. */
const HALF_ORDER = Buffer.from('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0', 'hex')

/** What a caller that verifies many intents can hand the verifier to spare it work already done. */
export interface VerifyHints {
  /** Owners whose key was shown before (./owner-keys.ts): their address check is skipped for that exact key. */
  owners?: OwnerKeys
  /**
   * `canonicalJson(spec.unsigned(intent))`, written by the caller with the intent's own canonical text
   * (canonicalWithout): used for the client's own form, so it is not serialised twice.
   */
  unsignedCanonical?: string
}

/**
 * Checks owner, encoding and signature of a schema-valid `version` intent. No I/O; the only state is the
 * hints' owner cache. `versionSent` (whether the body as received carried `version`) picks the one signed form
 * to check; unknown, both are tried.
 */
export function verifyIntent (
  catalog: FormCatalog,
  version: string,
  intent: JsonObject,
  versionSent?: boolean,
  hints: VerifyHints = {}
): Verdict {
  const claimed = catalog.spec(version)?.auth(intent).signedVersion
  if (claimed !== undefined && catalog.spec(claimed) === undefined) {
    return fail('signed_form', `the signature claims the ${claimed} form, a version this gateway does not know`)
  }
  let signed
  try {
    signed = signedForms(catalog, version, intent, versionSent)
  } catch (err) {
    if (err instanceof NotRepresentableError) return fail('signed_form', `the signature claims the ${err.to} form, which this intent does not have: ${err.reason}`)
    if (err instanceof NoTranslationPathError) return fail('signed_form', `the signature claims the ${err.to} form, which this intent cannot be brought to`)
    throw err
  }
  const publicKey = Buffer.from(signed.publicKey, 'base64')
  const signature = Buffer.from(signed.signature, 'base64')
  if (publicKey.length !== 33 || (publicKey[0] !== 2 && publicKey[0] !== 3)) return fail('public_key', 'the public key is not a 33-byte compressed secp256k1 key')
  if (signature.length !== 64) return fail('signature_encoding', 'the signature is not 64 bytes (r || s)')
  if (signature.subarray(32).compare(HALF_ORDER) > 0) return fail('high_s', 'the signature has a high s (only low-s signatures are accepted)')

  const owner = catalog.spec(version)?.identity(intent).owner ?? ''
  const ownerKnown = hints.owners?.known(owner, signed.publicKey) === true
  if (!ownerKnown) {
    const ownerCheck = ownerMatches(owner, publicKey)
    if (ownerCheck !== null) return fail('owner', ownerCheck)
  }

  // The first form is the client's own unsigned form when the signature claims the intent's version and the
  // version was sent (./canonical.ts, signedForms): its text may be given.
  const ownText = claimed === version && versionSent !== false ? hints.unsignedCanonical : undefined
  const textOf = (form: JsonObject, i: number): Uint8Array | string => i === 0 && ownText !== undefined ? ownText : canonicalBytes(form)
  const digestOf = signed.scheme === 'adr036'
    ? (form: JsonObject, i: number) => adr036Digest(Buffer.from(textOf(form, i)), owner)
    : (form: JsonObject, i: number) => i === 0 && ownText !== undefined ? hash('sha256', ownText, 'buffer') : signingDigest(form)
  for (let i = 0; i < signed.forms.length; i++) {
    let ok: boolean
    try {
      ok = secp256k1.ecdsaVerify(signature, digestOf(signed.forms[i] as JsonObject, i), publicKey)
    } catch {
      // The binding throws for a key that is not on the curve (or an r/s out of range).
      return fail('public_key', 'the public key is not a point on secp256k1, or the signature is out of range')
    }
    if (ok) {
      if (!ownerKnown) hints.owners?.remember(owner, signed.publicKey)
      return { ok: true }
    }
  }
  return fail('signature', 'the signature does not match the intent and public key')
}

/** The account address bytes of a compressed public key: RIPEMD-160(SHA-256(key)). */
export function addressBytes (publicKey: Uint8Array): Buffer {
  return createHash('ripemd160').update(createHash('sha256').update(publicKey).digest()).digest()
}

/** Null when `owner` is the bech32 address (any prefix) of `publicKey`; else why not. */
function ownerMatches (owner: string, publicKey: Uint8Array): string | null {
  let data: Uint8Array
  try {
    // 90: BIP 173's limit (and cosmjs 0.38 with a current @scure/base refuses its own default, Infinity).
    data = fromBech32(owner, 90).data
  } catch {
    return 'the owner is not a bech32 address'
  }
  if (!addressBytes(publicKey).equals(data)) return "the owner is not the public key's address"
  return null
}

function fail (check: VerifyFailure, reason: string): Verdict {
  return { ok: false, check, reason }
}
