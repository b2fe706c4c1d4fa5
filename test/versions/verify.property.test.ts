/**
 * Issue 10's verification properties, in process through the catalog's verifySignature (the check the gateway
 * runs before it registers anything, src/versions/verify.ts):
 *   - any single-byte change to a signed intent's JSON (its signed fields or its signature) gives either a body
 *     the schema refuses (400 at the gateway) or an intent that does not verify (401): never an accepted one;
 *   - every intent the sandbox client signs, in 1.0 or 2.0, and its translations, verify; and a sample of them
 *     is accepted by the sample service process, whose check is the same code.
 */
import t from 'tap'
import fc from 'fast-check'
import { makeSigner, signIntentV1, signIntentV2, type Signer } from '../../sandbox/client/index.js'
import { createVersionCatalog } from '../../src/versions/index.js'
import { startService } from '../helpers/gateway.js'

// Signing in pure JS (cosmjs) and a service process: on the shared 2-core machine this file has taken 115 s of
// tap's 180 s under load, so it gets twice that.
t.setTimeout(360_000)

const catalog = createVersionCatalog()
const signers: Signer[] = Array.from({ length: 4 }, () => makeSigner())
const nowSecs = Math.floor(Date.now() / 1000)

const digits = fc.bigInt({ min: 1n, max: 10n ** 30n }).map(String)
const denom = fc.stringMatching(/^[a-z][a-z0-9/]{2,20}$/)
const chain = fc.constantFrom('cosmoshub-4', 'osmosis-1', 'neutron-1', 'noble-1')

/** The fields a client chooses for a 1.0 intent (the signer fills in user, public_key, signature). */
const fieldsV1 = fc.record({
  signer: fc.nat({ max: signers.length - 1 }),
  amount: digits,
  min: digits,
  denomIn: denom,
  denomOut: denom,
  chainIn: chain,
  chainOut: chain,
  deadline: fc.integer({ min: nowSecs + 60, max: nowSecs + 604800 }),
  nonce: fc.nat({ max: Number.MAX_SAFE_INTEGER })
})

type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never

function intentV1 (f: Generated<typeof fieldsV1>): Record<string, any> {
  const s = signers[f.signer] as Signer
  return signIntentV1(s, {
    input: { chain_id: f.chainIn, denom: f.denomIn, amount: f.amount },
    output: { chain_id: f.chainOut, denom: f.denomOut, min_amount: f.min, recipient: s.addressFor('osmo') },
    deadline: f.deadline,
    nonce: f.nonce
  })
}

const fieldsV2 = fc.record({
  signer: fc.nat({ max: signers.length - 1 }),
  inputs: fc.array(fc.record({ chain_id: chain, denom, amount: digits }), { minLength: 1, maxLength: 3 }),
  outputs: fc.array(fc.record({ chain_id: chain, denom, min_amount: digits }), { minLength: 1, maxLength: 3 }),
  fill: fc.integer({ min: nowSecs + 60, max: nowSecs + 604800 }),
  open: fc.option(fc.integer({ min: nowSecs, max: nowSecs + 60 }), { nil: undefined }),
  fee: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
  nonce: fc.bigInt({ min: 0n, max: 2n ** 128n }).map(String)
})

function intentV2 (f: Generated<typeof fieldsV2>): Record<string, any> {
  const s = signers[f.signer] as Signer
  return signIntentV2(s, {
    origin_chain_id: f.inputs[0]?.chain_id,
    inputs: f.inputs,
    outputs: f.outputs.map((o) => ({ ...o, recipient: s.addressFor('osmo') })),
    fill_deadline: f.fill,
    open_deadline: f.open,
    max_solver_fee_bps: f.fee,
    nonce: f.nonce
  })
}

/** A signed intent of either version, or a 1.0 one translated to 2.0 (signed_version "1.0"). */
const signed = fc.oneof(
  fieldsV1.map((f) => ({ version: '1.0', intent: intentV1(f) })),
  fieldsV2.map((f) => ({ version: '2.0', intent: intentV2(f) })),
  fieldsV1.map((f) => ({ version: '2.0', intent: catalog.translateIntent(intentV1(f), '1.0', '2.0') as Record<string, any> }))
)

function verifies (version: string, body: unknown): boolean {
  const v = catalog.validateIntent(version, body)
  if (!v.ok) throw new Error(`a client-signed ${version} intent is invalid: ${JSON.stringify(v.errors)}`)
  return catalog.verifySignature(version, v.intent).ok
}

