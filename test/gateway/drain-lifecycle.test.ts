// A drain from start to `drained`: started through the admin API with a deadline and a reason, refusing new
// intents with a Retry-After bounded by that deadline, `draining` while intents are inflight, `drained` once the last
// one settles, and `active` again after stop. The design's metrics follow.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, metricValue, request, startGateway, startService, waitFor } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

interface DrainStatus {
  mode: string
  inflight_settlements: number
  pending_ibc_packets: number
  oldest_inflight_age_secs: number | null
  started_at: number | null
  deadline: number | null
  reason: string | null
}

t.test('a drain ends in drained once the last intent settles', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 100 }) })
  const signer = makeSigner()
  const status = async (): Promise<DrainStatus> => (await gw.admin<DrainStatus>('GET', '/admin/drain/status')).body
  const scrape = async (): Promise<string> => await (await fetch(`${gw.adminUrl}/metrics`)).text()

  t.same(await status(), {
    mode: 'active',
    inflight_settlements: 0,
    pending_ibc_packets: 0,
    oldest_inflight_age_secs: null,
    started_at: null,
    deadline: null,
    reason: null,
    upgrade: null,
    invalid_keys: []
  })
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const a = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
    t.equal(a.status, 202)
    ids.push(a.body.id)
  }

  const started = await gw.admin<DrainStatus>('POST', '/admin/drain/start', { deadline_secs: 120, reason: 'test upgrade' })
  t.equal(started.status, 200)
  t.equal(started.body.mode, 'draining')
  t.equal(started.body.inflight_settlements, 5)
  t.equal(started.body.reason, 'test upgrade')
  t.equal((started.body.deadline ?? 0) - (started.body.started_at ?? 0), 120)
  t.equal(await redis.cli('EXISTS', 'intent-gate:{default}:drain'), '1', 'the same switch as the Redis key')

  const refused = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })
  t.equal(refused.status, 503)
  const retryAfter = Number(refused.headers.get('retry-after'))
  t.equal(retryAfter, 5, 'nothing has settled yet: proxy.drain_retry_after_secs, not the 120 s left to the deadline')
  let metrics = await scrape()
  t.equal(metricValue(metrics, 'upgrade_state'), 1)
  t.equal(metricValue(metrics, 'inflight_settlements'), 5)
  t.equal(Math.floor(metricValue(metrics, 'upgrade_start_time') ?? 0), started.body.started_at)

  // Four settle: still draining. The last settles: drained.
  for (const id of ids.slice(0, 4)) await request(`${blue.url}/sandbox/intents/${id}`, { body: { status: 'settled' } })
  const partly = await waitFor('four to end', async () => { const s = await status(); return s.inflight_settlements === 1 ? s : undefined })
  t.equal(partly.mode, 'draining')
  await request(`${blue.url}/sandbox/intents/${ids[4] as string}`, { body: { status: 'refunded' } })
  const drained = await waitFor('drained', async () => { const s = await status(); return s.mode === 'drained' ? s : undefined })
  t.equal(drained.inflight_settlements, 0)
  t.equal(drained.oldest_inflight_age_secs, null)
  metrics = await scrape()
  t.equal(metricValue(metrics, 'intent_gate_intents_ended_total', 'status="settled",via="reconciler"'), 4)
  t.equal(metricValue(metrics, 'intent_gate_intents_ended_total', 'status="refunded",via="reconciler"'), 1)
  t.equal(metricValue(metrics, 'intent_gate_refusals_total', 'reason="draining"'), 1)

  const stopped = await gw.admin<DrainStatus>('POST', '/admin/drain/stop')
  t.equal(stopped.body.mode, 'active')
  t.equal(await redis.cli('EXISTS', 'intent-gate:{default}:drain'), '0')
  t.equal((await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(signer) })).status, 202, 'accepting again')
  t.equal(metricValue(await scrape(), 'upgrade_state'), 0)
})

t.test('a drain set by hand with a JSON value is reported like one from the API', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0' })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url }) })
  await redis.cli('SET', 'intent-gate:{default}:drain', JSON.stringify({ deadline_secs: 30, reason: 'by hand' }))
  const s = await waitFor('the drain to be seen', async () => {
    const body = (await gw.admin<DrainStatus>('GET', '/admin/drain/status')).body
    return body.mode === 'drained' ? body : undefined
  })
  t.equal(s.reason, 'by hand')
  t.ok(s.started_at !== null, 'the start was recorded')
  t.equal(s.deadline, (s.started_at as number) + 30)
  await redis.cli('SET', 'intent-gate:{default}:active', 'purple')
  const bad = await waitFor('the bad active value to be reported', async () => {
    const body = (await gw.admin<{ invalid_keys: Array<{ key: string, raw: string }> }>('GET', '/admin/drain/status')).body
    return body.invalid_keys.length > 0 ? body.invalid_keys : undefined
  })
  t.same(bad, [{ key: 'active', raw: 'purple' }])
  t.equal((await gw.admin<{ active: string }>('GET', '/admin/upstreams')).body.active, 'blue', 'the last good color stays')
})

t.test('the upgrade key stops admission whatever drain says, and drives mode and upgrade_state', async (t) => {
  const redis = await startRedis(t)
  const blue = await startService(t, { versions: '1.0' })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url }) })
  const key = 'intent-gate:{default}:upgrade'
  const observe = async (phase: string, mode: string): Promise<number | undefined> => {
    await redis.cli('SET', key, JSON.stringify({ id: 'u-test', phase }))
    const s = await waitFor(`mode ${mode} in phase ${phase}`, async () => {
      const body = (await gw.admin<DrainStatus & { upgrade: { id: string, phase: string } | null }>('GET', '/admin/drain/status')).body
      return body.upgrade?.phase === phase ? body : undefined
    })
    t.equal(s.mode, mode, `phase ${phase} reads as ${mode}`)
    return metricValue(await (await fetch(`${gw.adminUrl}/metrics`)).text(), 'upgrade_state')
  }
  t.equal(await observe('draining', 'drained'), 1, 'nothing inflight: drained, upgrade_state 1')
  t.equal(await observe('migrating', 'upgrading'), 2)
  const refused = await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })
  t.equal(refused.status, 503, 'no admission while an upgrade runs')
  t.equal(refused.body.type, 'urn:intent-gate:problem:draining')
  t.equal(await observe('resuming', 'resuming'), 2)
  t.equal(await observe('rolling_back', 'upgrading'), 3)
  t.equal(await observe('failed', 'upgrading'), 4)
  await redis.cli('DEL', key)
  await waitFor('active again', async () => ((await gw.admin<DrainStatus>('GET', '/admin/drain/status')).body.mode === 'active' ? true : undefined))
  t.equal((await request(`${gw.proxyUrl}/intents`, { body: signIntentV1(makeSigner()) })).status, 202)
  t.equal(metricValue(await (await fetch(`${gw.adminUrl}/metrics`)).text(), 'upgrade_state'), 0)
})
