/**
 * The sample intent service as a process (the built binary): accepts signed 1.0 and 2.0 intents, refuses a
 * tampered one with 401, walks each to `settled`, answers a duplicate with the same intent exactly once, and
 * refuses what it does not serve. Build first: `npm run build`.
 */
import t from 'tap'
import { setTimeout as delay } from 'node:timers/promises'
import { createVersionCatalog } from '../../src/versions/index.js'
import { makeSigner, signIntentV1, signIntentV2 } from '../../sandbox/client/index.js'
import { runService, startService } from './service-process.js'

const catalog = createVersionCatalog()
const signer = makeSigner()

async function post (url: string, body: unknown): Promise<{ status: number, type: string, body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() }
}

async function get (url: string): Promise<{ status: number, body: any }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() }
}

/** Reads the status until it is terminal; each read is one step of the service's own clock. */
async function statusesUntilTerminal (url: string, pollMs: number): Promise<string[]> {
  const seen: string[] = []
  for (let i = 0; i < 200; i++) {
    const { body } = await get(url)
    if (seen.at(-1) !== body.status) seen.push(body.status)
    if (!['accepted', 'matched', 'escrowed', 'ibc_in_flight', 'pending'].includes(body.status)) return seen
    await delay(pollMs)
  }
  throw new Error(`never terminal: ${seen.join(' -> ')}`)
}

t.test('a service for 1.0 and 2.0', async (t) => {
  const svc = await startService(t, ['--versions', '1.0,2.0', '--settle-ms', '120'])
  t.match(svc.info, { url: /^http:\/\/127\.0\.0\.1:\d+$/, versions: ['1.0', '2.0'], settle_ms: 120, verify: true })

  t.test('accepts a signed 1.0 intent and reports it in 1.0 form until settled', async (t) => {
    const intent = signIntentV1(signer)
    const res = await post(`${svc.url}/intents`, intent)
    t.equal(res.status, 202)
    t.match(res.body, { id: /^int_/, status: 'pending', version: '1.0' })
    const statuses = await statusesUntilTerminal(`${svc.url}/intents/${res.body.id}`, 20)
    // Pending, then settled: the first read may already come after the 120 ms settle on a busy machine, so the
    // reads are checked for their order, not for seeing both.
    t.equal(statuses.at(-1), 'settled')
    t.same(statuses.filter((s, i) => s !== statuses[i - 1]), statuses.includes('pending') ? ['pending', 'settled'] : ['settled'])
    const final = await get(`${svc.url}/intents/${res.body.id}`)
    t.same(final.body, { id: res.body.id, status: 'settled', filled_amount: intent.output.min_amount, tx_hash: final.body.tx_hash })
    t.same(catalog.checkResponse('status', '1.0', final.body), [])
  })

  t.test('accepts a signed 2.0 intent and walks it through every stage to settled', async (t) => {
    const intent = signIntentV2(signer, { max_solver_fee_bps: 25 })
    const res = await post(`${svc.url}/intents`, intent)
    t.equal(res.status, 202)
    t.match(res.body, { intent_id: /^int_/, status: 'accepted', version: '2.0' })
    const statuses = await statusesUntilTerminal(`${svc.url}/intents/${res.body.intent_id}`, 10)
    t.equal(statuses.at(-1), 'settled')
    const order = ['accepted', 'matched', 'escrowed', 'ibc_in_flight', 'settled']
    t.same(statuses, [...statuses].sort((a, b) => order.indexOf(a) - order.indexOf(b)), `stages in order: ${statuses.join(' -> ')}`)
    const final = await get(`${svc.url}/intents/${res.body.intent_id}`)
    t.same(catalog.checkResponse('status', '2.0', final.body), [])
    t.match(final.body.fills, [{ amount: intent.outputs[0]!.min_amount }])
  })

  t.test('a tampered field is refused with 401 problem+json and not accepted', async (t) => {
    const before = (await get(`${svc.url}/sandbox/stats?keys=0`)).body
    const intent = signIntentV1(signer)
    const res = await post(`${svc.url}/intents`, { ...intent, input: { ...intent.input, amount: '999999999' } })
    t.equal(res.status, 401)
    t.equal(res.type, 'application/problem+json')
    t.match(res.body, { type: 'urn:intent-service:problem:bad-signature', status: 401, detail: /does not match/ })
    const after = (await get(`${svc.url}/sandbox/stats?keys=0`)).body
    t.equal(after.accepted, before.accepted)
    t.equal(after.refused.bad_signature, before.refused.bad_signature + 1)
  })

  t.test('a duplicate (owner, nonce) gets the same intent back and is counted once', async (t) => {
    const intent = signIntentV2(signer)
    const first = await post(`${svc.url}/intents`, intent)
    const again = await post(`${svc.url}/intents`, intent)
    t.equal(first.status, 202)
    t.equal(again.status, 200)
    t.equal(again.body.intent_id, first.body.intent_id)
    const stats = (await get(`${svc.url}/sandbox/stats`)).body
    t.equal(stats.by_key[`${intent.owner}:${intent.nonce}`], 2, 'both submissions reached the service')
    t.ok(stats.duplicates >= 1)
    const reused = signIntentV2(signer, { nonce: intent.nonce, max_solver_fee_bps: 1 })
    const conflict = await post(`${svc.url}/intents`, reused)
    t.equal(conflict.status, 409)
    t.match(conflict.body, { type: 'urn:intent-service:problem:nonce-reused', intent_id: first.body.intent_id })
  })

  t.test('one signed order is one intent: a 1.0 intent and its 2.0 translation are the same intent', async (t) => {
    const intent = signIntentV1(signer)
    const first = await post(`${svc.url}/intents`, intent)
    const translated = await post(`${svc.url}/intents`, catalog.translateIntent(intent, '1.0', '2.0'))
    t.equal(first.status, 202)
    t.match(translated, { status: 200, body: { intent_id: first.body.id, version: '2.0' } })
  })

  t.test('bad input: not JSON, schema violations named, unknown version, unknown intent, unknown route', async (t) => {
    t.match(await post(`${svc.url}/intents`, '{nope'), { status: 400, body: { type: 'urn:intent-service:problem:invalid-json' } })
    const bad = await post(`${svc.url}/intents`, { version: '2.0', owner: 'x' })
    t.equal(bad.status, 400)
    const fields = bad.body.errors.map((e: { field: string }) => e.field)
    t.ok(['/owner', '/auth', '/inputs', '/nonce'].every((f) => fields.includes(f)), fields.join(' '))
    t.match(await post(`${svc.url}/intents`, { version: '7.0' }), { status: 400, body: { type: 'urn:intent-service:problem:version-unsupported', accepted: ['1.0', '2.0'] } })
    t.match(await get(`${svc.url}/intents/int_nothing`), { status: 404, body: { type: 'urn:intent-service:problem:intent-not-found' } })
    t.match(await get(`${svc.url}/elsewhere`), { status: 404 })
  })

  t.test('health can be switched off and on; intents can be refused while off', async (t) => {
    t.equal((await get(`${svc.url}/healthz`)).status, 200)
    t.match(await post(`${svc.url}/sandbox/health`, { healthy: false, refuse_intents: true }), { status: 200 })
    t.equal((await get(`${svc.url}/healthz`)).status, 503)
    t.match(await post(`${svc.url}/intents`, signIntentV2(signer)), { status: 503, body: { type: 'urn:intent-service:problem:unavailable' } })
    await post(`${svc.url}/sandbox/health`, { healthy: true })
    t.equal((await get(`${svc.url}/healthz`)).status, 200)
    t.equal((await post(`${svc.url}/intents`, signIntentV2(signer))).status, 202)
  })

  t.test('a status can be forced (refunds, failures)', async (t) => {
    const res = await post(`${svc.url}/intents`, signIntentV1(signer))
    const forced = await post(`${svc.url}/sandbox/intents/${res.body.id}`, { status: 'refunded' })
    t.match(forced, { status: 200, body: { id: res.body.id, status: 'refunded' } })
    t.match(await post(`${svc.url}/sandbox/intents/${res.body.id}`, { status: 'gone' }), { status: 400 })
  })

  t.test('stops with exit status 0 on SIGTERM', async (t) => {
    t.equal(await svc.stop(), 0)
  })
})

