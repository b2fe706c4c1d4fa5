/**
 * Intent format 1.0 (docs/specification.md section 8): one asset in, one out, a numeric nonce, the signature at the top.
 * Intents are strict (a field 1.0 does not know is refused: it would be signed, and no translation could carry
 * it); responses are lenient (extra fields from a service are ignored).
 */
import { Type, type Static } from '@sinclair/typebox'
import type { VersionSpec } from '../spec.js'
import { Address, Amount, ChainId, Denom, MAX_SAFE, PositiveAmount, PublicKeyB64, SignatureB64, UnixSeconds, OneOf, stringField } from '../schema-parts.js'

export const VERSION = '1.0'

export const IntentV1Schema = Type.Object({
  // Optional: a body without `version` is read as `versions.default`; the catalog then fills it in.
  version: Type.Optional(Type.Literal(VERSION)),
  user: Address(),
  input: Type.Object({
    chain_id: ChainId(),
    denom: Denom(),
    amount: PositiveAmount()
  }, { additionalProperties: false }),
  output: Type.Object({
    chain_id: ChainId(),
    denom: Denom(),
    min_amount: Amount(),
    recipient: Address()
  }, { additionalProperties: false }),
  deadline: UnixSeconds(),
  nonce: Type.Integer({ minimum: 0, maximum: MAX_SAFE }),
  public_key: PublicKeyB64(),
  signature: SignatureB64()
}, { additionalProperties: false })

/** 1.0 reports the four working stages of 2.0 as one: `pending`. */
export const STATUSES_V1 = ['pending', 'settled', 'refunded', 'cancelled', 'expired', 'failed'] as const

export const SubmitResponseV1Schema = Type.Object({
  id: Type.String({ minLength: 1 }),
  status: OneOf(STATUSES_V1),
  version: Type.Literal(VERSION)
})

export const StatusResponseV1Schema = Type.Object({
  id: Type.String({ minLength: 1 }),
  status: OneOf(STATUSES_V1),
  /** The fills' amounts summed. */
  filled_amount: Amount(),
  /** The last fill's transaction hash; null before the first fill. */
  tx_hash: Type.Unsafe<string | null>({ type: ['string', 'null'], minLength: 1 })
})

export type IntentV1 = Static<typeof IntentV1Schema>
export type SubmitResponseV1 = Static<typeof SubmitResponseV1Schema>
export type StatusResponseV1 = Static<typeof StatusResponseV1Schema>
export type StatusV1 = typeof STATUSES_V1[number]

export const spec: VersionSpec = {
  version: VERSION,
  intentSchema: IntentV1Schema,
  submitResponseSchema: SubmitResponseV1Schema,
  statusResponseSchema: StatusResponseV1Schema,
  deadlineField: '/deadline',
  identity (body) {
    const intent = body as IntentV1
    return { owner: intent.user, nonce: String(intent.nonce), deadline: intent.deadline }
  },
  auth (body) {
    const intent = body as IntentV1
    return { scheme: 'secp256k1', publicKey: intent.public_key, signature: intent.signature, signedVersion: VERSION }
  },
  signaturePath: ['signature'],
  unsigned (body) {
    const { signature: _signature, ...rest } = body
    return rest
  },
  intentIdOf: (body) => stringField(body, 'id'),
  statusOf: (body) => stringField(body, 'status')
}
