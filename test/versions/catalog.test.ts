/**
 * The catalog as the proxy uses it: validation naming every failing field, unknown versions, identity,
 * choice of the version to forward, response translation and its refusals.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { createVersionCatalog } from '../../src/versions/index.js'

const catalog = createVersionCatalog()
const golden = (path: string): Record<string, any> => JSON.parse(readFileSync(new URL(`./golden/${path}`, import.meta.url), 'utf8'))

function errorsOf (version: string, body: unknown): Array<{ field: string, message: string }> {
  const v = catalog.validateIntent(version, body)
  return v.ok ? [] : v.errors
}

t.test('knows 1.0 and 2.0, oldest first', async (t) => {
  t.same(catalog.known, ['1.0', '2.0'])
})

t.test('each schema violation of a 1.0 intent is named by its JSON pointer', async (t) => {
  const body = golden('1.0/intent.json')
  const { signature: _signature, ...unsigned } = body
  const bad = { ...unsigned, user: 42, input: { ...body.input, amount: '-5' }, output: { denom: 'uosmo' }, nonce: 1.5, surprise: true }
  const fields = errorsOf('1.0', bad).map((e) => e.field).sort()
  t.same(fields, ['/input/amount', '/nonce', '/output/chain_id', '/output/min_amount', '/output/recipient', '/signature', '/surprise', '/user'])
  const messages = Object.fromEntries(errorsOf('1.0', bad).map((e) => [e.field, e.message]))
  t.match(messages['/input/amount'], /positive base-unit decimal string/)
  t.equal(messages['/signature'], 'is required')
  t.equal(messages['/surprise'], 'is not a field of this version')
})

t.test('each schema violation of a 2.0 intent is named, nested arrays included', async (t) => {
  const body = golden('2.0/intent.json')
  const bad = {
    ...body,
    inputs: [body.inputs[0], { ...body.inputs[1], chain_id: '' }],
    outputs: [],
    nonce: '007',
    max_solver_fee_bps: 10_001,
    auth: { ...body.auth, scheme: 'ed25519', public_key: 'short' }
  }
  const errors = errorsOf('2.0', bad)
  t.same(errors.map((e) => e.field).sort(), ['/auth/public_key', '/auth/scheme', '/inputs/1/chain_id', '/max_solver_fee_bps', '/nonce', '/outputs'])
  t.match(errors.find((e) => e.field === '/auth/scheme'), { message: 'must be one of "secp256k1", "adr036"' })
})

t.test('a field name with / or ~ is escaped in the pointer', async (t) => {
  t.match(errorsOf('1.0', { ...golden('1.0/intent.json'), 'a/b~c': 1 }), [{ field: '/a~1b~0c' }])
})

t.test('open_deadline after fill_deadline is refused with the field named', async (t) => {
  const body = { ...golden('2.0/intent.json'), open_deadline: 1767225601 }
  t.same(errorsOf('2.0', body), [{ field: '/open_deadline', message: 'must not be after fill_deadline (1767225600)' }])
})

t.test('a body that is not an object, or of another version, is refused', async (t) => {
  t.same(errorsOf('1.0', [1, 2]), [{ field: '', message: 'must be object' }])
  t.match(errorsOf('2.0', golden('1.0/intent.json')).find((e) => e.field === '/version'), { message: 'must be "2.0"' })
})

t.test('an unknown version is refused, naming the known ones', async (t) => {
  t.same(errorsOf('3.7', golden('1.0/intent.json')), [{ field: '/version', message: 'unknown version "3.7"; known versions: 1.0, 2.0' }])
})

t.test('a valid intent yields its identity, and a body without version gets the version it was read as', async (t) => {
  const { version: _v, ...versionless } = golden('1.0/intent.json')
  const v = catalog.validateIntent('1.0', versionless)
  t.ok(v.ok)
  if (!v.ok) return
  t.equal(v.intent['version'], '1.0')
  t.same(v.identity, { owner: 'cosmos1yv5c6g45g2rdavgtcypmu0z5le94j2zk4swu4r', nonce: '42', deadline: 1767225600 })
  const v2 = catalog.validateIntent('2.0', golden('2.0/intent.json'))
  t.match(v2, { ok: true, identity: { nonce: '18446744073709551615', deadline: 1767225600 } })
})

t.test('targetVersion: the client version when the upstream takes it, else the newest reachable, else null', async (t) => {
  t.equal(catalog.targetVersion('1.0', ['1.0', '2.0']), '1.0')
  t.equal(catalog.targetVersion('1.0', ['2.0']), '2.0')
  t.equal(catalog.targetVersion('2.0', ['1.0']), '1.0')
  t.equal(catalog.targetVersion('1.0', ['9.9']), null)
  t.equal(catalog.targetVersion('9.9', ['1.0']), null)
})

t.test('translating along a path that does not exist is refused with a typed error', async (t) => {
  t.throws(() => catalog.translateIntent(golden('1.0/intent.json'), '1.0', '9.9'), { code: 'IG_ERR_NO_TRANSLATION_PATH' })
  t.equal(catalog.path('1.0', '9.9'), null)
  t.same(catalog.path('1.0', '1.0'), [])
})

t.test('same-version responses pass through untouched (same object)', async (t) => {
  const body = { anything: true }
  t.equal(catalog.translateSubmitResponse(body, '2.0', '2.0'), body)
  t.equal(catalog.translateStatusResponse(body, '1.0', '1.0'), body)
})

t.test('status responses map 2.0 working stages to 1.0 pending and sum fills', async (t) => {
  for (const status of ['accepted', 'matched', 'escrowed', 'ibc_in_flight']) {
    t.same(catalog.translateStatusResponse({ intent_id: 'i', status, fills: [], updated_at: 1 }, '2.0', '1.0'),
      { id: 'i', status: 'pending', filled_amount: '0', tx_hash: null }, status)
  }
  for (const status of ['settled', 'refunded', 'cancelled', 'expired', 'failed']) {
    t.match(catalog.translateStatusResponse({ intent_id: 'i', status, fills: [], updated_at: 1 }, '2.0', '1.0'), { status }, status)
  }
  const big = '9'.repeat(40)
  t.match(catalog.translateStatusResponse({ intent_id: 'i', status: 'settled', fills: [{ solver: 's', amount: big, tx_hash: 'A' }, { solver: 's', amount: '1', tx_hash: 'B' }], updated_at: 1 }, '2.0', '1.0'),
    { filled_amount: '1' + '0'.repeat(40), tx_hash: 'B' })
})

t.test('1.0 responses read by a 2.0 client', async (t) => {
  t.same(catalog.translateSubmitResponse({ id: 'i', status: 'pending', version: '1.0' }, '1.0', '2.0'), { intent_id: 'i', status: 'accepted', version: '2.0' })
  const before = Math.floor(Date.now() / 1000)
  const status = catalog.translateStatusResponse({ id: 'i', status: 'settled', filled_amount: '7', tx_hash: 'H' }, '1.0', '2.0') as Record<string, any>
  t.match(status, { intent_id: 'i', status: 'settled', fills: [{ solver: '', amount: '7', tx_hash: 'H' }] })
  t.ok(status['updated_at'] >= before)
  t.match(catalog.translateStatusResponse({ id: 'i', status: 'pending', filled_amount: '0', tx_hash: null }, '1.0', '2.0'), { status: 'accepted', fills: [] })
})

t.test('an upstream response that breaks its version is refused as a bad gateway, naming the fields', async (t) => {
  t.throws(() => catalog.translateStatusResponse({ intent_id: 'i', status: 'warp', updated_at: 'soon' }, '2.0', '1.0'), {
    code: 'IG_ERR_UPSTREAM',
    problem: { status: 502 },
    message: /\/status must be one of .*\/fills is required|\/fills is required/
  })
  t.throws(() => catalog.translateSubmitResponse('nope', '2.0', '1.0'), { code: 'IG_ERR_UPSTREAM' })
})

t.test('intent id and status are read in each version', async (t) => {
  t.equal(catalog.intentIdOf({ intent_id: 'a', status: 'accepted', version: '2.0' }, '2.0'), 'a')
  t.equal(catalog.intentIdOf({ id: 'b', status: 'pending', version: '1.0' }, '1.0'), 'b')
  t.equal(catalog.intentIdOf({ id: 'b' }, '2.0'), null)
  t.equal(catalog.intentIdOf(null, '1.0'), null)
  t.equal(catalog.statusOf({ status: 'settled' }, '2.0'), 'settled')
  t.equal(catalog.statusOf({ status: 3 }, '1.0'), null)
  t.equal(catalog.statusOf({ status: 'settled' }, '7.0'), null)
})