t.test('every intent the sandbox client signs verifies, translated or not', async (t) => {
  fc.assert(fc.property(signed, ({ version, intent }) => verifies(version, intent)), { numRuns: 200 })
  fc.assert(fc.property(fieldsV1, (f) => verifies('2.0', catalog.translateIntent(intentV1(f), '1.0', '2.0'))), { numRuns: 50 })
  t.pass('200 + 50 generated intents')
})

// Signing is the slow part (cosmjs, pure JS): the mutation properties draw from a pool signed once.
const pool = fc.sample(signed, { numRuns: 60, seed: 42 })
const pooled = fc.nat({ max: pool.length - 1 }).map((i) => pool[i] as { version: string, intent: Record<string, any> })

t.test('any single-byte change to a signed intent is refused: by the schema, or as a 401', async (t) => {
  let unverified = 0
  let onSignature = 0
  fc.assert(fc.property(pooled, fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), ({ version, intent }, at, byte) => {
    const bytes = Buffer.from(JSON.stringify(intent))
    const p = at % bytes.length
    fc.pre(bytes[p] !== byte)
    bytes[p] = byte
    let body: unknown
    try {
      body = JSON.parse(bytes.toString())
    } catch {
      return true // 400 at the gateway: not JSON
    }
    const checked = catalog.validateIntent(version, body)
    if (!checked.ok) return true // 400: refused before verification
    unverified++
    if (bytes.toString().indexOf('"signature":"') < p && p < bytes.toString().indexOf('"signature":"') + 100) onSignature++
    return !catalog.verifySignature(version, checked.intent).ok
  }), { numRuns: 3000 })
  t.ok(unverified > 300, `${unverified} of the mutants were schema-valid intents, and none verified`)
  t.ok(onSignature > 10, `${onSignature} of them changed the signature`)
})

t.test('a change to the signature alone, one base64 character at a time, is a 401', async (t) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  let valid = 0
  fc.assert(fc.property(pooled, fc.nat({ max: 87 }), fc.constantFrom(...alphabet), ({ version, intent }, at, c) => {
    const copy = structuredClone(intent)
    const holder = version === '1.0' ? copy : copy['auth']
    const sig = holder.signature as string
    fc.pre(sig[at] !== c)
    holder.signature = sig.slice(0, at) + c + sig.slice(at + 1)
    const checked = catalog.validateIntent(version, copy)
    if (!checked.ok) return true
    valid++
    return !catalog.verifySignature(version, checked.intent).ok
  }), { numRuns: 1000 })
  t.ok(valid > 900, `${valid} schema-valid signature changes, none verified`)
})

t.test('the high-s twin of a valid signature is refused as high_s (one order, one signature)', async (t) => {
  const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')
  const intent = signIntentV1(signers[0] as Signer)
  const sig = Buffer.from(intent.signature, 'base64')
  const s = BigInt('0x' + sig.subarray(32).toString('hex'))
  const twin = Buffer.concat([sig.subarray(0, 32), Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex')]).toString('base64')
  const verdict = catalog.verifySignature('1.0', { ...intent, signature: twin })
  t.match(verdict, { ok: false, check: 'high_s' })
})

t.test('a sample of client-signed intents is accepted by the sample service process (the same check)', async (t) => {
  const service = await startService(t, { versions: '1.0,2.0', settleMs: 600_000 })
  // One intent per owner and nonce (fast-check likes small nonces): the service would rightly call a repeat a reuse.
  const seen = new Set<string>()
  const sample = pool.filter(({ intent }) => {
    const id = `${String(intent['user'] ?? intent['owner'])}:${String(intent['nonce'])}`
    if (seen.has(id)) return false
    seen.add(id)
    return true
  }).slice(0, 30)
  t.ok(sample.length >= 20, `${sample.length} distinct orders`)
  for (const { version, intent } of sample) {
    t.ok(verifies(version, intent), 'the gateway check')
    const res = await fetch(`${service.url}/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(intent) })
    const body = await res.json() as { detail?: string }
    t.equal(res.status, 202, `the service accepts it too${res.status === 202 ? '' : `: ${body.detail ?? ''}`}`)
  }
  const tampered = structuredClone(sample[0]?.intent) as Record<string, any>
  if (sample[0]?.version === '1.0') tampered['nonce'] = tampered['nonce'] + 1
  else tampered['nonce'] = `${String(tampered['nonce'])}1`
  const res = await fetch(`${service.url}/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(tampered) })
  t.equal(res.status, 401, 'and refuses a tampered one, as the gateway would')
})
