/**
 * Wallet signatures (auth.scheme "adr036") in the verifier the gateway and the sample service share: a 2.0
 * intent signed by cosmjs's amino wallet the way Keplr's signArbitrary signs (an ADR-036 sign doc wrapping the
 * canonical bytes, the owner as signer) verifies; a changed field, another wallet's signature, a sign doc for
 * another signer or a high-s twin do not; and such an intent has no 1.0 form.
 */
import t from 'tap'
import { makeSignDoc, serializeSignDoc } from '@cosmjs/amino'
import { fromBase64, toBase64 } from '@cosmjs/encoding'
import { canonicalJson, createVersionCatalog } from '../../src/versions/index.js'
import { adr036SignDoc } from '../../src/versions/adr036.js'
import { verifyIntent } from '../../src/versions/verify.js'
import { NotRepresentableError } from '../../src/errors.js'
import { cosmjsWallet, type TestWallet } from '../helpers/wallet.js'

const catalog = createVersionCatalog()
const HOUR = 3600

function draft (owner: string, publicKey: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '2.0',
    owner,
    origin_chain_id: 'cosmoshub-4',
    inputs: [{ chain_id: 'cosmoshub-4', denom: 'uatom', amount: '1000000' }],
    outputs: [{ chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '4500000', recipient: 'osmo1qnk2n4nlkpw9xfqntladh74w6ujtulwnqshepx' }],
    fill_deadline: Math.floor(Date.now() / 1000) + HOUR,
    nonce: '7',
    ...fields,
    auth: { scheme: 'adr036', public_key: publicKey, signed_version: '2.0' }
  }
}

/** `unsigned` signed by `wallet.signArbitrary` with `signer` (the owner unless told), the signature put in auth. */
async function walletSigned (wallet: TestWallet, unsigned: Record<string, unknown>, signer = String(unsigned['owner'])): Promise<Record<string, any>> {
  const { signature } = await wallet.signArbitrary('cosmoshub-4', signer, canonicalJson(unsigned))
  return { ...unsigned, auth: { ...(unsigned['auth'] as object), signature } }
}

const alice = await cosmjsWallet()
const mallory = await cosmjsWallet()

t.test('the sign doc written by concatenation is the bytes cosmjs serialises for the same message', async (t) => {
  const data = new TextEncoder().encode('{"a":"<&>é"}')
  const doc = makeSignDoc([{ type: 'sign/MsgSignData', value: { signer: alice.address, data: toBase64(data) } }], { gas: '0', amount: [] }, '', '', 0, 0)
  t.equal(adr036SignDoc(data, alice.address), new TextDecoder().decode(serializeSignDoc(doc)))
})

t.test("a wallet's signArbitrary over the canonical bytes verifies, with and without the version field", async (t) => {
  const intent = await walletSigned(alice, draft(alice.address, alice.publicKey))
  t.same(verifyIntent(catalog, '2.0', intent), { ok: true })
  const { version: _version, ...bare } = draft(alice.address, alice.publicKey)
  t.same(verifyIntent(catalog, '2.0', { version: '2.0', ...await walletSigned(alice, bare) }), { ok: true }, 'signed without version, checked with it made explicit')
})

t.test('a changed field, or the same signature claimed as raw secp256k1, does not verify', async (t) => {
  const intent = await walletSigned(alice, draft(alice.address, alice.publicKey))
  t.match(verifyIntent(catalog, '2.0', { ...intent, nonce: '8' }), { ok: false, check: 'signature' })
  t.match(verifyIntent(catalog, '2.0', { ...intent, auth: { ...intent['auth'], scheme: 'secp256k1' } }), { ok: false, check: 'signature' })
})

t.test("another wallet's valid signature under this owner is refused", async (t) => {
  // Mallory's own key named as the key: the owner is not its address.
  const withOwnKey = await walletSigned(mallory, draft(alice.address, mallory.publicKey), mallory.address)
  t.match(verifyIntent(catalog, '2.0', withOwnKey), { ok: false, check: 'owner' })
  // Alice's key named, Mallory's signature: it does not verify under Alice's key.
  const withAlicesKey = await walletSigned(mallory, draft(alice.address, alice.publicKey), mallory.address)
  t.match(verifyIntent(catalog, '2.0', withAlicesKey), { ok: false, check: 'signature' })
})

t.test('a sign doc made for another signer than the owner does not verify', async (t) => {
  // The same key under another prefix is another signer string: the doc it signs is not the owner's.
  const aliceOnOsmosis = await cosmjsWallet({ mnemonic: alice.mnemonic, prefix: 'osmo' })
  t.equal(aliceOnOsmosis.publicKey, alice.publicKey)
  const intent = await walletSigned(aliceOnOsmosis, draft(alice.address, alice.publicKey), aliceOnOsmosis.address)
  t.match(verifyIntent(catalog, '2.0', intent), { ok: false, check: 'signature' })
})

t.test('a high-s twin of a valid signature is refused', async (t) => {
  const intent = await walletSigned(alice, draft(alice.address, alice.publicKey))
  const sig = fromBase64(intent['auth'].signature)
  const n = BigInt('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')
  const s = BigInt('0x' + Buffer.from(sig.subarray(32)).toString('hex'))
  const twin = Buffer.concat([sig.subarray(0, 32), Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex')])
  t.match(verifyIntent(catalog, '2.0', { ...intent, auth: { ...intent['auth'], signature: twin.toString('base64') } }), { ok: false, check: 'high_s' })
})

t.test('an adr036 intent has no 1.0 form, and must say it signed 2.0', async (t) => {
  const intent = await walletSigned(alice, draft(alice.address, alice.publicKey))
  t.throws(() => catalog.translateIntent(intent, '2.0', '1.0'), NotRepresentableError)
  try {
    catalog.translateIntent(intent, '2.0', '1.0')
  } catch (err) {
    t.match((err as NotRepresentableError).reason, /ADR-036/)
  }
  const claimed = catalog.validateIntent('2.0', { ...intent, auth: { ...intent['auth'], signed_version: '1.0' } })
  t.match(claimed, { ok: false, errors: [{ field: '/auth/signed_version', message: 'must be "2.0" with auth.scheme "adr036"' }] })
  t.match(catalog.validateIntent('2.0', intent), { ok: true })
})
