/**
 * fast-check generators of schema-valid 1.0 and 2.0 intents (signatures are well-formed bytes, not real
 * signatures: these tests are about shape and translation, test/versions/signing.test.ts about signatures).
 */
import fc from 'fast-check'

const b64 = (length: number) => fc.uint8Array({ minLength: length, maxLength: length }).map((bytes) => Buffer.from(bytes).toString('base64'))
const address = fc.stringMatching(/^[a-z]{1,8}1[02-9ac-hj-np-z]{6,40}$/)
const chainId = fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/)
const denom = fc.stringMatching(/^[A-Za-z][A-Za-z0-9/:._-]{0,24}$/)
const amount = fc.bigInt({ min: 1n, max: 10n ** 40n }).map(String)
const minAmount = fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String)
const seconds = fc.maxSafeNat()

const input = fc.record({ chain_id: chainId, denom, amount })
const output = fc.record({ chain_id: chainId, denom, min_amount: minAmount, recipient: address })

/** Any valid 1.0 body; about a third leave out `version` (read as the default). */
export const intentV1 = fc.record({
  version: fc.constant('1.0'),
  user: address,
  input,
  output,
  deadline: seconds,
  nonce: fc.maxSafeNat(),
  public_key: b64(33),
  signature: b64(64)
}, { requiredKeys: ['user', 'input', 'output', 'deadline', 'nonce', 'public_key', 'signature'] })

/**
 * A valid 2.0 body. Half are shaped to fit 1.0 and then (or not) broken in one random way; the other half cross
 * each of 1.0's limits independently, so both the expressible and the refused branch get many cases.
 */
const anyV2 = fc.record({
  owner: address,
  inputs: fc.array(input, { minLength: 1, maxLength: 3 }),
  outputs: fc.array(output, { minLength: 1, maxLength: 3 }),
  originIsInputChain: fc.boolean(),
  otherOrigin: chainId,
  fill_deadline: seconds,
  openBefore: fc.option(fc.nat(), { nil: undefined }),
  max_solver_fee_bps: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
  nonce: fc.oneof(fc.maxSafeNat().map(BigInt), fc.bigInt({ min: 0n, max: 10n ** 30n })).map(String),
  signed_version: fc.constantFrom('1.0', '2.0'),
  public_key: b64(33),
  signature: b64(64)
}).map((g) => {
  const firstChain = g.inputs[0]!.chain_id
  const body: Record<string, unknown> = {
    version: '2.0',
    owner: g.owner,
    origin_chain_id: g.originIsInputChain ? firstChain : g.otherOrigin,
    inputs: g.inputs,
    outputs: g.outputs,
    fill_deadline: g.fill_deadline,
    nonce: g.nonce,
    auth: { scheme: 'secp256k1', public_key: g.public_key, signature: g.signature, signed_version: g.signed_version }
  }
  if (g.openBefore !== undefined) body['open_deadline'] = Math.max(0, g.fill_deadline - g.openBefore)
  if (g.max_solver_fee_bps !== undefined) body['max_solver_fee_bps'] = g.max_solver_fee_bps
  return body
})

const V1_LIMITS = ['input', 'output', 'origin_chain_id', 'open_deadline', 'max_solver_fee_bps', 'nonce', 'signed_version'] as const

const nearlyV1 = fc.record({
  base: anyV2,
  extraAsset: input,
  extraOutput: output,
  breaks: fc.option(fc.constantFrom(...V1_LIMITS), { nil: undefined, freq: 2 })
}).map(({ base, extraAsset, extraOutput, breaks }) => {
  const inputs = base['inputs'] as Array<Record<string, unknown>>
  const body: Record<string, unknown> = {
    ...base,
    inputs: [inputs[0]],
    outputs: [(base['outputs'] as unknown[])[0]],
    origin_chain_id: inputs[0]!['chain_id'],
    nonce: String(BigInt(base['nonce'] as string) % BigInt(Number.MAX_SAFE_INTEGER)),
    auth: { ...(base['auth'] as Record<string, unknown>), signed_version: '1.0' }
  }
  delete body['open_deadline']
  delete body['max_solver_fee_bps']
  switch (breaks) {
    case 'input': body['inputs'] = [inputs[0], extraAsset]; break
    case 'output': body['outputs'] = [(body['outputs'] as unknown[])[0], extraOutput]; break
    case 'origin_chain_id': body['origin_chain_id'] = `${String(body['origin_chain_id'])}-x`; break
    case 'open_deadline': body['open_deadline'] = 0; break
    case 'max_solver_fee_bps': body['max_solver_fee_bps'] = 30; break
    case 'nonce': body['nonce'] = String(BigInt(Number.MAX_SAFE_INTEGER) + 1n); break
    case 'signed_version': body['auth'] = { ...(body['auth'] as Record<string, unknown>), signed_version: '2.0' }; break
  }
  return body
})

export const intentV2 = fc.oneof(nearlyV1, anyV2)

/** docs/specification.md section 8's list of what 1.0 can express, written out independently of the step. */
export function expressibleInV1 (intent: Record<string, any>): string[] {
  const broken: string[] = []
  if (intent['inputs'].length !== 1) broken.push('input')
  if (intent['outputs'].length !== 1) broken.push('output')
  if (intent['origin_chain_id'] !== intent['inputs'][0].chain_id) broken.push('origin_chain_id')
  if ('open_deadline' in intent) broken.push('open_deadline')
  if ('max_solver_fee_bps' in intent) broken.push('max_solver_fee_bps')
  if (BigInt(intent['nonce']) > BigInt(Number.MAX_SAFE_INTEGER)) broken.push('nonce')
  if (intent['auth'].signed_version !== '1.0') broken.push('signed_version')
  return broken
}

const statusV2 = fc.constantFrom('accepted', 'matched', 'escrowed', 'ibc_in_flight', 'settled', 'refunded', 'cancelled', 'expired', 'failed')
const statusV1 = fc.constantFrom('pending', 'settled', 'refunded', 'cancelled', 'expired', 'failed')
const intentId = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/)

export const submitResponseV2 = fc.record({ intent_id: intentId, status: statusV2, version: fc.constant('2.0') })
export const submitResponseV1 = fc.record({ id: intentId, status: statusV1, version: fc.constant('1.0') })
export const statusResponseV2 = fc.record({
  intent_id: intentId,
  status: statusV2,
  fills: fc.array(fc.record({ solver: fc.string(), amount: minAmount, tx_hash: fc.stringMatching(/^[0-9A-F]{0,64}$/) }), { maxLength: 4 }),
  updated_at: seconds
})
export const statusResponseV1 = fc.record({
  id: intentId,
  status: statusV1,
  filled_amount: minAmount,
  tx_hash: fc.option(fc.stringMatching(/^[0-9A-F]{1,64}$/), { nil: null })
})
