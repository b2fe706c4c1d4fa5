// Attacks 3 and 4 of issue 24: state an attacker grows for free. One signed intent under a new Idempotency-Key
// per request: past `proxy.max_keys_per_owner` the owner's new keys are refused (429 owner-key-limit with
// Retry-After, counted in /metrics), keys it holds still replay, other owners are served. A padded order is held
// during an upgrade as its compact form, and the hold is bounded by bytes: past `[upgrade] hold_max_bytes` a new
// submission is refused at once, and the held ones are admitted when the upgrade ends.
import t from 'tap'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'
import { canonicalJson } from '../../src/versions/canonical.js'
import { gatewayToml, metricValue, request, startGateway, startService, waitFor } from '../helpers/gateway.js'
import { startRedis } from '../helpers/redis.js'

t.setTimeout(360_000)

for (const store of ['redis', 'embedded'] as const) {
  t.test(`${store} store: one owner, a new key per request`, async (t) => {
    const redis = store === 'redis' ? await startRedis(t) : null
    const service = await startService(t, { versions: '1.0', settleMs: 600_000 })
    const config = gatewayToml({ redisUrl: redis?.url, blue: service.url, reconcileIntervalMs: 600_000 }).replace('[proxy]\n', '[proxy]\nmax_keys_per_owner = 5\n')
    const gw = await startGateway(t, { config })
    const submit = async (body: unknown, key: string): Promise<Awaited<ReturnType<typeof request>>> =>
      await request(`${gw.proxyUrl}/intents`, { body, headers: { 'idempotency-key': key } })

    const attacker = makeSigner()
    const order = signIntentV1(attacker)
    // The first key creates the intent (202); the service answers the same order under a new key with it (200).
    for (let i = 1; i <= 5; i++) t.ok((await submit(order, `k-${i}`)).status < 300, `key ${i} of 5`)
    const refused = await submit(order, 'k-6')
    t.equal(refused.status, 429, 'the sixth key is past max_keys_per_owner')
    t.equal(refused.headers.get('content-type'), 'application/problem+json')
    t.match(refused.body, { type: 'urn:intent-gate:problem:owner-key-limit', status: 429 })
    const retryAfter = Number(refused.headers.get('retry-after'))
    // Redis counts an owner's keys per bucket, a 24th of the TTL (3,600 s): the count drops when the bucket ends.
    const bucket = redis === null ? 0 : 3_600
    t.ok(retryAfter > 86_000 && retryAfter <= 86_400 + bucket, `Retry-After ${retryAfter} s: when the oldest key's count ends`)
    const again = await submit(order, 'k-3')
    t.ok(again.status < 300, 'a key the owner holds is still answered')
    t.equal(again.headers.get('idempotent-replayed'), 'true')
    const honest = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
    t.equal(honest.status, 202, 'another owner is served beside it')

    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
    t.equal(metricValue(metrics, 'intent_gate_refusals_total', 'reason="owner_key_limit"'), 1, 'the refusal is counted')
    if (redis !== null) {
      // Key layout 5's form (both steps of the owner-counts change write it): a few time buckets per owner.
      const keys = (await redis.cli('KEYS', 'intent-gate:{default}:oc:*')).split('\n').filter((k) => k !== '')
      t.equal(keys.length, 2, 'one count per owner')
      const sizes = await Promise.all(keys.map(async (k) => {
        const buckets = (await redis.cli('HVALS', k)).split('\n')
        return buckets.reduce((sum, n) => sum + Number(n), 0)
      }))
      t.same(sizes.sort(), [1, 5], 'the attacker holds 5 keys, the honest owner 1')
    }
  })
}

t.test('the hold keeps compact bodies and is bounded by bytes', async (t) => {
  const redis = await startRedis(t)
  const service = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const orders = Array.from({ length: 4 }, () => signIntentV1(makeSigner()))
  const compact = Math.max(...orders.map((o) => canonicalJson(o).length))
  // Room for three compact bodies: padding does not count, so three padded orders of 50 KB fit.
  const config = gatewayToml({ redisUrl: redis.url, blue: service.url })
    .concat(`\n[upgrade]\nhold_new_intents_secs = 60\nhold_max_intents = 100\nhold_max_bytes = ${3 * compact + 10}\n`)
  const gw = await startGateway(t, { config })
  await redis.cli('SET', 'intent-gate:{default}:upgrade', JSON.stringify({ id: 'upg-test', phase: 'draining' }))
  await waitFor('the gateway to see the upgrade', async () => {
    const s = await (await fetch(`${gw.proxyUrl}/.well-known/intent-gate/status`)).json() as { mode: string }
    return s.mode === 'holding' ? true : undefined
  })
  const padded = (o: unknown): string => JSON.stringify(o).replaceAll(',', `,${' '.repeat(5_000)}`)
  const held = orders.slice(0, 3).map(async (o) => await request(`${gw.proxyUrl}/intents`, { raw: padded(o) }))
  await waitFor('three submissions held', async () => {
    const m = await (await fetch(`${gw.adminUrl}/metrics`)).text()
    return (metricValue(m, 'intent_gate_held_submissions') ?? 0) >= 3 ? true : undefined
  })
  const fourth = await request(`${gw.proxyUrl}/intents`, { raw: padded(orders[3]) })
  t.equal(fourth.status, 503, 'the fourth is past hold_max_bytes: refused at once')
  t.ok(Number(fourth.headers.get('retry-after')) >= 1)
  const m = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.equal(metricValue(m, 'intent_gate_holds_total', 'outcome="full"'), 1, 'counted as a full hold')
  t.ok((metricValue(m, 'intent_gate_held_bytes') ?? Infinity) <= 3 * compact, 'the held bytes are the compact bodies')

  await redis.cli('DEL', 'intent-gate:{default}:upgrade')
  const answers = await Promise.all(held)
  t.same(answers.map((a) => a.status), [202, 202, 202], 'the held three are admitted when the upgrade ends')
})
