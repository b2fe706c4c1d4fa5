/**
 * A wallet in miniature for tests, the bench and the demo: a real secp256k1 key (the `@cosmjs/crypto` a Cosmos
 * wallet uses) that builds and signs valid 1.0 and 2.0 intents as docs/specification.md section 8 says: SHA-256 over the
 * canonical bytes of the intent without its signature, 64-byte low-s `r || s`, base64.
 */
import { Bip39, EnglishMnemonic, Random, Secp256k1, Slip10, Slip10Curve, ripemd160, sha256, stringToPath } from '@cosmjs/crypto'
import { toBase64, toBech32 } from '@cosmjs/encoding'
import { signingDigest } from '../../src/versions/canonical.js'
import type { JsonObject } from '../../src/versions/spec.js'
import type { IntentV1 } from '../../src/versions/schemas/v1_0.js'
import type { IntentV2 } from '../../src/versions/schemas/v2_0.js'

export type { IntentV1, IntentV2 }

export interface Signer {
  /** Bech32 account address with the `cosmos` prefix. */
  readonly address: string
  /** Base64 33-byte compressed public key. */
  readonly publicKey: string
  /** The same account under another chain's prefix (e.g. `osmo` for a recipient). */
  addressFor: (prefix: string) => string
  /** Base64 signature over SHA-256 of the canonical bytes of `unsigned`. */
  sign: (unsigned: JsonObject) => string
  /** 1, 2, 3, ... per signer: each call is a fresh order. */
  nextNonce: () => number
}

/** A signer over `privateKey`, or over a fresh random key. */
export function makeSigner (privateKey?: Uint8Array): Signer {
  const privkey = privateKey ?? randomPrivateKey()
  const publicKeyBytes = Secp256k1.compressPubkey(Secp256k1.makeKeypair(privkey).pubkey)
  const accountHash = ripemd160(sha256(publicKeyBytes))
  let nonce = 0
  return {
    address: toBech32('cosmos', accountHash),
    publicKey: toBase64(publicKeyBytes),
    addressFor: (prefix) => toBech32(prefix, accountHash),
    sign (unsigned) {
      const signature = Secp256k1.createSignature(signingDigest(unsigned), privkey)
      return toBase64(Secp256k1.trimRecoveryByte(signature.toFixedLength()))
    },
    nextNonce: () => ++nonce
  }
}

/** The key a wallet derives from `mnemonic` on the Cosmos path m/44'/118'/0'/0/0. */
export async function signerFromMnemonic (mnemonic: string): Promise<Signer> {
  const seed = await Bip39.mnemonicToSeed(new EnglishMnemonic(mnemonic))
  const { privkey } = Slip10.derivePath(Slip10Curve.Secp256k1, seed, stringToPath("m/44'/118'/0'/0/0"))
  return makeSigner(privkey)
}

function randomPrivateKey (): Uint8Array {
  for (;;) {
    const candidate = Random.getBytes(32)
    try {
      Secp256k1.makeKeypair(candidate)
      return candidate
    } catch {
      // Out of the curve's range (probability ~2^-128): draw again.
    }
  }
}

const HOUR = 3600
const nowSecs = (): number => Math.floor(Date.now() / 1000)

export type IntentV1Fields = Partial<Omit<IntentV1, 'public_key' | 'signature'>>

/** A signed 1.0 intent: sensible defaults, overridden by `fields` (a field set to undefined is left out). */
export function signIntentV1 (signer: Signer, fields: IntentV1Fields = {}): IntentV1 {
  const unsigned = dropUndefined({
    version: '1.0',
    user: signer.address,
    input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1000000' },
    output: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient: signer.addressFor('osmo') },
    deadline: nowSecs() + HOUR,
    nonce: signer.nextNonce(),
    public_key: signer.publicKey,
    ...fields
  })
  return { ...unsigned, signature: signer.sign(unsigned) } as IntentV1
}

export type IntentV2Fields = Partial<Omit<IntentV2, 'auth'>>

/** A signed 2.0 intent (`auth.signed_version` "2.0"), defaults overridden by `fields`. */
export function signIntentV2 (signer: Signer, fields: IntentV2Fields = {}): IntentV2 {
  const unsigned = dropUndefined({
    version: '2.0',
    owner: signer.address,
    origin_chain_id: 'cosmoshub-4',
    inputs: [{ chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1000000' }],
    outputs: [{ chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient: signer.addressFor('osmo') }],
    fill_deadline: nowSecs() + HOUR,
    nonce: String(signer.nextNonce()),
    ...fields,
    auth: { scheme: 'secp256k1', public_key: signer.publicKey, signed_version: '2.0' }
  })
  const auth = { ...(unsigned['auth'] as JsonObject), signature: signer.sign(unsigned) }
  return { ...unsigned, auth } as IntentV2
}

function dropUndefined (obj: JsonObject): JsonObject {
  for (const key of Object.keys(obj)) if (obj[key] === undefined) delete obj[key]
  return obj
}
