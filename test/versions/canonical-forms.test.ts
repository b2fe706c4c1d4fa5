/**
 * The shortcuts a verified submission takes (issue 30) must not change what is verified:
 *   - `canonicalForms` writes an intent's canonical text and its unsigned form's in one pass: both equal what
 *     canonicalJson writes for the intent and for `spec.unsigned(intent)`, for any valid 1.0 and 2.0 intent;
 *   - the text the gateway hands the verifier is only ever the client's own form's (a translated intent, or one
 *     sent without `version`, is still verified over the form it was signed in);
 *   - an owner whose key verified once skips the address derivation for that exact key only: another key, a
 *     spoofed owner, or a bad signature is refused as before, and the cache stays within its bound.
 */
import t from 'tap'
import fc from 'fast-check'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { canonicalJson, canonicalWithout } from '../../src/versions/canonical.js'
import { createVersionCatalog } from '../../src/versions/index.js'
import { OwnerKeys } from '../../src/versions/owner-keys.js'
import { intentV1, intentV2 } from './arbitraries.js'

const catalog = createVersionCatalog()
const nowSecs = Math.floor(Date.now() / 1000)

t.test('canonicalForms: both texts equal canonicalJson of the intent and of its unsigned form', async (t) => {
  for (const [version, arbitrary] of [['1.0', intentV1], ['2.0', intentV2]] as const) {
    fc.assert(fc.property(arbitrary, (body) => {
      const checked = catalog.validateIntent(version, body)
      if (!checked.ok) return true
      const forms = catalog.canonicalForms(version, checked.intent)
      const spec = catalog.spec(version)
      return forms.canonical === canonicalJson(checked.intent) && forms.unsigned === canonicalJson(spec?.unsigned(checked.intent))
    }), { numRuns: 300 })
  }
})

t.test('canonicalWithout: a path that leads nowhere gives no unsigned text, the whole one still', async (t) => {
  const value = { b: 1, a: { y: [1, 'x'], x: null }, c: 'z' }
  t.same(canonicalWithout(value, ['nope']), { whole: canonicalJson(value), without: null })
  t.same(canonicalWithout(value, ['a', 'nope']), { whole: canonicalJson(value), without: null })
  t.same(canonicalWithout(value, ['c', 'deeper']), { whole: canonicalJson(value), without: null }, 'a string has no members')
  t.same(canonicalWithout(value, ['a', 'y']), { whole: canonicalJson(value), without: '{"a":{"x":null},"b":1,"c":"z"}' })
  t.same(canonicalWithout({ only: 1 }, ['only']), { whole: '{"only":1}', without: '{}' })
})

t.test('a given unsigned text is used for the client\'s own form only', async (t) => {
  const signer = makeSigner()
  const intent = signIntentV1(signer, {
    input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '5' },
    output: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '1', recipient: signer.addressFor('osmo') },
    deadline: nowSecs + 600,
    nonce: 7
  })
  const checked = catalog.validateIntent('1.0', intent)
  if (!checked.ok) throw new Error('the signed intent is not valid')
  const forms = catalog.canonicalForms('1.0', checked.intent)
  t.same(catalog.verifySignature('1.0', checked.intent, true, forms.unsigned ?? undefined), { ok: true })
  // A text of other bytes makes the signature fail: the given text is what is verified, nothing else is accepted.
  t.match(catalog.verifySignature('1.0', checked.intent, true, forms.unsigned?.replace('"5"', '"6"')), { ok: false, check: 'signature' })
  // Sent without `version`, the form signed has none: the given text (with it) is not used for that form.
  t.match(catalog.verifySignature('1.0', checked.intent, false, forms.unsigned ?? undefined), { ok: false, check: 'signature' })
  // Translated to 2.0, the signature covers the rebuilt 1.0 form: a 2.0 text given is not used.
  const v2 = catalog.translateIntent(checked.intent, '1.0', '2.0')
  const forms2 = catalog.canonicalForms('2.0', v2)
  t.same(catalog.verifySignature('2.0', v2, true, forms2.unsigned ?? undefined), { ok: true })
})

