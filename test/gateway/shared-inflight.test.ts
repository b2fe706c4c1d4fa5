// Three gateway instances on one Redis count inflight intents exactly: every instance reports the same count
// (admin API and /metrics) whichever instance admitted them, and the count falls to zero as they settle.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, metricValue, request, startGateway, startService } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

t.test('inflight count is exact across three instances sharing one Redis', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  // A long reconcile interval: nothing ends during the counting phase.
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 })
  const gateways = await Promise.all([0, 1, 2].map(async () => await startGateway(t, { config })))

  const signer = makeSigner()
  const answers = await Promise.all(Array.from({ length: 150 }, async (_, i) =>
    await request(`${(gateways[i % 3] as typeof gateways[number]).proxyUrl}/intents`, { body: signIntentV1(signer) })))
  t.same([...new Set(answers.map((a) => a.status))], [202], 'all admitted')
  t.equal((await blue.stats()).accepted, 150)

  for (const gw of gateways) {
    const status = await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')
    t.equal(status.body.inflight_settlements, 150, 'every instance sees the same exact count')
    const list = await gw.admin<Array<{ id: string | null }>>('GET', '/admin/inflight')
    t.equal(list.body.length, 150)
    t.equal(new Set(list.body.map((r) => r.id)).size, 150, 'every record is bound to its intent id')
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
    t.equal(metricValue(metrics, 'inflight_settlements'), 150)
  }

  // Ending ten through instance 0's admin API is seen by the other two at once.
  const ids = (await (gateways[0] as typeof gateways[number]).admin<Array<{ id: string }>>('GET', '/admin/inflight')).body.slice(0, 10).map((r) => r.id)
  for (const id of ids) {
    const done = await (gateways[0] as typeof gateways[number]).admin('POST', `/admin/inflight/${encodeURIComponent(id)}/complete`, { status: 'settled' })
    t.equal(done.status, 200)
  }
  for (const gw of gateways) {
    t.equal((await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements, 140)
  }
})

t.test('concurrent submissions of the same intents through three instances count each intent once', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const config = gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 })
  const gateways = await Promise.all([0, 1, 2].map(async () => await startGateway(t, { config })))
  const signer = makeSigner()
  const intents = Array.from({ length: 50 }, () => signIntentV1(signer))
  // Each intent sent to all three instances at once: one admission, the others 409 (in progress) or a replay.
  const answers = await Promise.all(intents.flatMap((intent) => gateways.map(async (gw) => await request(`${gw.proxyUrl}/intents`, { body: intent }))))
  t.ok(answers.every((a) => a.status === 202 || a.status === 409), 'only 202 and 409 answers')
  t.equal((await blue.stats()).accepted, 50, 'each intent reached the upstream once')
  t.equal((await blue.stats()).duplicates, 0)
  const counts = await Promise.all(gateways.map(async (gw) => (await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements))
  t.same(counts, [50, 50, 50])
})
