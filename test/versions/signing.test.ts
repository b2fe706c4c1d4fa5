/**
 * Signatures keep their meaning across translation: a real secp256k1 key signs, the service's verifier accepts
 * the intent natively and translated, and refuses tampering, a lying signed_version, and high-s twins.
 */
import t from 'tap'
import { Secp256k1Signature } from '@cosmjs/crypto'
import { canonicalJson, createVersionCatalog } from '../../src/versions/index.js'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { verifyIntent } from '../../src/versions/verify.js'
import { signedForms } from '../../src/versions/canonical.js'

const catalog = createVersionCatalog()
const signer = makeSigner()

t.test('canonical JSON sorts keys at every level and has no white space', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [3, { z: 'é', y: null }], c: 'x"y' }, u: undefined }), '{"a":{"c":"x\\"y","d":[3,{"y":null,"z":"é"}]},"b":1}')
  t.throws(() => canonicalJson({ a: Number.NaN }))
})

t.test('a signed 1.0 intent verifies natively and after translation to 2.0', async (t) => {
  const intent = signIntentV1(signer)
  t.same(verifyIntent(catalog, '1.0', intent), { ok: true })
  const up = catalog.translateIntent(intent, '1.0', '2.0')
  t.same(verifyIntent(catalog, '2.0', up), { ok: true })
})

t.test('a signed 2.0 intent verifies; flipping its signed_version to 1.0 does not', async (t) => {
  const intent = signIntentV2(signer, { inputs: [{ chain_id: 'cosmoshub-4', denom: 'uatom', amount: '5' }] })
  t.same(verifyIntent(catalog, '2.0', intent), { ok: true })
  const lying = { ...intent, auth: { ...intent.auth, signed_version: '1.0' } }
  t.match(verifyIntent(catalog, '2.0', lying), { ok: false, reason: /does not match/ })
  const multi = signIntentV2(signer, { max_solver_fee_bps: 5 })
  t.match(verifyIntent(catalog, '2.0', { ...multi, auth: { ...multi.auth, signed_version: '1.0' } }), { ok: false, reason: /claims the 1\.0 form.*max_solver_fee_bps/ })
})

t.test('a tampered field fails verification, natively and after translation', async (t) => {
  const intent = signIntentV1(signer)
  const tampered = { ...intent, output: { ...intent.output, min_amount: '1' } }
  t.match(verifyIntent(catalog, '1.0', tampered), { ok: false })
  const up = catalog.translateIntent(intent, '1.0', '2.0') as any
  const tamperedUp = { ...up, fill_deadline: up.fill_deadline + 1 }
  t.match(verifyIntent(catalog, '2.0', tamperedUp), { ok: false, reason: /does not match/ })
  const otherKey = makeSigner()
  t.match(verifyIntent(catalog, '1.0', { ...intent, public_key: otherKey.publicKey }), { ok: false })
})

t.test('a body signed without version still verifies once the gateway made the version explicit', async (t) => {
  const intent = signIntentV1(signer, { version: undefined })
  t.notOk('version' in intent)
  const v = catalog.validateIntent('1.0', intent)
  t.ok(v.ok)
  if (!v.ok) return
  t.same(verifyIntent(catalog, '1.0', v.intent), { ok: true })
  t.same(verifyIntent(catalog, '2.0', catalog.translateIntent(v.intent, '1.0', '2.0')), { ok: true })
})

t.test('the high-s twin of a valid signature is refused', async (t) => {
  const intent = signIntentV1(signer)
  const sig = Secp256k1Signature.fromFixedLength(Buffer.from(intent.signature, 'base64'))
  const n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141n
  const highS = n - BigInt('0x' + Buffer.from(sig.s()).toString('hex'))
  const twin = Buffer.concat([Buffer.from(sig.r(32)), Buffer.from(highS.toString(16).padStart(64, '0'), 'hex')]).toString('base64')
  t.match(verifyIntent(catalog, '1.0', { ...intent, signature: twin }), { ok: false, reason: /high s/ })
})

t.test('a public key that is not on the curve is refused, not thrown', async (t) => {
  const intent = signIntentV1(signer)
  const bogus = Buffer.alloc(33, 0xff)
  bogus[0] = 0x02
  t.match(verifyIntent(catalog, '1.0', { ...intent, public_key: bogus.toString('base64') }), { ok: false })
})

t.test('a signer from a mnemonic derives the Cosmos address and signs valid intents', async (t) => {
  const { signerFromMnemonic } = await import('../../sandbox/client/index.js')
  const mnemonic = 'surround miss nominee dream gap cross assault thank captain prosper drop duty group candy wealth weather scale put'
  const fromWords = await signerFromMnemonic(mnemonic)
  t.match(fromWords.address, /^cosmos1[02-9ac-hj-np-z]{38}$/)
  t.same(verifyIntent(catalog, '2.0', signIntentV2(fromWords)), { ok: true })
})

t.test('knowing whether the body carried `version`, one form is checked: a bad signature costs one verify', async (t) => {
  const intent = signIntentV1(signer)
  t.equal(signedForms(catalog, '1.0', intent, true).forms.length, 1, 'sent with version: that form only')
  t.notOk('version' in (signedForms(catalog, '1.0', intent, false).forms[0] as object), 'sent without: that form only')
  t.equal(signedForms(catalog, '1.0', intent, false).forms.length, 1)
  t.equal(signedForms(catalog, '1.0', intent).forms.length, 2, 'a verifier that cannot know (the service behind) tries both')
  const up = catalog.translateIntent(intent, '1.0', '2.0')
  t.equal(signedForms(catalog, '2.0', up, true).forms.length, 2, 'a rebuilt form may have been signed either way')
  t.same(verifyIntent(catalog, '1.0', intent, true), { ok: true })
  t.match(verifyIntent(catalog, '1.0', intent, false), { ok: false, check: 'signature' })
  const bare = signIntentV1(signer, { version: undefined })
  t.same(verifyIntent(catalog, '1.0', { version: '1.0', ...bare }, false), { ok: true })
})
