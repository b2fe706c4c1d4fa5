// An intent format of one's own, added to an installed gateway without forking it (docs/extending.md): version
// 3.0, one asset in and one out under shorter names, and its translation to and from the shipped 2.0. Name this
// file in `[versions] modules`; the gateway then validates, verifies, translates and lists 3.0 like its own.
//
// A 3.0 client signs SHA-256 of the canonical JSON of its intent without `auth.signature` (`signingDigest` below).
// Translated to 2.0, the intent keeps that signature and says so (`auth.signed_version = "3.0"`): a 2.0 service
// that loads this file too (the sample service's `--versions-module`) rebuilds the 3.0 form to check it.
import {
  Address, Amount, ChainId, DecimalNonce, Denom, NotRepresentableError, OneOf, PositiveAmount, PublicKeyB64, SignatureB64,
  Type, UnixSeconds, stringField
} from 'intent-gate/versions'

const V2 = '2.0'
const V3 = '3.0'

/** 3.0's states: 2.0's, with `accepted` spelled `received`. */
const STATES = ['received', 'matched', 'escrowed', 'ibc_in_flight', 'settled', 'refunded', 'cancelled', 'expired', 'failed']
const toV3State = (status) => status === 'accepted' ? 'received' : status
const toV2State = (state) => state === 'received' ? 'accepted' : state

const IntentSchema = Type.Object({
  version: Type.Optional(Type.Literal(V3)),
  owner: Address(),
  from: Type.Object({ chain_id: ChainId(), denom: Denom(), amount: PositiveAmount() }, { additionalProperties: false }),
  to: Type.Object({ chain_id: ChainId(), denom: Denom(), min_amount: Amount(), recipient: Address() }, { additionalProperties: false }),
  expires_at: UnixSeconds(),
  nonce: DecimalNonce(),
  auth: Type.Object({ public_key: PublicKeyB64(), signature: SignatureB64() }, { additionalProperties: false })
}, { additionalProperties: false })

/** @type {import('intent-gate/versions').VersionSpec} */
export const spec = {
  version: V3,
  intentSchema: IntentSchema,
  submitResponseSchema: Type.Object({ id: Type.String({ minLength: 1 }), state: OneOf(STATES), version: Type.Literal(V3) }),
  statusResponseSchema: Type.Object({ id: Type.String({ minLength: 1 }), state: OneOf(STATES), updated_at: UnixSeconds() }),
  crossFieldErrors: (intent) => intent.from.chain_id === intent.to.chain_id
    ? [{ field: '/to/chain_id', message: 'must differ from from.chain_id (3.0 moves assets between chains)' }]
    : [],
  deadlineField: '/expires_at',
  identity: (intent) => ({ owner: intent.owner, nonce: intent.nonce, deadline: intent.expires_at }),
  auth: (intent) => ({ scheme: 'secp256k1', publicKey: intent.auth.public_key, signature: intent.auth.signature, signedVersion: V3 }),
  unsigned: (intent) => ({ ...intent, auth: { public_key: intent.auth.public_key } }),
  intentIdOf: (body) => stringField(body, 'id'),
  statusOf: (body) => stringField(body, 'state')
}

/** @type {import('intent-gate/versions').TranslationStep} */
const down = {
  from: V3,
  to: V2,
  reversible: true,
  migrateIntent: ({ owner, from, to, expires_at: fillDeadline, nonce, auth }) => ({
    version: V2,
    owner,
    origin_chain_id: from.chain_id,
    inputs: [from],
    outputs: [to],
    fill_deadline: fillDeadline,
    nonce,
    auth: { scheme: 'secp256k1', public_key: auth.public_key, signature: auth.signature, signed_version: V3 }
  }),
  migrateSubmitResponse: (body) => ({ intent_id: body.id, status: toV2State(body.state), version: V2 }),
  migrateStatusResponse: (body) => ({ intent_id: body.id, status: toV2State(body.state), fills: [], updated_at: body.updated_at }),
  reverse: () => up
}

/** @type {import('intent-gate/versions').TranslationStep} */
const up = {
  from: V2,
  to: V3,
  reversible: true,
  migrateIntent (intent) {
    const reasons = whyNotV3(intent)
    if (reasons.length > 0) throw new NotRepresentableError(V2, V3, reasons.join('; '))
    return {
      version: V3,
      owner: intent.owner,
      from: intent.inputs[0],
      to: intent.outputs[0],
      expires_at: intent.fill_deadline,
      nonce: intent.nonce,
      auth: { public_key: intent.auth.public_key, signature: intent.auth.signature }
    }
  },
  migrateSubmitResponse: (body) => ({ id: body.intent_id, state: toV3State(body.status), version: V3 }),
  migrateStatusResponse: (body) => ({ id: body.intent_id, state: toV3State(body.status), updated_at: body.updated_at }),
  reverse: () => down
}

/** Every reason a 2.0 intent has no 3.0 form (never cut to fit: the gateway answers 422 with these). */
function whyNotV3 (intent) {
  const reasons = []
  if (intent.inputs.length !== 1 || intent.outputs.length !== 1) reasons.push('3.0 carries exactly one input and one output')
  if (intent.origin_chain_id !== intent.inputs[0].chain_id) reasons.push("3.0's origin chain is its input's chain")
  if (intent.open_deadline !== undefined || intent.max_solver_fee_bps !== undefined) reasons.push('3.0 has no open_deadline or max_solver_fee_bps')
  if (intent.auth.scheme !== 'secp256k1' || intent.auth.signed_version !== V3) reasons.push('only a signature over the 3.0 form travels in a 3.0 intent')
  return reasons
}

export const steps = [down]
