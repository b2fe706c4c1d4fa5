/**
 * Translation 1.0 <-> 2.0 (docs/specification.md section 8). Upward every 1.0 intent has a 2.0 form that carries the 1.0
 * signature (`auth.signed_version = "1.0"`); downward only the 2.0 intents that 1.0 can express translate, and
 * the rest are refused with the reasons, never cut to fit. Responses translate both ways (the upstream's
 * version to the client's); they are not reversible in general (1.0 has one `pending` for four 2.0 stages).
 */
import { NotRepresentableError } from '../../errors.js'
import type { TranslationStep } from '../spec.js'
import { MAX_SAFE } from '../schema-parts.js'
import type { IntentV1, StatusResponseV1, StatusV1, SubmitResponseV1 } from '../schemas/v1_0.js'
import type { FillV2, IntentV2, StatusResponseV2, StatusV2, SubmitResponseV2 } from '../schemas/v2_0.js'

const V1 = '1.0'
const V2 = '2.0'

const WORKING_V2 = new Set<string>(['accepted', 'matched', 'escrowed', 'ibc_in_flight'])

function statusToV1 (status: StatusV2): StatusV1 {
  return WORKING_V2.has(status) ? 'pending' : status as StatusV1
}

/** 1.0 `pending` is at least `accepted`; claiming a later stage would be a guess. */
function statusToV2 (status: StatusV1): StatusV2 {
  return status === 'pending' ? 'accepted' : status
}

const up: TranslationStep = {
  from: V1,
  to: V2,
  reversible: true,
  migrateIntent (body) {
    const intent = body as IntentV1
    const out: IntentV2 = {
      version: V2,
      owner: intent.user,
      origin_chain_id: intent.input.chain_id,
      inputs: [intent.input],
      outputs: [intent.output],
      fill_deadline: intent.deadline,
      nonce: String(intent.nonce),
      auth: { scheme: 'secp256k1', public_key: intent.public_key, signature: intent.signature, signed_version: V1 }
    }
    return out
  },
  migrateSubmitResponse (body) {
    const res = body as SubmitResponseV1
    const out: SubmitResponseV2 = { intent_id: res.id, status: statusToV2(res.status), version: V2 }
    return out
  },
  migrateStatusResponse (body) {
    const res = body as StatusResponseV1
    const filled = res.filled_amount !== '0' || res.tx_hash !== null
    const out: StatusResponseV2 = {
      intent_id: res.id,
      status: statusToV2(res.status),
      // 1.0 keeps only the sum and the last hash, and never the solver: one fill stands for all of them.
      fills: filled ? [{ solver: '', amount: res.filled_amount, tx_hash: res.tx_hash ?? '' }] : [],
      // 1.0 has no timestamp; the status is current as of this read.
      updated_at: Math.floor(Date.now() / 1000)
    }
    return out
  },
  reverse: () => down
}

const down: TranslationStep = {
  from: V2,
  to: V1,
  reversible: true,
  migrateIntent (body) {
    const intent = body as IntentV2
    const reasons = whyNotV1(intent)
    if (reasons.length > 0) throw new NotRepresentableError(V2, V1, reasons.join('; '))
    const input = intent.inputs[0] as IntentV2['inputs'][number]
    const output = intent.outputs[0] as IntentV2['outputs'][number]
    const out: IntentV1 = {
      version: V1,
      user: intent.owner,
      input,
      output,
      deadline: intent.fill_deadline,
      nonce: Number(intent.nonce),
      public_key: intent.auth.public_key,
      signature: intent.auth.signature
    }
    return out
  },
  migrateSubmitResponse (body) {
    const res = body as SubmitResponseV2
    const out: SubmitResponseV1 = { id: res.intent_id, status: statusToV1(res.status), version: V1 }
    return out
  },
  migrateStatusResponse (body) {
    const res = body as StatusResponseV2
    const out: StatusResponseV1 = {
      id: res.intent_id,
      status: statusToV1(res.status),
      filled_amount: sumAmounts(res.fills),
      tx_hash: res.fills.length > 0 ? (res.fills[res.fills.length - 1] as FillV2).tx_hash || null : null
    }
    return out
  },
  reverse: () => up
}

/** Every reason a 2.0 intent has no 1.0 form; empty when it has one. */
function whyNotV1 (intent: IntentV2): string[] {
  const reasons: string[] = []
  if (intent.inputs.length !== 1) reasons.push(`1.0 carries exactly one input, this intent has ${intent.inputs.length}`)
  if (intent.outputs.length !== 1) reasons.push(`1.0 carries exactly one output, this intent has ${intent.outputs.length}`)
  const inputChain = intent.inputs[0]?.chain_id
  if (intent.origin_chain_id !== inputChain) {
    reasons.push(`1.0 has no origin chain of its own: origin_chain_id '${intent.origin_chain_id}' differs from the input's chain '${String(inputChain)}'`)
  }
  if (intent.open_deadline !== undefined) reasons.push('1.0 has no open_deadline')
  if (intent.max_solver_fee_bps !== undefined) reasons.push('1.0 has no max_solver_fee_bps')
  if (intent.nonce.length > 16 || Number(intent.nonce) > MAX_SAFE) reasons.push(`nonce ${intent.nonce} is beyond 2^53 - 1, the largest nonce 1.0 carries`)
  if (intent.auth.scheme === 'adr036') {
    reasons.push('the signature is a wallet\'s ADR-036 signature (auth.scheme "adr036") over the 2.0 form, and a 1.0 intent carries only a raw secp256k1 signature over 1.0 bytes')
  } else if (intent.auth.signed_version !== V1) {
    reasons.push(`the signature covers the ${intent.auth.signed_version} form (auth.signed_version), and a signature over 2.0 bytes cannot travel in a 1.0 intent`)
  }
  return reasons
}

function sumAmounts (fills: readonly FillV2[]): string {
  if (fills.length === 1) return (fills[0] as FillV2).amount
  let sum = 0n
  for (const fill of fills) sum += BigInt(fill.amount)
  return sum.toString()
}

export const step: TranslationStep = up
