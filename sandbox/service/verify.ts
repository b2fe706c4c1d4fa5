/**
 * Signature verification as INTERFACE section 8 says: secp256k1 over SHA-256 of the canonical bytes of the
 * signed form, low `s` only (a high-s twin of a valid signature is refused: no malleable duplicates); for a
 * translated intent the form of its `signed_version` is rebuilt through the reverse steps, so a translation
 * that changed the meaning fails here.
 */
import { Secp256k1, Secp256k1Signature } from '@cosmjs/crypto'
import { fromBase64 } from '@cosmjs/encoding'
import { NotRepresentableError } from '../../src/errors.js'
import { signedForms, signingDigest } from '../../src/versions/canonical.js'
import type { Catalog } from '../../src/versions/catalog.js'
import type { JsonObject } from '../../src/versions/spec.js'

/** Half the order of secp256k1: a low-s signature has s <= this. */
const HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0n

export type Verdict = { ok: true } | { ok: false, reason: string }

/** Checks the signature of a schema-valid `version` intent. */
export function verifyIntent (catalog: Catalog, version: string, intent: JsonObject): Verdict {
  let signed
  try {
    signed = signedForms(catalog, version, intent)
  } catch (err) {
    if (err instanceof NotRepresentableError) return { ok: false, reason: `the signature claims the ${err.to} form, which this intent does not have: ${err.reason}` }
    throw err
  }
  const signatureBytes = fromBase64(signed.signature)
  const publicKey = fromBase64(signed.publicKey)
  if (signatureBytes.length !== 64) return { ok: false, reason: 'the signature is not 64 bytes (r || s)' }
  if (publicKey.length !== 33) return { ok: false, reason: 'the public key is not a 33-byte compressed key' }
  const signature = Secp256k1Signature.fromFixedLength(signatureBytes)
  if (BigInt('0x' + Buffer.from(signature.s()).toString('hex')) > HALF_ORDER) {
    return { ok: false, reason: 'the signature has a high s (only low-s signatures are accepted)' }
  }
  for (const form of signed.forms) {
    try {
      if (Secp256k1.verifySignature(signature, signingDigest(form), publicKey)) return { ok: true }
    } catch {
      return { ok: false, reason: 'the public key is not a point on secp256k1' }
    }
  }
  return { ok: false, reason: 'the signature does not match the intent and public key' }
}