t.test('a 2.0-only service accepts translated 1.0 intents and refuses native 1.0', async (t) => {
  const svc = await startService(t, ['--versions', '2.0', '--settle-ms', '0'])
  const intent = signIntentV1(signer)
  t.match(await post(`${svc.url}/intents`, intent), { status: 400, body: { type: 'urn:intent-service:problem:version-unsupported', accepted: ['2.0'] } })
  const up = catalog.translateIntent(intent, '1.0', '2.0') as any
  const res = await post(`${svc.url}/intents`, up)
  t.match(res, { status: 202, body: { status: 'accepted', version: '2.0' } })
  t.match(await get(`${svc.url}/intents/${res.body.intent_id}`), { body: { status: 'settled' } }, 'settle-ms 0: settled at the first read')
  const tampered = { ...up, outputs: [{ ...up.outputs[0], recipient: signer.addressFor('evil') }] }
  t.match(await post(`${svc.url}/intents`, tampered), { status: 401, body: { type: 'urn:intent-service:problem:bad-signature' } })
})

t.test('--no-verify skips the signature check (benchmarks)', async (t) => {
  const svc = await startService(t, ['--versions', '1.0,2.0', '--no-verify'])
  t.equal(svc.info['verify'], false)
  const intent = signIntentV1(signer)
  t.equal((await post(`${svc.url}/intents`, { ...intent, nonce: intent.nonce + 1000 })).status, 202)
  t.equal((await post(`${svc.url}/intents`, { ...intent, version: '2.0' })).status, 400, 'still validated')
  const multi = signIntentV2(signer, { max_solver_fee_bps: 3 })
  const unverifiable = { ...multi, auth: { ...multi.auth, signed_version: '1.0' } }
  t.equal((await post(`${svc.url}/intents`, unverifiable)).status, 202, 'a signed form that cannot be rebuilt is not checked either')
})

t.test('bad usage exits 2 naming the flag', async (t) => {
  t.match(await runService(['--versions', '1.0']), { code: 2, stderr: /--listen/ })
  t.match(await runService(['--listen', '127.0.0.1:0', '--versions', '1.0,5.0']), { code: 2, stderr: /--versions: unknown version '5\.0'/ })
  t.match(await runService(['--listen', '127.0.0.1:0', '--versions', '1.0', '--settle-ms', 'soon']), { code: 2, stderr: /--settle-ms/ })
  t.match(await runService(['--listen', 'nowhere', '--versions', '1.0']), { code: 2, stderr: /--listen/ })
})
