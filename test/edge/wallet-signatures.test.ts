// Wallet signatures end to end: a 2.0 intent signed with auth.scheme "adr036" by cosmjs's amino wallet (the
// signature a browser wallet's signArbitrary returns) through a real gateway process to a real sample service.
// Accepted; a changed field, or another wallet's valid signature under this owner, is a 401 at the gateway and
// never forwarded; the sample service makes the same checks on its own (gateway verification off); and in
// front of a 1.0-only service the intent is a 422 not-representable, since its signature cannot travel in 1.0.
import t from 'tap'
import { canonicalJson, signIntent, walletSigner, type IntentDraftV2, type IntentV2 } from '../../src/client/index.js'
import { request } from '../helpers/gateway.js'
import { cosmjsWallet } from '../helpers/wallet.js'
import { serviceStats, startEdgeWithService } from './harness.js'

// Real processes per test (redis-server, gateway, service) on a shared 2-core machine: see owner-spoofing.test.ts.
t.setTimeout(360_000)

const CHAIN = 'cosmoshub-4'
const alice = await cosmjsWallet()
const mallory = await cosmjsWallet()
let nonce = 0

function draft (fields: Partial<IntentDraftV2> = {}): IntentDraftV2 {
  return {
    origin_chain_id: CHAIN,
    inputs: [{ chain_id: CHAIN, denom: 'uatom', amount: '1000000' }],
    outputs: [{ chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient: alice.address }],
    fill_deadline: Math.floor(Date.now() / 1000) + 3600,
    nonce: String(++nonce),
    ...fields
  }
}

const signed = async (fields: Partial<IntentDraftV2> = {}): Promise<IntentV2> => await signIntent(walletSigner(alice, CHAIN), draft(fields))

/**
 * Mallory's order naming Alice as owner and `publicKey` as the key, signed by Mallory's wallet (which, like any
 * wallet, signs only for its own address).
 */
async function forged (publicKey: string): Promise<IntentV2> {
  const unsigned = { version: '2.0' as const, owner: alice.address, ...draft(), auth: { scheme: 'adr036' as const, public_key: publicKey, signed_version: '2.0' } }
  const { signature } = await mallory.signArbitrary(CHAIN, mallory.address, canonicalJson(unsigned))
  return { ...unsigned, auth: { ...unsigned.auth, signature } }
}

t.test('in front of a 2.0 service: accepted; tampered and foreign signatures are 401 at the gateway', async (t) => {
  const edge = await startEdgeWithService(t, '2.0')
  const intent = await signed()
  t.equal(intent.auth.scheme, 'adr036')
  const accepted = await edge.submit(intent, { 'idempotency-key': 'wallet-1' })
  t.equal(accepted.status, 202, 'the wallet-signed intent is accepted')
  t.match(accepted.body, { intent_id: /^int_/, status: 'accepted', version: '2.0' })

  const tampered = { ...intent, outputs: [{ ...intent.outputs[0], min_amount: '1' }] }
  // Mallory's valid signature on an order naming Alice: with its own key the owner check fails, with Alice's
  // key named the signature does not verify.
  const foreignOwnKey = await forged(mallory.publicKey)
  const foreignAlicesKey = await forged(alice.publicKey)
  for (const [what, body, check] of [['a changed min_amount', tampered, 'signature'], ["another wallet's signature under this owner, its own key", foreignOwnKey, 'owner'], ["another wallet's signature under this owner, the owner's key", foreignAlicesKey, 'signature']] as const) {
    const refused = await edge.submit(body)
    t.equal(refused.status, 401, what)
    t.equal(refused.body.type, 'urn:intent-gate:problem:signature-invalid')
    t.match(refused.body.detail, `(${check})`)
  }
  const stats = await serviceStats(edge.service)
  t.equal(stats.accepted, 1, 'only the genuine intent reached the service')
  t.equal(stats.refused['bad_signature'], 0, 'the service never had to refuse one')
})

t.test('the sample service verifies wallet signatures on its own', async (t) => {
  const edge = await startEdgeWithService(t, '2.0', 'verify_signatures = false')
  const intent = await signed()
  const direct = await request(`${edge.service.url}/intents`, { body: intent })
  t.equal(direct.status, 202, 'the service accepts the wallet-signed intent')
  const tampered = { ...intent, nonce: '999999' }
  const refused = await edge.submit(tampered)
  t.equal(refused.status, 401, "the service's own 401 passes through the gateway")
  t.equal(refused.body.type, 'urn:intent-service:problem:bad-signature')
  const foreign = await forged(mallory.publicKey)
  const foreignDirect = await request(`${edge.service.url}/intents`, { body: foreign })
  t.equal(foreignDirect.status, 401)
  t.match(foreignDirect.body.detail, /owner/)
  t.equal((await serviceStats(edge.service)).accepted, 1)
})

t.test('in front of a 1.0-only service: 422 not-representable, nothing forwarded', async (t) => {
  const edge = await startEdgeWithService(t, '1.0')
  // One input, one output, no 2.0-only field: only the wallet signature keeps it from 1.0.
  const refused = await edge.submit(await signed())
  t.equal(refused.status, 422)
  t.equal(refused.body.type, 'urn:intent-gate:problem:not-representable')
  t.match(refused.body.detail, /ADR-036/)
  t.equal((await serviceStats(edge.service)).accepted, 0)
})
