/**
 * Intent format 2.0 (docs/specification.md section 8): several assets, an origin chain, two deadlines, a fee bound, and an
 * `auth` block whose `signed_version` says which version's canonical bytes the signature covers.
 */
import { Type, type Static } from '@sinclair/typebox'
import type { VersionSpec } from '../spec.js'
import type { FieldError } from '../types.js'
import { Address, Amount, ChainId, DecimalNonce, Denom, PositiveAmount, PublicKeyB64, SignatureB64, UnixSeconds, VersionLabel, OneOf, stringField } from '../schema-parts.js'

export const VERSION = '2.0'

/** More would be a batch, not an intent; the bound keeps a hostile body cheap to validate. */
const MAX_ASSETS = 16

export const InputV2Schema = Type.Object({
  chain_id: ChainId(),
  denom: Denom(),
  amount: PositiveAmount()
}, { additionalProperties: false })

export const OutputV2Schema = Type.Object({
  chain_id: ChainId(),
  denom: Denom(),
  min_amount: Amount(),
  recipient: Address()
}, { additionalProperties: false })

/**
 * `secp256k1`: a raw signature over SHA-256 of the canonical bytes. `adr036`: what a Cosmos wallet's
 * signArbitrary returns over those bytes (../adr036.ts); it always covers the 2.0 form.
 */
export const AUTH_SCHEMES = ['secp256k1', 'adr036'] as const

export const AuthV2Schema = Type.Object({
  scheme: OneOf(AUTH_SCHEMES),
  public_key: PublicKeyB64(),
  signature: SignatureB64(),
  signed_version: VersionLabel()
}, { additionalProperties: false })

export const IntentV2Schema = Type.Object({
  version: Type.Optional(Type.Literal(VERSION)),
  owner: Address(),
  origin_chain_id: ChainId(),
  inputs: Type.Array(InputV2Schema, { minItems: 1, maxItems: MAX_ASSETS }),
  outputs: Type.Array(OutputV2Schema, { minItems: 1, maxItems: MAX_ASSETS }),
  open_deadline: Type.Optional(UnixSeconds()),
  fill_deadline: UnixSeconds(),
  nonce: DecimalNonce(),
  max_solver_fee_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  auth: AuthV2Schema
}, { additionalProperties: false })

export const STATUSES_V2 = ['accepted', 'matched', 'escrowed', 'ibc_in_flight', 'settled', 'refunded', 'cancelled', 'expired', 'failed'] as const

export const SubmitResponseV2Schema = Type.Object({
  intent_id: Type.String({ minLength: 1 }),
  status: OneOf(STATUSES_V2),
  version: Type.Literal(VERSION)
})

export const FillV2Schema = Type.Object({
  solver: Type.String(),
  amount: Amount(),
  tx_hash: Type.String()
})

export const StatusResponseV2Schema = Type.Object({
  intent_id: Type.String({ minLength: 1 }),
  status: OneOf(STATUSES_V2),
  fills: Type.Array(FillV2Schema),
  updated_at: UnixSeconds()
})

export type IntentV2 = Static<typeof IntentV2Schema>
export type SubmitResponseV2 = Static<typeof SubmitResponseV2Schema>
export type StatusResponseV2 = Static<typeof StatusResponseV2Schema>
export type FillV2 = Static<typeof FillV2Schema>
export type StatusV2 = typeof STATUSES_V2[number]

export const spec: VersionSpec = {
  version: VERSION,
  intentSchema: IntentV2Schema,
  submitResponseSchema: SubmitResponseV2Schema,
  statusResponseSchema: StatusResponseV2Schema,
  crossFieldErrors (body) {
    const intent = body as IntentV2
    const errors: FieldError[] = []
    if (intent.open_deadline !== undefined && intent.open_deadline > intent.fill_deadline) {
      errors.push({ field: '/open_deadline', message: `must not be after fill_deadline (${intent.fill_deadline})` })
    }
    if (intent.auth.scheme === 'adr036' && intent.auth.signed_version !== VERSION) {
      // A wallet signs the bytes it is given: only the 2.0 form a 2.0 intent carries (1.0 has no adr036).
      errors.push({ field: '/auth/signed_version', message: `must be "${VERSION}" with auth.scheme "adr036"` })
    }
    return errors
  },
  deadlineField: '/fill_deadline',
  identity (body) {
    const intent = body as IntentV2
    return { owner: intent.owner, nonce: intent.nonce, deadline: intent.fill_deadline }
  },
  auth (body) {
    const { auth } = body as IntentV2
    return { scheme: auth.scheme, publicKey: auth.public_key, signature: auth.signature, signedVersion: auth.signed_version }
  },
  signaturePath: ['auth', 'signature'],
  unsigned (body) {
    const { signature: _signature, ...auth } = (body as IntentV2).auth
    return { ...body, auth }
  },
  intentIdOf: (body) => stringField(body, 'intent_id'),
  statusOf: (body) => stringField(body, 'status')
}
