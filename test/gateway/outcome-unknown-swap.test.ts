// Issue 9, as an operator meets it: a slow backend during a swap. A gateway on Redis with upstream_timeout_ms =
// 1000; blue takes 12 intents at once but answers each after 2.5 s. The clients get 504 upstream-outcome-unknown;
// the operator swaps to green; the clients retry with the same keys. Before the fix each retry went to green and
// all 12 were accepted by both colors. Now a retry goes to blue, the owner that may hold the intent, whatever
// `active` says: 0 of 12 are accepted by both.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, request, startGateway, startService, waitFor, type Answer, type ServiceProcess } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

const OUTCOME_UNKNOWN = 'urn:intent-gate:problem:upstream-outcome-unknown'

async function setDelay (service: ServiceProcess, ms: number): Promise<void> {
  const res = await fetch(`${service.url}/sandbox/delay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) })
  if (res.status !== 200) throw new Error(`POST /sandbox/delay answered ${res.status}`)
}

async function byKey (service: ServiceProcess): Promise<Record<string, number>> {
  return (await service.stats()).by_key ?? {}
}

t.test('a slow blue, a swap to green, retries with the same keys: no intent accepted by both colors', async (t) => {
  const redis = await startRedis(t)
  const [blue, green] = await Promise.all([
    startService(t, { versions: '1.0', settleMs: 600_000 }),
    startService(t, { versions: '1.0', settleMs: 600_000 })
  ])
  // The reconciler runs every 200 ms, as in production it would resend to blue meanwhile: it must send only to blue.
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, green: green.url, greenVersions: ['1.0'] })
    .replace('[proxy]\n', '[proxy]\nupstream_timeout_ms = 1000\n')
  const gw = await startGateway(t, { config })
  await waitFor('both upstreams healthy', async () => {
    const { body } = await gw.admin<{ upstreams: Array<{ healthy: boolean }> }>('GET', '/admin/upstreams')
    return body.upstreams.filter((u) => u.healthy).length === 2 ? true : undefined
  })

  await setDelay(blue, 2500)
  const signer = makeSigner()
  const run = randomBytes(4).toString('hex')
  const intents = Array.from({ length: 12 }, (_, i) => ({ key: `slow-${run}-${i}`, intent: signIntentV1(signer) }))
  const submitAll = async (): Promise<Answer[]> => await Promise.all(intents.map(async ({ key, intent }) =>
    await request(`${gw.proxyUrl}/intents`, { body: intent, headers: { 'idempotency-key': key } })))

  const first = await submitAll()
  t.same(first.map((a) => a.status), Array(12).fill(504), 'every client gets 504: blue did not answer within 1 s')
  t.ok(first.every((a) => a.body.type === OUTCOME_UNKNOWN), 'problem type upstream-outcome-unknown')
  t.ok(first.every((a) => Number(a.headers.get('retry-after')) >= 1), 'with Retry-After')
  t.equal(Object.keys(await byKey(blue)).length, 12, 'blue took all 12 (it only answers late)')
  const drain = await gw.admin<{ mode: string, inflight_settlements: number }>('GET', '/admin/drain/status')
  t.equal(drain.body.inflight_settlements, 12, 'the 12 are still inflight, not released')
  const listed = await gw.admin<Array<{ upstream: string, phase: string }>>('GET', '/admin/inflight')
  t.ok(listed.body.every((r) => r.upstream === 'blue' && r.phase === 'unknown'), 'listed with phase unknown, owned by blue')

  // The operator swaps, as the issue did it.
  const swap = await gw.admin('POST', '/admin/upstreams/active', { color: 'green' })
  t.equal(swap.status, 200)
  await waitFor('green active', async () => (await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active === 'green' ? true : undefined)

  // Retries while blue is still slow go to blue again, and still cannot know: 504 again, nothing reaches green.
  const second = await submitAll()
  t.ok(second.every((a) => a.status === 504 || (a.status >= 200 && a.status < 300)), `retries answered ${[...new Set(second.map((a) => a.status))].join(', ')}`)
  t.equal((await green.stats()).accepted, 0, 'green got none of the retries')

  // Blue catches up; the next retries (or the reconciler's resends before them) get blue's own answer.
  await setDelay(blue, 0)
  const third = await waitFor('every retry answered 2xx', async () => {
    const answers = await submitAll()
    return answers.every((a) => a.status >= 200 && a.status < 300) ? answers : undefined
  }, 30_000, 200)
  const blueKeys = await byKey(blue)
  const greenKeys = await byKey(green)
  const both = Object.keys(blueKeys).filter((k) => greenKeys[k] !== undefined).length
  t.comment(`intents accepted by both blue and green: ${both} of 12 (blue accepted ${(await blue.stats()).accepted}, green ${(await green.stats()).accepted})`)
  t.equal(both, 0, '0 of 12 accepted by both colors')
  t.equal((await blue.stats()).accepted, 12, 'each accepted once, by blue')
  t.equal(new Set(third.map((a) => a.body.id)).size, 12, 'each client got its own intent id')

  // The swap itself took effect for new intents.
  const fresh = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
  t.equal(fresh.status, 202)
  t.equal((await green.stats()).accepted, 1, 'a new intent goes to green')
})
