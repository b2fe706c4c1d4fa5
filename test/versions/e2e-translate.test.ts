/**
 * Issue 5 end to end with real processes: a client signing 1.0 intents with a real secp256k1 key submits through
 * the gateway (Redis store) to a 2.0-only sample service, which verifies every signature over the rebuilt 1.0
 * form and accepts; the client reads the status in 1.0 form until `settled`; a tampered field is refused by the
 * service with 401; deprecation headers ride on every 1.0 answer; once 1.0 is removed from `[versions]` at run
 * time it is refused with "Upgrade required". Build first (`npm run build`).
 */
import t, { type Test } from 'tap'
import { createVersionCatalog } from '../../src/versions/index.js'
import { makeSigner, signIntentV1, type IntentV1 } from '../../sandbox/client/index.js'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor } from '../helpers/gateway.js'

const catalog = createVersionCatalog()

const DEPRECATION = `
[versions]
accepted = ["1.0", "2.0"]
default = "1.0"
[versions.deprecated."1.0"]
since = "2026-12-01T00:00:00Z"
sunset = "2027-03-01T00:00:00Z"
link = "https://example.org/intents/migrate-to-v2"
`

interface Stats { accepted: number, duplicates: number, refused: Record<string, number>, by_key: Record<string, number> }

t.test('1.0 clients through the gateway to a 2.0-only service', async (t) => {
  const redis = await startRedis(t)
  const service = await startService(t, { versions: '2.0', settleMs: 150 })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: service.url, blueVersions: ['2.0'], extra: DEPRECATION }) })
  const signer = makeSigner()
  const stats = async (): Promise<Stats> => await (await fetch(`${service.url}/sandbox/stats`)).json() as Stats
  const submit = async (intent: unknown) => await request(`${gw.proxyUrl}/intents`, { body: intent })

  /**
   * Reads the status through the gateway until it is terminal; every answer must be a valid 1.0 status. The
   * client names its version (`Intent-Version: 1.0`): once the gateway has seen the intent settle (here, often
   * its reconciler first) the inflight record that remembered the client's version is gone.
   */
  async function readUntilSettled (t: Test, id: string): Promise<Record<string, unknown>> {
    const seen: string[] = []
    const final = await waitFor(`intent ${id} settled`, async () => {
      const res = await request(`${gw.proxyUrl}/intents/${id}`, { headers: { 'intent-version': '1.0' } })
      if (res.status !== 200) throw new Error(`status read: ${res.status} ${JSON.stringify(res.body)}`)
      const problems = catalog.checkResponse('status', '1.0', res.body)
      if (problems.length > 0) throw new Error(`not a 1.0 status: ${JSON.stringify(problems)}`)
      if (res.headers.get('intent-version') !== '1.0') throw new Error('status read without Intent-Version: 1.0')
      if (seen.at(-1) !== res.body.status) seen.push(res.body.status)
      return res.body.status === 'settled' ? res.body : undefined
    }, 10_000, 25)
    t.same(seen.filter((s) => s !== 'pending'), ['settled'], `1.0 statuses seen: ${seen.join(' -> ')}`)
    return final
  }

  await t.test('a signed 1.0 intent is translated, verified by the service, accepted, and read back as 1.0 until settled', async (t) => {
    const intent = signIntentV1(signer)
    const res = await submit(intent)
    t.equal(res.status, 202, JSON.stringify(res.body))
    t.match(res.body, { id: /^int_/, status: 'pending', version: '1.0' })
    t.same(Object.keys(res.body).sort(), ['id', 'status', 'version'], 'the 1.0 submission response, nothing of 2.0')
    t.equal(res.headers.get('intent-version'), '1.0')
    t.equal(res.headers.get('deprecation'), '@1796083200')
    t.equal(res.headers.get('sunset'), 'Mon, 01 Mar 2027 00:00:00 GMT')
    t.equal(res.headers.get('link'), '<https://example.org/intents/migrate-to-v2>; rel="deprecation"')

    const after = await stats()
    t.equal(after.by_key[`${intent.user}:${intent.nonce}`], 1, 'the service saw the intent exactly once')
    const final = await readUntilSettled(t, res.body.id)
    t.same(final, { id: res.body.id, status: 'settled', filled_amount: intent.output.min_amount, tx_hash: final['tx_hash'] })
    t.match(final['tx_hash'], /^[0-9A-F]{64}$/)
  })

  await t.test('a tampered field is refused with 401 at the gateway (verify_signatures), never reaching the service', async (t) => {
    const before = await stats()
    const intent = signIntentV1(signer)
    const tampered: IntentV1 = { ...intent, output: { ...intent.output, min_amount: '1' } }
    const res = await submit(tampered)
    t.equal(res.status, 401)
    t.match(res.headers.get('content-type'), /application\/problem\+json/)
    t.match(res.body, { type: 'urn:intent-gate:problem:signature-invalid', status: 401, detail: /does not match/ })
    const after = await stats()
    t.equal(after.accepted, before.accepted)
    t.equal(after.refused['bad_signature'] ?? 0, before.refused['bad_signature'] ?? 0, 'the service never saw it (its own check is the same code: test/edge)')
  })

  await t.test('a 1.0 client that does not send Intent-Version reads 1.0 after its intent settled', async (t) => {
    const res = await submit(signIntentV1(signer))
    await readUntilSettled(t, res.body.id)
    const again = await request(`${gw.proxyUrl}/intents/${res.body.id}`)
    t.same(catalog.checkResponse('status', '1.0', again.body), [], JSON.stringify(again.body))
  })

  await t.test('many 1.0 intents at once: each verified and accepted exactly once, each settles', async (t) => {
    const intents = Array.from({ length: 20 }, () => signIntentV1(signer))
    const answers = await Promise.all(intents.map(submit))
    t.same(answers.map((a) => a.status), intents.map(() => 202))
    const after = await stats()
    for (const intent of intents) t.equal(after.by_key[`${intent.user}:${intent.nonce}`], 1)
    const finals = await Promise.all(answers.map(async (a) => await readUntilSettled(t, a.body.id)))
    t.same(finals.map((f) => f['status']), intents.map(() => 'settled'))
  })

  await t.test('a retry of the same signed 1.0 intent is not forwarded again', async (t) => {
    const intent = signIntentV1(signer)
    const first = await submit(intent)
    const retry = await submit(intent)
    t.equal(first.status, 202)
    t.equal(retry.body.id, first.body.id)
    t.equal((await stats()).by_key[`${intent.user}:${intent.nonce}`], 1)
  })

  await t.test('removal: with 1.0 dropped from [versions] at run time, 1.0 is refused with "Upgrade required"', async (t) => {
    const changed = await gw.admin('PUT', '/admin/versions', { accepted: ['2.0'], default: '2.0' })
    t.equal(changed.status, 200, JSON.stringify(changed.body))
    const before = await stats()
    const res = await submit(signIntentV1(signer))
    t.equal(res.status, 400)
    t.match(res.body, { type: 'urn:intent-gate:problem:version-unsupported', title: 'Upgrade required', accepted: ['2.0'] })
    t.same((await stats()).refused, before.refused, 'nothing reached the service')
    t.equal((await stats()).accepted, before.accepted)
  })
})
