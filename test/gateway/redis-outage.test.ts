// Redis killed and restarted under load: submissions are refused with 503 + Retry-After while it is gone (fail
// closed), /readyz says so, the gateway recovers by itself, and nothing was forwarded uncounted: what the upstream
// accepted equals the inflight records the gateway holds.
import t from 'tap'
import { startRedis } from '../helpers/redis.js'
import { gatewayToml, metricValue, request, startGateway, startService, waitFor, type Answer } from '../helpers/gateway.js'
import { makeSigner, signIntentV1 } from '../../sandbox/client/index.js'

t.test('Redis killed and restarted under load', async (t) => {
  // AOF with fsync always: a SIGKILL loses no acknowledged admission.
  const redis = await startRedis(t, { persistence: true })
  const blue = await startService(t, { versions: '1.0', settleMs: 600_000 })
  const gw = await startGateway(t, { config: gatewayToml({ redisUrl: redis.url, blue: blue.url, reconcileIntervalMs: 600_000 }) })
  const signer = makeSigner()

  const answers: Array<Answer & { phase: string }> = []
  let phase = 'before'
  const load = { running: true }
  const worker = async (): Promise<void> => {
    while (load.running) {
      const intent = signIntentV1(signer)
      try {
        answers.push({ ...await request(`${gw.proxyUrl}/intents`, { body: intent }), phase })
      } catch (err) {
        t.fail(`a submission failed at the transport level: ${String(err)}`)
      }
    }
  }
  const workers = Array.from({ length: 8 }, worker)
  const count = (p: string, status: number): number => answers.filter((a) => a.phase === p && a.status === status).length

  await waitFor('load before the outage', async () => (count('before', 202) >= 100 ? true : undefined))
  await redis.kill()
  phase = 'down'
  await waitFor('refusals while Redis is down', async () => (count('down', 503) >= 50 ? true : undefined))
  const ready = await fetch(`${gw.adminUrl}/readyz`)
  t.equal(ready.status, 503, '/readyz reports the store')
  t.match(await ready.text(), /store/)
  const upstreams = await gw.admin<{ store: string, upstreams: Array<{ color: string, healthy: boolean, inflight: number | null }> }>('GET', '/admin/upstreams')
  t.equal(upstreams.status, 200, 'upstream health is still shown')
  t.match(upstreams.body, { store: 'unavailable', upstreams: [{ color: 'blue', healthy: true, inflight: null }] })
  const drain = await gw.admin<{ type: string }>('GET', '/admin/drain/status')
  t.equal(drain.status, 503, 'the drain status needs the store')
  t.equal(drain.body.type, 'urn:intent-gate:problem:store-unavailable')
  t.match(drain.headers.get('retry-after'), /^[1-9][0-9]*$/)

  await redis.restart()
  phase = 'after'
  await waitFor('recovery after Redis returns', async () => (count('after', 202) >= 100 ? true : undefined), 20_000)
  load.running = false
  await Promise.all(workers)
  t.equal((await fetch(`${gw.adminUrl}/readyz`)).status, 200, '/readyz recovers')

  const statuses = [...new Set(answers.map((a) => a.status))].sort()
  t.same(statuses, [202, 503], 'only admissions and 503 refusals')
  const refusals = answers.filter((a) => a.status === 503)
  const bad = refusals.filter((a) => !/^[1-9][0-9]*$/.test(a.headers.get('retry-after') ?? '') || a.headers.get('content-type') !== 'application/problem+json')
  t.equal(bad.length, 0, 'every 503 has an integer Retry-After and is problem+json')
  t.ok(refusals.every((a) => a.body.type === 'urn:intent-gate:problem:store-unavailable'), 'refused as store-unavailable')

  const accepted = (await blue.stats()).accepted
  const admitted = answers.filter((a) => a.status === 202).length
  const inflight = (await gw.admin<{ inflight_settlements: number }>('GET', '/admin/drain/status')).body.inflight_settlements
  t.comment(`answers ${answers.length}: admitted ${admitted}, refused ${refusals.length}; upstream accepted ${accepted}; inflight ${inflight}`)
  t.equal(inflight, accepted, 'every intent the upstream accepted is counted inflight')
  t.equal(admitted, accepted, 'the client was told 202 for exactly what the upstream accepted')
  const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  t.equal(metricValue(metrics, 'intent_gate_requests_total', 'route="submit",status="202",version="1.0"'), admitted)
  t.ok((metricValue(metrics, 'intent_gate_refusals_total', 'reason="store_unavailable"') ?? 0) >= 50)
})