t.test('owner keys: a verified owner skips the address check for its exact key only, and the cache is bounded', async (t) => {
  const owner = makeSigner()
  const other = makeSigner()
  const sign = (s: ReturnType<typeof makeSigner>, nonce: number, user?: string): Record<string, unknown> => {
    const intent = signIntentV1(s, {
      input: { chain_id: 'cosmoshub-4', denom: 'uatom', amount: '5' },
      output: { chain_id: 'osmosis-1', denom: 'uosmo', min_amount: '1', recipient: s.addressFor('osmo') },
      deadline: nowSecs + 600,
      nonce
    })
    return user === undefined ? intent : { ...intent, user }
  }
  const fresh = createVersionCatalog()
  t.same(fresh.verifySignature('1.0', sign(owner, 1), true), { ok: true })
  t.same(fresh.verifySignature('1.0', sign(owner, 2), true), { ok: true }, 'the same owner and key again')
  // Another key claiming the remembered owner: checked in full, refused.
  t.match(fresh.verifySignature('1.0', sign(other, 3, String(sign(owner, 3)['user'])), true), { ok: false, check: 'owner' })
  // The remembered owner's key with a signature that does not match: refused.
  t.match(fresh.verifySignature('1.0', { ...sign(owner, 4), nonce: 5 }, true), { ok: false, check: 'signature' })

  const keys = new OwnerKeys(3)
  for (const o of ['a', 'b', 'c', 'd']) keys.remember(o, `key-${o}`)
  t.equal(keys.size, 3)
  t.notOk(keys.known('a', 'key-a'), 'the oldest went first')
  t.ok(keys.known('d', 'key-d'))
  t.notOk(keys.known('d', 'key-x'), 'another key text is not known')
  keys.remember('b', 'key-b2')
  t.ok(keys.known('b', 'key-b2'))
  t.notOk(keys.known('b', 'key-b'), 'a new key replaces the old one')
  t.equal(keys.size, 3)
  t.throws(() => new OwnerKeys(0), RangeError)
})

/** canonicalJson as it was written before its native fast path: the reference the fast path must equal. */
function reference (value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot serialise ${value} as JSON`)
    const text = JSON.stringify(value)
    if (text === undefined) throw new TypeError(`cannot serialise a ${typeof value} as JSON`)
    return text
  }
  if (Array.isArray(value)) return '[' + value.map((v) => reference(v ?? null)).join(',') + ']'
  const obj = value as Record<string, unknown>
  const members = Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) => JSON.stringify(k) + ':' + reference(obj[k]))
  return '{' + members.join(',') + '}'
}

function same (value: unknown): boolean {
  let expected: string | Error
  try {
    expected = reference(value)
  } catch (err) {
    expected = err as Error
  }
  try {
    return canonicalJson(value) === expected
  } catch (err) {
    return expected instanceof Error && (err as Error).name === expected.name
  }
}

t.test('canonicalJson writes what the concatenating writer wrote, for any JSON value and the awkward ones', async (t) => {
  fc.assert(fc.property(fc.jsonValue(), same), { numRuns: 2000 })
  fc.assert(fc.property(fc.object({ key: fc.oneof(fc.string(), fc.constantFrom('__proto__', '0', '1', '10', '9', 'a', '-1', '01', 'constructor')), maxDepth: 3 }), same), { numRuns: 2000 })
  const awkward: unknown[] = [
    { 10: 'a', 9: 'b', x: 1 }, { b: 1, a: undefined }, [undefined, () => 1], { f: () => 1 }, { n: Number.NaN }, { n: -0 },
    { d: new Date(0) }, JSON.parse('{"__proto__":{"x":1},"a":2}'), { s: '\ud800', t: 'é"\\\n' }, { big: 1n }, [Symbol('s')],
    { toJSON: () => 'x', a: 1 }, { nested: { z: [1, { y: 2, x: [] }], a: {} } }, Object.create(null), new Map([[1, 2]])
  ]
  for (const value of awkward) t.ok(same(value), `same text or the same error for ${String(reference.name)} #${awkward.indexOf(value)}`)
})
